from __future__ import annotations

import pytest

from openiop.patients.actions import do_add_support_contact
from openiop.patients.models import SupportContact
from openiop.testing.fixtures import make_patient


@pytest.fixture(autouse=True)
def _private_store(settings, tmp_path):
    """Signed PDFs and revocation uploads go to a per-test folder, never the checkout's var/."""
    settings.VAR_DIR = tmp_path


@pytest.fixture
def contact(patient) -> SupportContact:
    return do_add_support_contact(patient, acting_user=None, name="Sam Rivera", relationship="sibling")


@pytest.fixture
def sud_patient(clinic):
    """A patient admitted to the substance-use program: their records are 42 CFR Part 2 records."""
    return make_patient(clinic, clinic.su, legal_first_name="Casey", legal_last_name="Morgan")


@pytest.fixture
def sud_contact(sud_patient) -> SupportContact:
    return do_add_support_contact(sud_patient, acting_user=None, name="Robin Morgan", relationship="partner")
