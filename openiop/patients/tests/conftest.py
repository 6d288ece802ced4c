"""Fixtures for the patient screens: one patient with a coverage, a contact and an admitted episode."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from openiop.accounts.models import User
from openiop.patients.actions import do_add_coverage, do_add_support_contact
from openiop.patients.models import Coverage, EpisodeOfCare, SupportContact
from openiop.programs.models import Program
from openiop.testing.fixtures import Clinic, staff


@pytest.fixture
def coverage(patient) -> Coverage:
    return do_add_coverage(
        patient,
        acting_user=None,
        priority=1,
        payer_kind="commercial",
        payer_name="Blue Shield",
        member_id="BS-123456",
        effective_from=date(2026, 1, 1),
    )


@pytest.fixture
def contact(patient) -> SupportContact:
    return do_add_support_contact(
        patient,
        acting_user=None,
        name="Sam Rivera",
        relationship="sibling",
        phone="555-0199",
        involved_in_treatment=True,
    )


@pytest.fixture
def episode(patient) -> EpisodeOfCare:
    return patient.episodes.get()


@pytest.fixture
def outsider_as(clinic: Clinic) -> Callable[[str], User]:
    """Someone with the given role in the same organization but another program (teen)."""
    made: dict[str, User] = {}

    def make(role: str) -> User:
        if role not in made:
            made[role] = staff(clinic.org, f"outsider_{role}", role, [clinic.teen])
        return made[role]

    return make


@pytest.fixture
def stranger_as(clinic: Clinic) -> Callable[[str], User]:
    """Someone with the given role in another organization."""
    made: dict[str, User] = {}
    program = Program.objects.get(site__organization=clinic.other_org)

    def make(role: str) -> User:
        if role not in made:
            made[role] = staff(clinic.other_org, f"stranger_{role}", role, [program])  # type: ignore[arg-type]
        return made[role]

    return make


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The clinic creates a dozen staff; Argon2 makes each of them cost a noticeable fraction of a second.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
