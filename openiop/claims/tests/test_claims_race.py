"""Claims under real concurrency (threads, each with its own connection; SQLite and PostgreSQL): two builds of the
same period bill each day once, and two exports at once never share a control number."""

from __future__ import annotations

from datetime import date
from functools import partial

import pytest

from openiop.claims import actions
from openiop.claims.models import Claim, ClaimLine, X12File
from openiop.testing.claims import billable_days, billed_episode, set_up_billing, weekdays
from openiop.testing.fixtures import build_clinic
from openiop.testing.threads import together

pytestmark = pytest.mark.django_db(transaction=True)
MONTH = (date(2026, 11, 1), date(2026, 11, 30))


def test_two_builds_at_once_bill_each_day_once_and_two_exports_get_their_own_numbers():
    clinic = build_clinic()
    payer = set_up_billing(clinic)
    episodes = [billed_episode(clinic, payer, name) for name in ("Jordan", "Casey")]
    for episode in episodes:
        billable_days(episode, weekdays(date(2026, 11, 2), 4))

    def build() -> int:
        result = actions.do_build_claims(
            acting_user=clinic.billing, program=clinic.mh, payer=payer, start=MONTH[0], end=MONTH[1]
        )
        return len(result.created)

    made = together([build, build])
    assert sum(made) == 2  # one claim per episode, whichever build made it
    assert ClaimLine.objects.filter(released=False).count() == 8  # every day on exactly one claim line
    assert sorted(Claim.objects.values_list("number", flat=True)) == [1, 2]

    first, second = Claim.objects.order_by("number")

    def export(claim: Claim) -> int:
        file = actions.do_export_claims([claim], acting_user=clinic.billing, organization=clinic.org).file
        return file.interchange_control_number or 0

    numbers = together([partial(export, first), partial(export, second)])
    assert sorted(numbers) == [1, 2]
    assert sorted(n or 0 for n in X12File.objects.values_list("group_control_number", flat=True)) == [1, 2]
