"""Who may open a family page: anonymous, staff, a patient login, another patient's family, and the pages' audit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.family.actions import do_create_material
from openiop.patients.actions import do_add_support_contact
from openiop.testing.family import family_account, family_release, patient_account
from openiop.testing.fixtures import make_patient

PAGES = ["family:home", "family:schedule", "family:attendance", "family:education", "family:plan", "family:measures"]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_are_sent_to_the_portal_login(client, clinic, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
    assert "next=" in response["Location"]


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("who", ["clinician", "director", "frontdesk", "sysadmin", "stranger"])
def test_staff_get_404(client, clinic, name, who):
    assert login(client, clinic.people[who]).get(reverse(name)).status_code == 404


@pytest.mark.parametrize("name", PAGES)
def test_a_patient_login_gets_403(client, clinic, patient, contact, name):
    family_release(patient, clinic.clinician, contact, ["schedule", "attendance", "education", "measures"])
    me = patient_account(patient)
    assert login(client, me.user).get(reverse(name)).status_code == 403


def test_a_deactivated_family_login_gets_404(client, clinic, patient, contact, account):
    family_release(patient, clinic.clinician, contact)
    account.is_active = False
    account.save(update_fields=["is_active"])
    assert login(client, account.user).get(reverse("family:home")).status_code == 404


def test_a_family_member_never_reaches_another_patients_record(client, clinic, patient, contact, account):
    other = make_patient(clinic, clinic.teen, legal_first_name="Riley", legal_last_name="Stone")
    other_contact = do_add_support_contact(other, acting_user=None, name="Pat Stone", relationship="parent")
    family_release(other, clinic.director, other_contact, program=clinic.teen)
    family_account(other, other_contact, username="pat")
    theirs = do_create_material(clinic.teen, acting_user=clinic.director, title="Teen brains", summary="For parents.")
    family_release(patient, clinic.clinician, contact)
    mine = do_create_material(clinic.mh, acting_user=clinic.clinician, title="Depression basics", summary="What helps.")
    login(client, account.user)
    assert client.get(reverse("family:material", args=[mine.public_id])).status_code == 200
    assert client.get(reverse("family:material", args=[theirs.public_id])).status_code == 404
    page = client.get(reverse("family:education")).content.decode()
    assert "Depression basics" in page and "Teen brains" not in page
    for name in PAGES:
        assert "Riley" not in client.get(reverse(name)).content.decode()


def test_a_removed_contact_sees_nothing_even_under_an_active_release(client, clinic, patient, contact, account):
    """A contact deactivated on the patient's record loses the login itself (portal.access.account_for): every
    family page answers 404, as for any outsider, whatever the release says."""
    family_release(patient, clinic.clinician, contact)
    login(client, account.user)
    assert client.get(reverse("family:schedule")).status_code == 200
    contact.is_active = False
    contact.save(update_fields=["is_active"])
    assert client.get(reverse("family:home")).status_code == 404
    assert client.get(reverse("family:schedule")).status_code == 404


def test_every_family_page_view_is_audited_with_the_consent_used(client, clinic, patient, contact, account):
    release = family_release(patient, clinic.clinician, contact, ["schedule"])
    login(client, account.user)
    before = AuditEvent.objects.count()
    client.get(reverse("family:home"))
    client.get(reverse("family:schedule"))
    client.get(reverse("family:attendance"))  # not named: refused, and audited too
    rows = list(AuditEvent.objects.order_by("chain_index")[before:])
    assert [(r.action, r.actor_id, r.patient_id) for r in rows] == [
        (AuditAction.RECORD_VIEWED, account.user_id, patient.pk)
    ] * 3
    assert [(r.object_type, r.object_id, r.changed_fields) for r in rows] == [
        ("consent", str(release.public_id), ["home"]),
        ("consent", str(release.public_id), ["schedule"]),
        ("family_page", "", ["attendance", "not_shared"]),
    ]


def test_the_nothing_shared_home_is_audited_without_a_consent(client, clinic, patient, account):
    login(client, account.user)
    response = client.get(reverse("family:home"))
    assert response.status_code == 200
    row = AuditEvent.objects.order_by("-chain_index").first()
    assert row is not None and row.actor_id == account.user_id and row.patient_id == patient.pk
    assert (row.object_type, row.changed_fields) == ("family_page", ["home", "not_shared"])
