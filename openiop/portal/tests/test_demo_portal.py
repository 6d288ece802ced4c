"""The demo's portal login: made through the invitation actions for an active adult mental-health patient,
idempotent, and it signs in at the portal."""

from __future__ import annotations

from datetime import date

from django.urls import reverse

from openiop.core.audit import verify_chain
from openiop.core.models import AuditEvent
from openiop.demo.clinic import DEMO_PASSWORD, build_demo_clinic
from openiop.demo.portal import DEMO_USERNAME, demo_login_line, ensure_demo_portal
from openiop.portal.models import AccountKind, Invitation, PortalAccount

TODAY = date(2026, 3, 9)


def test_the_demo_patient_logs_in_to_the_portal(db, client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    org = build_demo_clinic(TODAY).organization
    account = ensure_demo_portal(org, TODAY)
    assert account is not None
    assert (account.kind, account.user.username) == (AccountKind.PATIENT, DEMO_USERNAME)
    episode = account.patient.episodes.get(status="active")
    assert (episode.program.focus, episode.program.population) == ("mental_health", "adult")
    assert Invitation.objects.get().accepted_at is not None
    assert verify_chain() == []
    assert DEMO_USERNAME in demo_login_line(org, 9)

    events = AuditEvent.objects.count()
    assert ensure_demo_portal(org, TODAY) == account
    assert (PortalAccount.objects.count(), AuditEvent.objects.count()) == (1, events)

    response = client.post(reverse("portal:login"), {"username": DEMO_USERNAME, "password": DEMO_PASSWORD})
    assert response["Location"] == reverse("portal:home")
