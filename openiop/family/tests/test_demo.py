"""The demo family login: a release naming the family set, materials, booked family sessions; idempotent."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core.audit import verify_chain
from openiop.core.models import AuditEvent
from openiop.demo.clinic import DEMO_PASSWORD, ensure_demo_clinic, seed_demo_records
from openiop.demo.family import USERNAME, demo_login_lines, ensure_demo_family
from openiop.demo.scheduling import ensure_demo_schedule
from openiop.family.models import EducationMaterial
from openiop.portal.models import PortalAccount


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_demo_family_login_sees_the_family_set_and_a_second_run_changes_nothing(demo_clinic):
    today = timezone.localdate()
    demo = ensure_demo_clinic(today)
    org = demo.organization
    ensure_demo_schedule(org, today)
    seed_demo_records(org, today)
    account = PortalAccount.objects.select_related("user", "patient", "contact").get(user__username=USERNAME)
    assert account.kind == "family" and account.user.organization_id is None and account.user.role == ""
    assert account.user.check_password(DEMO_PASSWORD)
    assert not account.patient.episodes.filter(program__focus="substance_use").exists()
    assert EducationMaterial.objects.filter(program__site__organization=org, is_active=True).count() == 3
    assert account.contact is not None and account.contact.name in demo_login_lines()[0]

    # The family part of a second run adds nothing (the whole second run is attendance's demo-history test).
    rows = AuditEvent.objects.count()
    assert ensure_demo_family(org, today) == 0
    assert AuditEvent.objects.count() == rows
    assert User.objects.filter(username=USERNAME).count() == 1
    assert verify_chain() == []

    client = Client()
    client.force_login(account.user)  # the portal login page is the portal app's
    for page in ("schedule", "attendance", "education"):
        assert client.get(reverse(f"family:{page}")).status_code == 200, page
    schedule = client.get(reverse("family:schedule")).content.decode()
    assert "Family session" in schedule and "4:30 PM" in schedule
    assert client.get(reverse("family:measures")).status_code == 403
