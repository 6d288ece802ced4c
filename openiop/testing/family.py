"""Test factories: a family portal login for a support contact, and a release to that contact through the real
consent action. Portal logins are made the way portal invitations make them: a user with no organization and no
role, plus a ``PortalAccount`` of kind family."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from openiop.accounts.models import User
from openiop.consents.models import Consent
from openiop.patients.models import Patient, SupportContact
from openiop.portal.models import AccountKind, PortalAccount
from openiop.testing.consents import record, release_to_contact
from openiop.testing.fixtures import PASSWORD

FAMILY_CLASSES = ("schedule", "attendance", "education")


def family_account(patient: Patient, contact: SupportContact, username: str = "sam") -> PortalAccount:
    user = User.objects.create_user(username=username, password=PASSWORD, first_name=contact.name.split()[0])
    return PortalAccount.objects.create(user=user, kind=AccountKind.FAMILY, patient=patient, contact=contact)


def patient_account(patient: Patient, username: str = "jordan") -> PortalAccount:
    user = User.objects.create_user(username=username, password=PASSWORD)
    return PortalAccount.objects.create(user=user, kind=AccountKind.PATIENT, patient=patient)


def family_release(
    patient: Patient,
    user: User,
    contact: SupportContact,
    classes: Sequence[str] = FAMILY_CLASSES,
    *,
    expires_on: date | None = None,
    **fields: Any,
) -> Consent:
    """A release of information to ``contact`` naming ``classes``, for treatment, until discharge (or a date)."""
    if expires_on is not None:
        fields.update(expiry_kind="date", expires_on=expires_on, expiry_event="")
    return release_to_contact(patient, user, contact, data_classes=list(classes), **fields)


def part2_to_contact(
    patient: Patient, user: User, contact: SupportContact, classes: Sequence[str] = FAMILY_CLASSES, **fields: Any
) -> Consent:
    """A 42 CFR Part 2 consent naming the contact (what a substance-use program's family access needs)."""
    values: dict[str, Any] = {
        "information_description": "My family-session schedule, whether I attend, and the program's materials.",
        "data_classes": list(classes),
        "recipient_kind": "support_contact",
        "recipient_contact": contact,
        "purposes": ["treatment"],
        "expiry_kind": "event",
        "expiry_event": "Discharge from the program",
        "redisclosure_form": "short",
    }
    values.update(fields)
    return record(patient, user, "part2", **values)
