"""The demo's portal login: made through the invitation actions for an active adult mental-health patient, and it
signs in at the portal (a second run adding nothing is core's demo test)."""

from __future__ import annotations

from django.urls import reverse

from openiop.core.audit import verify_chain
from openiop.demo.clinic import DEMO_PASSWORD
from openiop.demo.portal import DEMO_USERNAME, demo_login_line
from openiop.portal.models import AccountKind, Invitation, PortalAccount


def test_the_demo_patient_logs_in_to_the_portal(seeded_demo, client):
    org = seeded_demo.organization
    account = seeded_demo.seeded["portal"]
    assert isinstance(account, PortalAccount)
    assert (account.kind, account.user.username) == (AccountKind.PATIENT, DEMO_USERNAME)
    episode = account.patient.episodes.get(status="active")
    assert (episode.program.focus, episode.program.population) == ("mental_health", "adult")
    assert Invitation.objects.get(kind=AccountKind.PATIENT, patient=account.patient).accepted_at is not None
    assert verify_chain() == []
    assert DEMO_USERNAME in demo_login_line(org, 9)

    response = client.post(reverse("portal:login"), {"username": DEMO_USERNAME, "password": DEMO_PASSWORD})
    assert response["Location"] == reverse("portal:home")
