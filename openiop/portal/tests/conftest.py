"""Fixtures for the portal tests: patients admitted a week ago (so booking dates never age out), their portal
logins made through the real invitation actions, a family login, and a real local SMTP server."""

from __future__ import annotations

from typing import Any

import pytest

from openiop.patients.actions import do_add_support_contact
from openiop.portal.actions import do_accept_invitation, do_invite_contact, do_invite_patient
from openiop.portal.models import PortalAccount
from openiop.testing.fixtures import PASSWORD, Clinic
from openiop.testing.scheduling import admit

PORTAL_PASSWORD = "a long portal passphrase 2026"


def portal_login(patient: Any, *, by: Any, username: str) -> PortalAccount:
    invitation, _ = do_invite_patient(patient, acting_user=by)
    return do_accept_invitation(invitation, username=username, password=PORTAL_PASSWORD)


def family_login(patient: Any, *, by: Any, username: str, name: str = "Alex Rivera") -> PortalAccount:
    contact = do_add_support_contact(
        patient, acting_user=by, name=name, relationship="partner", email=f"{username}@example.org"
    )
    invitation, _ = do_invite_contact(contact, acting_user=by)
    return do_accept_invitation(invitation, username=username, password=PORTAL_PASSWORD)


@pytest.fixture
def episode(clinic: Clinic):
    """Jordan, admitted to Adult MH a week ago for twelve weeks."""
    return admit(clinic, "Jordan", email="jordan@example.org")


@pytest.fixture
def other_episode(clinic: Clinic):
    return admit(clinic, "Morgan", legal_last_name="Lee", email="morgan@example.org")


@pytest.fixture
def account(clinic: Clinic, episode) -> PortalAccount:
    return portal_login(episode.patient, by=clinic.frontdesk, username="jordan")


@pytest.fixture
def other_account(clinic: Clinic, other_episode) -> PortalAccount:
    return portal_login(other_episode.patient, by=clinic.frontdesk, username="morgan")


@pytest.fixture
def family(clinic: Clinic, episode) -> PortalAccount:
    return family_login(episode.patient, by=clinic.frontdesk, username="alex")


__all__ = ["PASSWORD", "PORTAL_PASSWORD", "family_login", "portal_login"]
