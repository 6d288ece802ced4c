"""Factories of the medication list, through its actions (audited, validated) as the app writes them."""

from __future__ import annotations

from typing import Any

from openiop.accounts.models import User
from openiop.medications.actions import do_add_medication
from openiop.medications.models import Medication
from openiop.patients.models import EpisodeOfCare


def add_medication(episode: EpisodeOfCare, user: User, key: str = "", **fields: Any) -> Medication:
    """A medication of the episode's patient: from the formulary (``key``) or, without one, entered free."""
    if not key:
        fields.setdefault("name", "Something typed")
    return do_add_medication(episode.patient, acting_user=user, episode=episode, formulary_key=key, **fields)


def part2_to_provider(patient: Any, user: User, organization: str, program: Any) -> Any:
    """A Part 2 consent naming an outside provider (a MOUD prescriber's practice, an OTP) for the patient's
    medications, for treatment, until discharge."""
    from openiop.consents.models import ExpiryKind, RecipientKind
    from openiop.testing.consents import part2_tpo

    return part2_tpo(
        patient, user, program=program, recipient_kind=RecipientKind.OUTSIDE_PROVIDER,
        recipient_organization=organization, data_classes=["medications"], purposes=["treatment"],
        expiry_kind=ExpiryKind.EVENT, expiry_event="Discharge from the program",
    )  # fmt: skip
