"""The ``money`` filter the claims and ledger pages print amounts with."""

from decimal import Decimal

import pytest

from openiop.claims.templatetags.money import money


@pytest.mark.parametrize(
    ("value", "shown"),
    [(Decimal("2200"), "$2,200.00"), (Decimal("-2200"), "-$2,200.00"), (Decimal("0.005"), "$0.01"),
     (Decimal("-0.5"), "-$0.50"), (1350, "$1,350.00"), (None, ""), ("", ""), ("not money", "")],
)  # fmt: skip
def test_money_prints_dollars_with_the_sign_first(value, shown):
    assert money(value) == shown
