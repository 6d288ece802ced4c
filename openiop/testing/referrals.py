"""Test helpers for referrals: slots and referrals made through the real actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from openiop.programs.models import Program
from openiop.referrals.actions import do_create_referral
from openiop.referrals.booking import do_publish_slot
from openiop.referrals.models import IntakeSlot, Referral
from openiop.testing.scheduling import local_at

DETAILS = {
    "first_name": "Casey",
    "last_name": "Fictional",
    "phone": "555-0177",
    "email": "casey@example.org",
    "preferred_contact": Referral.Contact.EMAIL,
    "payer_kind": "commercial",
    "payer_name": "Example Health Plan",
    "member_id": "EX123456",
}


def make_slot(program: Program, days_ahead: int = 2, hour: int = 10, *, minutes: int = 60, **fields: Any) -> IntakeSlot:
    starts = local_at(program, days_ahead, hour)
    return do_publish_slot(
        acting_user=None, program=program, starts_at=starts, ends_at=starts + timedelta(minutes=minutes), **fields
    )


def make_referral(clinic: Any, **fields: Any) -> Referral:
    """A therapist's referral to Adult MH (pass program=None for one still in the triage pool)."""
    from datetime import date

    values: dict[str, Any] = {
        "source": Referral.Source.THERAPIST,
        "program": clinic.mh,
        "first_name": "Robin",
        "last_name": "Example",
        "date_of_birth": date(1988, 6, 1),
        "phone": "555-0150",
        "email": "robin@example.org",
        "referrer_name": "Dr. Pat Sample",
        "referrer_organization": "Sample Counseling",
    }
    values.update(fields)
    return do_create_referral(acting_user=clinic.intake, organization=clinic.org, **values)
