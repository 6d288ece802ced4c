"""The demo clinic's eligibility checks, so the Insurance tab of a few patients shows a payer's answer.

The billing office asks about the primary coverage of the first three admitted patients (in registration order)
whose payer has a payer id, and the payer's 271 comes back from ``openiop.lib.x12.simulate.answer_270``, which
answers our own 270 as a payer would: the first active with a $25 copay and 18 visits left, the second active with a
$40 copay and a $500 deductible, the third inactive. A coverage the 270 cannot be written for (a subscriber without a
full name, say) is passed over for the next one.

Idempotent: an organization that already has an eligibility check is left alone.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.claims.eligibility import do_record_response, do_request_eligibility
from openiop.claims.eligibility_models import EligibilityCheck
from openiop.core.roles import Role
from openiop.lib.x12.simulate import answer_270
from openiop.patients.models import Coverage, EpisodeOfCare
from openiop.programs.models import Organization

ANSWERS: list[dict[str, Any]] = [
    {"active": True, "copay": "25", "visits": 18, "message": "Copay applies per IOP day"},
    {"active": True, "copay": "40", "deductible": "500"},
    {"active": False},
]
FIRST_NUMBER = 8001  # the payer's interchange numbers, apart from the demo clearinghouse's 7001, 7002


@transaction.atomic
def ensure_demo_eligibility(organization: Organization, today: date) -> dict[str, int] | None:
    if EligibilityCheck.objects.filter(organization=organization).exists():
        return None
    billing = User.objects.filter(organization=organization, role=Role.BILLING).order_by("pk").first()
    if billing is None:
        return None
    admitted = EpisodeOfCare.objects.filter(status=EpisodeOfCare.Status.ACTIVE).values("patient_id")
    coverages = (
        Coverage.objects.filter(
            patient__organization=organization,
            patient__in=admitted,
            is_active=True,
            priority=Coverage.Priority.PRIMARY,
            payer__isnull=False,
        )
        .exclude(payer__payer_id="")
        .select_related("patient__home_program", "payer")
        .order_by("patient_id", "pk")
    )
    answered = 0
    for coverage in coverages:
        if answered == len(ANSWERS):
            break
        try:
            check = do_request_eligibility(coverage, acting_user=billing)
        except ValidationError:
            continue
        text = answer_270(
            check.request_file.content,
            at=timezone.now(),
            number=FIRST_NUMBER + answered,
            plan=f"{coverage.payer_name} IOP plan"[:60],
            group=coverage.group_number,
            coverage_from=today.replace(month=1, day=1),
            coverage_to=today.replace(month=12, day=31),
            **ANSWERS[answered],
        )
        do_record_response(check, text, acting_user=billing)
        answered += 1
    return {"answered": answered} if answered else None
