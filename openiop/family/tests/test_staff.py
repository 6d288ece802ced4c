"""Staff side: the chart's Family access tab (who has a family login, what each sees now, their page views) and
the education materials pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.conftest import login
from openiop.consents.actions import do_revoke_consent
from openiop.core.models import AuditAction, AuditEvent
from openiop.family.actions import do_create_material
from openiop.family.models import EducationMaterial
from openiop.family.queries import HIDDEN_REASON
from openiop.patients.actions import do_add_support_contact, do_open_episode
from openiop.testing.family import family_account, family_release, part2_to_contact

HTMX = {"HTTP_HX_REQUEST": "true"}


def _tab(patient) -> str:
    return reverse("patients:chart_tab", args=[patient.public_id, "family"])


@pytest.mark.parametrize("who", ["clinician", "frontdesk", "billing", "auditor", "director"])
def test_program_staff_open_the_family_access_tab(client, clinic, patient, who):
    assert login(client, clinic.people[who]).get(_tab(patient), **HTMX).status_code == 200


def test_sysadmins_get_403_and_outsiders_404_on_the_tab(client, clinic, patient):
    assert login(client, clinic.sysadmin).get(_tab(patient), **HTMX).status_code == 403
    for who in ("outsider", "stranger"):
        client.logout()
        assert login(client, clinic.people[who]).get(_tab(patient), **HTMX).status_code == 404


def test_the_tab_shows_what_each_family_login_sees_now_and_what_they_opened(client, clinic, patient, contact, account):
    release = family_release(patient, clinic.clinician, contact, ["schedule", "attendance"])
    login(client, account.user)
    client.get(reverse("family:schedule"))
    client.get(reverse("family:plan"))
    client.logout()
    html = login(client, clinic.frontdesk).get(_tab(patient), **HTMX).content.decode()
    assert "Sam Rivera" in html and "sam" in html
    rows = html.split('class="family-share')
    shared = [r for r in rows[1:] if r.startswith(" table-success")]
    assert [r.split("<td>")[1].split("</td>")[0] for r in shared] == ["Family sessions", "Attendance"]
    assert reverse("consents:detail", args=[release.public_id]) in html
    views = html.split('id="family-views"')[1]
    assert "<td>Family sessions</td><td>Shown</td>" in views
    assert "<td>Treatment goals</td><td>Not shared</td>" in views
    do_revoke_consent(release, acting_user=clinic.frontdesk, statement="Stop.")
    html = client.get(_tab(patient), **HTMX).content.decode()
    assert "Sees nothing now" in html and "revoked on" in html


def test_a_part2_decision_is_shown_without_its_consent_to_staff_outside_the_program(client, clinic, patient, contact):
    """A mental-health patient also in substance-use care: the MH clinician must not learn of the Part 2 consent."""
    do_open_episode(patient, acting_user=None, program=clinic.su, status="waitlist")
    consent = part2_to_contact(patient, clinic.director, contact, ["schedule"], program=clinic.su)
    family_account(patient, contact)
    mh_only = login(client, clinic.clinician).get(_tab(patient), **HTMX).content.decode()
    assert HIDDEN_REASON in mh_only
    assert str(consent.public_id) not in mh_only and "Part 2" not in mh_only
    client.logout()
    both = login(client, clinic.director).get(_tab(patient), **HTMX).content.decode()
    assert str(consent.public_id) in both and HIDDEN_REASON not in both


def test_the_tab_query_count_does_not_grow_with_page_views(client, clinic, patient, contact, account):
    family_release(patient, clinic.clinician, contact)
    login(client, account.user)
    client.get(reverse("family:home"))
    client.logout()
    login(client, clinic.clinician)
    with CaptureQueriesContext(connection) as before:
        client.get(_tab(patient), **HTMX)
    client.logout()
    login(client, account.user)
    for _ in range(5):
        client.get(reverse("family:schedule"))
    client.logout()
    login(client, clinic.clinician)
    with CaptureQueriesContext(connection) as after:
        client.get(_tab(patient), **HTMX)
    assert len(after) == len(before)


# --- Education materials --------------------------------------------------------------------------------------


@pytest.fixture
def material(clinic) -> EducationMaterial:
    return do_create_material(clinic.mh, acting_user=clinic.clinician, title="Depression basics", summary="What helps.")


def _pages(material: EducationMaterial) -> list[str]:
    return [
        reverse("family:materials"),
        reverse("family:material_new"),
        reverse("family:material_edit", args=[material.public_id]),
    ]


@pytest.mark.parametrize("who", ["clinician", "director", "intake", "intern"])
def test_the_clinical_team_manages_materials(client, clinic, material, who):
    login(client, clinic.people[who])
    for url in _pages(material):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who", ["frontdesk", "billing", "auditor", "sysadmin"])
def test_other_roles_get_403_on_materials(client, clinic, material, who):
    login(client, clinic.people[who])
    for url in _pages(material):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("who", ["outsider", "stranger"])
def test_another_programs_material_is_404(client, clinic, material, who):
    login(client, clinic.people[who])
    assert "Depression basics" not in client.get(reverse("family:materials")).content.decode()
    url = reverse("family:material_edit", args=[material.public_id])
    assert client.get(url).status_code == 404
    assert client.post(url, {"title": "Mine now", "summary": "x"}).status_code == 404


def test_anonymous_staff_pages_go_to_the_staff_login(client, material):
    response = client.get(reverse("family:materials"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_material_is_created_edited_and_withdrawn_with_audit_rows(client, clinic, material):
    login(client, clinic.clinician)
    response = client.post(
        reverse("family:material_new"),
        {"program": str(clinic.mh.public_id), "title": "Sleep and mood", "summary": "Why sleep matters.",
         "body": "First.\n\nSecond.", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    created = EducationMaterial.objects.get(title="Sleep and mood")
    assert created.program == clinic.mh and created.created_by == clinic.clinician and created.sequence == 2
    row = AuditEvent.objects.filter(object_type="educationmaterial", object_id=str(created.public_id)).get()
    assert row.action == AuditAction.CREATED and row.actor_id == clinic.clinician.pk
    edit = reverse("family:material_edit", args=[created.public_id])
    assert (
        client.post(edit, {"title": "Sleep and mood", "summary": "Why sleep matters.", "body": ""}).status_code == 302
    )
    created.refresh_from_db()
    assert created.is_active is False and created.body == ""
    updated = AuditEvent.objects.filter(object_id=str(created.public_id), action=AuditAction.UPDATED).get()
    assert set(updated.changed_fields) == {"body", "is_active"}


def test_a_form_with_errors_keeps_what_was_typed(client, clinic, material):
    login(client, clinic.clinician)
    response = client.post(
        reverse("family:material_new"),
        {"program": str(clinic.mh.public_id), "title": "depression BASICS", "summary": "Typed summary",
         "link": "not a link"},
    )  # fmt: skip
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a valid URL" in html and "Typed summary" in html
    response = client.post(
        reverse("family:material_new"),
        {"program": str(clinic.mh.public_id), "title": "depression BASICS", "summary": "Typed summary"},
    )
    html = response.content.decode()
    assert "already has a material with that title" in html and "depression BASICS" in html
    assert EducationMaterial.objects.count() == 1


def test_a_withdrawn_material_leaves_the_family_pages(client, clinic, patient, contact, account, material):
    from openiop.family.actions import do_update_material

    family_release(patient, clinic.clinician, contact, ["education"])
    login(client, account.user)
    assert "Depression basics" in client.get(reverse("family:education")).content.decode()
    do_update_material(material, acting_user=clinic.clinician, is_active=False)
    assert "Depression basics" not in client.get(reverse("family:education")).content.decode()
    assert client.get(reverse("family:material", args=[material.public_id])).status_code == 404


def test_a_second_contact_without_a_login_is_not_listed(client, clinic, patient, contact, account):
    do_add_support_contact(patient, acting_user=None, name="Alex Kim", relationship="friend")
    html = login(client, clinic.clinician).get(_tab(patient), **HTMX).content.decode()
    assert "Sam Rivera" in html and "Alex Kim" not in html
