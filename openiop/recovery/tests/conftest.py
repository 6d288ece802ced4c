"""Fixtures for the recovery tests: a substance-use patient with a portal login, and a second patient."""

from __future__ import annotations

import pytest

from openiop.portal.models import PortalAccount
from openiop.portal.tests.care_support import patient_account
from openiop.testing.fixtures import make_patient


@pytest.fixture
def su_patient(clinic):
    """Avery, admitted to the Adult Substance Use IOP (whose staff here: the director; billing, intake, auditor)."""
    return make_patient(clinic, clinic.su, legal_first_name="Avery", email="avery@example.org")


@pytest.fixture
def account(su_patient) -> PortalAccount:
    return patient_account(su_patient, "avery")
