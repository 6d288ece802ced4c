"""Fixtures for the portal tests: patients admitted a week ago (so booking dates never age out), their portal
logins made through the real invitation actions, a family login, and a real local SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from openiop.patients.actions import do_add_support_contact
from openiop.portal.actions import do_accept_invitation, do_invite_contact, do_invite_patient
from openiop.portal.models import PortalAccount
from openiop.referrals.smtp import Inbox, smtp_server
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


@pytest.fixture
def smtp_inbox(settings) -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on a local port (aiosmtpd), with Django's SMTP backend pointed at it."""
    with smtp_server() as (inbox, port):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        yield inbox, port


__all__ = ["PASSWORD", "PORTAL_PASSWORD", "family_login", "portal_login"]
