"""Two overlapping rates of one key saved at the same moment (two threads, two connections): exactly one is kept.
No portable constraint says "no overlap" (starting on different days, the partial unique constraint does not catch
them), so the action's lock on the organization row must. On SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial

import pytest
from django.core.exceptions import ValidationError

from openiop.billing.actions import do_create_fee_rate
from openiop.billing.models import FeeScheduleRate
from openiop.testing.fixtures import build_clinic
from openiop.testing.threads import together

pytestmark = pytest.mark.django_db(transaction=True)
REPETITIONS = 3


def test_overlapping_rates_saved_at_once_keep_one():
    clinic = build_clinic()

    def save(code: str, start: date) -> str:
        try:
            do_create_fee_rate(
                acting_user=None, organization=clinic.org, code=code, rate=Decimal("100.00"), effective_from=start
            )
        except ValidationError as exc:
            return f"refused: {sorted(exc.message_dict)}"
        return "saved"

    for repetition in range(REPETITIONS):
        code = f"T000{repetition}"
        results = together([partial(save, code, date(2026, 1, 1)), partial(save, code, date(2026, 2, 1))])
        assert sorted(results) == ["refused: ['effective_from']", "saved"], f"repetition {repetition}"
        assert FeeScheduleRate.objects.filter(code=code).count() == 1
