"""The demo family login: a release naming the family set, materials, booked family sessions (a second run adding
nothing is core's demo test)."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from openiop.accounts.models import User
from openiop.core.audit import verify_chain
from openiop.demo.clinic import DEMO_PASSWORD
from openiop.demo.family import USERNAME, demo_login_lines
from openiop.family.models import EducationMaterial
from openiop.portal.models import PortalAccount


def test_the_demo_family_login_sees_the_family_set(seeded_demo):
    org = seeded_demo.organization
    assert seeded_demo.seeded["family"] == 1
    account = PortalAccount.objects.select_related("user", "patient", "contact").get(user__username=USERNAME)
    assert account.kind == "family" and account.user.organization_id is None and account.user.role == ""
    assert account.user.check_password(DEMO_PASSWORD)
    assert not account.patient.episodes.filter(program__focus="substance_use").exists()
    assert EducationMaterial.objects.filter(program__site__organization=org, is_active=True).count() == 3
    assert account.contact is not None and account.contact.name in demo_login_lines()[0]
    assert User.objects.filter(username=USERNAME).count() == 1
    assert verify_chain() == []

    client = Client()
    client.force_login(account.user)  # the portal login page is the portal app's
    for page in ("schedule", "attendance", "education"):
        assert client.get(reverse(f"family:{page}")).status_code == 200, page
    schedule = client.get(reverse("family:schedule")).content.decode()
    assert "Family session" in schedule and "4:30 PM" in schedule
    assert client.get(reverse("family:measures")).status_code == 403
