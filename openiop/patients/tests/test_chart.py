from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.conftest import login
from openiop.core.audit import verify_chain
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import (
    do_add_coverage,
    do_add_support_contact,
    do_change_episode_status,
    do_open_episode,
    do_set_care_team,
    do_set_coverage_active,
    do_set_patient_active,
    do_update_patient,
)
from openiop.patients.tests.helpers import HTMX
from openiop.testing.fixtures import make_patient

TABS = ["demographics", "contacts", "insurance", "episodes", "activity"]


def _chart(patient, tab=""):
    url = reverse("patients:chart", args=[patient.public_id])
    return f"{url}?tab={tab}" if tab else url


def _tab(patient, tab):
    return reverse("patients:chart_tab", args=[patient.public_id, tab])


def test_chart_url_uses_the_public_id(patient):
    assert patient.get_absolute_url() == f"/patients/{patient.public_id}/"


def test_chart_header_shows_who_and_where(client, clinic, patient):
    do_update_patient(patient, acting_user=clinic.director, preferred_name="Jo", pronouns="they/them")
    login(client, clinic.frontdesk)
    body = client.get(_chart(patient)).content.decode()
    for text in (
        "Jo Rivera",
        "(they/them)",
        "Legal name: Jordan Rivera",
        "Apr 12, 1990",
        patient.mrn,
        "Adult Mental Health IOP",
        "Day track",
        "Active",
        "Clinician Tester, LCSW",
        'id="chart-alerts"',
    ):
        assert text in body


def test_the_page_title_carries_no_name(client, clinic, patient):
    login(client, clinic.clinician)
    body = client.get(_chart(patient)).content.decode()
    title = body.split("<title>")[1].split("</title>")[0]
    assert "Rivera" not in title


def test_every_chart_view_writes_chart_viewed(client, clinic, patient):
    login(client, clinic.clinician)
    for _ in range(2):
        before = AuditEvent.objects.count()
        assert client.get(_chart(patient)).status_code == 200
        assert AuditEvent.objects.count() == before + 1
        row = AuditEvent.objects.latest("chain_index")
        assert row.action == AuditAction.CHART_VIEWED
        assert row.patient == patient
        assert row.actor == clinic.clinician
        assert row.object_type == "patient"
        assert row.object_id == str(patient.public_id)
    assert verify_chain() == []


@pytest.mark.parametrize("tab", TABS)
def test_each_tab_fragment_is_audited_as_a_record_view(client, clinic, patient, tab):
    login(client, clinic.clinician)
    before = AuditEvent.objects.count()
    response = client.get(_tab(patient, tab), **HTMX)
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert AuditEvent.objects.count() == before + 1
    row = AuditEvent.objects.latest("chain_index")
    assert (row.action, row.patient, row.object_type) == (AuditAction.RECORD_VIEWED, patient, tab)


@pytest.mark.parametrize("tab", TABS)
def test_each_tab_also_renders_in_the_full_chart(client, clinic, patient, tab):
    login(client, clinic.clinician)
    body = client.get(_chart(patient, tab)).content.decode()
    assert 'aria-current="page"' in body
    assert f'href="{_chart(patient, tab)}"' in body


def test_a_tab_fragment_swaps_the_tab_bar_out_of_band(client, clinic, patient):
    login(client, clinic.clinician)
    body = client.get(_tab(patient, "insurance"), **HTMX).content.decode()
    assert 'id="chart-tabs" hx-swap-oob="true"' in body


def test_a_tab_url_without_htmx_redirects_to_the_chart_without_a_record_view(client, clinic, patient):
    login(client, clinic.clinician)
    before = AuditEvent.objects.count()
    response = client.get(_tab(patient, "activity") + "?page=2")
    assert response.status_code == 302
    assert response["Location"] == f"{patient.get_absolute_url()}?page=2&tab=activity"
    assert AuditEvent.objects.count() == before


def test_tabs_load_with_htmx(client, clinic, patient):
    login(client, clinic.clinician)
    body = client.get(_chart(patient)).content.decode()
    assert f'hx-get="{_tab(patient, "contacts")}"' in body
    assert 'hx-target="#chart-tab"' in body


@pytest.mark.parametrize("name", ["frontdesk", "billing"])
def test_roles_without_clinical_access_do_not_get_the_activity_tab(client, clinic, patient, name):
    login(client, getattr(clinic, name))
    body = client.get(_chart(patient, "activity")).content.decode()
    assert "Record activity" not in body
    assert "Demographics" in body and "Insurance" in body and "Episodes of care" in body
    assert client.get(_tab(patient, "activity"), **HTMX).status_code == 403


@pytest.mark.parametrize("name", ["clinician", "auditor", "director"])
def test_clinical_and_audit_roles_see_record_activity(client, clinic, patient, name):
    login(client, getattr(clinic, name))
    assert "Record activity" in client.get(_chart(patient)).content.decode()


def test_demographics_tab_shows_the_registration_details(client, clinic, patient):
    do_update_patient(
        patient,
        acting_user=clinic.director,
        gender_identity="Woman",
        emergency_contact_name="Kim",
        interpreter_needed=True,
        preferred_language="Spanish",
    )
    login(client, clinic.frontdesk)
    body = client.get(_chart(patient, "demographics")).content.decode()
    for text in ("Woman", "Kim", "555-0142", "jordan@example.org", "Spanish", "Interpreter needed", "Home program"):
        assert text in body


def test_contacts_tab_lists_the_support_network(client, clinic, patient, contact):
    login(client, clinic.frontdesk)
    body = client.get(_tab(patient, "contacts"), **HTMX).content.decode()
    assert "Sam Rivera" in body
    assert "Sibling" in body
    assert "Involved in treatment" in body
    assert reverse("patients:contact_edit", args=[contact.public_id]) in body


def test_insurance_tab_lists_active_and_inactive_coverages_by_priority(client, clinic, patient, coverage):
    secondary = do_add_coverage(
        patient, acting_user=None, priority=2, payer_kind="medicaid", payer_name="State Medicaid", member_id="MCD-1"
    )
    old = do_add_coverage(patient, acting_user=None, priority=3, payer_name="Old Plan", member_id="OLD-1")
    do_set_coverage_active(old, acting_user=clinic.billing, active=False)
    login(client, clinic.billing)
    body = client.get(_tab(patient, "insurance"), **HTMX).content.decode()
    active_part, inactive_part = body.split("Inactive coverage</h3>")
    assert active_part.index("Blue Shield") < active_part.index("State Medicaid")
    assert "Old Plan" in inactive_part and "Old Plan" not in active_part
    assert reverse("patients:coverage_reactivate", args=[old.public_id]) in inactive_part
    assert reverse("patients:coverage_deactivate", args=[secondary.public_id]) in active_part


def test_clinicians_see_coverage_but_no_coverage_buttons(client, clinic, patient, coverage):
    login(client, clinic.clinician)
    body = client.get(_tab(patient, "insurance"), **HTMX).content.decode()
    assert "Blue Shield" in body
    assert reverse("patients:coverage_edit", args=[coverage.public_id]) not in body


def test_episodes_tab_shows_history_dates_reason_and_care_team(client, clinic, patient, episode):
    do_set_care_team(episode, acting_user=clinic.director, members=[(clinic.intern, "therapist")])
    do_change_episode_status(
        episode, acting_user=clinic.director, status="discharged", on_date=date(2026, 11, 20), discharge_reason="4"
    )
    do_open_episode(patient, acting_user=None, program=clinic.mh, status="waitlist", waitlisted_on=date(2026, 11, 21))
    login(client, clinic.frontdesk)
    body = client.get(_tab(patient, "episodes"), **HTMX).content.decode()
    for text in (
        "Waitlist",
        "Discharged",
        "Nov 2, 2026",
        "Nov 20, 2026",
        "Nov 21, 2026",
        "Transferred to another program or level of care",
        "Intern Tester, MSW",
        "(Therapist)",
        "Clinician Tester, LCSW",
        "(Primary clinician)",
    ):
        assert text in body
    assert body.index("Waitlist") < body.index("Discharged")  # newest first


def test_episodes_in_programs_the_user_is_not_in_stay_hidden(client, clinic, patient):
    do_open_episode(patient, acting_user=None, program=clinic.su, admitted_on=date(2026, 11, 3))
    login(client, clinic.clinician)  # Adult MH only
    chart = client.get(_chart(patient, "episodes")).content.decode()
    assert clinic.su.name not in chart
    activity = client.get(_tab(patient, "activity"), **HTMX).content.decode()
    assert activity.count("Episode of care") == 1  # only the MH admission
    login(client, clinic.director)  # both programs
    assert clinic.su.name in client.get(_chart(patient, "episodes")).content.decode()


def test_a_patient_seen_through_an_episode_does_not_reveal_the_home_program(client, clinic):
    patient = make_patient(clinic, clinic.su, admit=False)
    do_open_episode(patient, acting_user=None, program=clinic.mh, admitted_on=date(2026, 11, 3))
    login(client, clinic.clinician)
    body = client.get(_chart(patient)).content.decode()
    assert "Home program" not in body
    assert clinic.su.name not in body


def test_record_activity_lists_who_did_what_with_field_names(client, clinic, patient):
    do_update_patient(patient, acting_user=clinic.frontdesk, phone_mobile="555-0999", pronouns="he/him")
    login(client, clinic.auditor)
    client.get(_chart(patient))
    body = client.get(_tab(patient, "activity"), **HTMX).content.decode()
    assert "Frontdesk Tester" in body
    assert "Updated" in body
    assert "Patient record" in body
    assert "phone mobile, pronouns" in body
    assert "555-0999" not in body
    assert "Chart viewed" in body
    assert "Auditor Tester" in body


def test_record_activity_is_paginated(client, clinic, patient):
    for i in range(30):
        do_update_patient(patient, acting_user=clinic.frontdesk, phone_home=f"555-1{i:03d}")
    login(client, clinic.clinician)
    first = client.get(_tab(patient, "activity"), **HTMX).content.decode()
    assert "Page 1 of 2" in first
    assert f'hx-get="{_tab(patient, "activity")}?page=2"' in first
    second = client.get(_tab(patient, "activity") + "?page=2", **HTMX).content.decode()
    assert "Page 2 of 2" in second
    assert "Created" in second  # the oldest rows are at the end


def test_deactivated_record_shows_the_alert_and_reactivate_button(client, clinic):
    patient = make_patient(clinic, admit=False)
    do_set_patient_active(patient, acting_user=clinic.director, active=False, reason="Duplicate of another record")
    login(client, clinic.frontdesk)
    body = client.get(_chart(patient)).content.decode()
    assert "This record is deactivated." in body
    assert "Duplicate of another record" in body
    assert reverse("patients:reactivate", args=[patient.public_id]) in body


def test_front_desk_sees_no_episode_buttons(client, clinic, patient):
    login(client, clinic.frontdesk)
    body = client.get(_chart(patient, "episodes")).content.decode()
    assert reverse("patients:episode_open", args=[patient.public_id]) not in body
    assert "Change status" not in body


def test_auditor_sees_no_write_buttons(client, clinic, patient, coverage, contact):
    login(client, clinic.auditor)
    for tab in TABS:
        body = client.get(_chart(patient, tab)).content.decode()
        assert 'method="post"' not in body.split('id="chart-tab"')[1]
        assert "/edit/" not in body
        assert "/new/" not in body


def _count(client, url, **extra) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow(clinic, patient, n):
    """n coverages (one active), n contacts and n discharged episodes with care teams."""
    for i in range(n):
        coverage = do_add_coverage(patient, acting_user=None, priority=1, payer_name=f"Payer {i}", member_id=f"M{i}")
        if i < n - 1:
            do_set_coverage_active(coverage, acting_user=clinic.billing, active=False)
        do_add_support_contact(patient, acting_user=None, name=f"Contact {i}", relationship="friend")
        episode = patient.episodes.exclude(status="discharged").first() or do_open_episode(
            patient, acting_user=None, program=clinic.mh, admitted_on=date(2026, 1, 1 + i)
        )
        do_set_care_team(
            episode,
            acting_user=clinic.director,
            members=[(clinic.intern, "therapist"), (clinic.intake, "case_manager")],
        )
        admitted = episode.admitted_on
        assert admitted is not None
        do_change_episode_status(
            episode, acting_user=clinic.director, status="discharged", on_date=admitted, discharge_reason="1"
        )


@pytest.mark.parametrize("tab", TABS)
def test_chart_query_count_does_not_grow_with_the_record(client, clinic, tab):
    small = make_patient(clinic, legal_first_name="Small")
    big = make_patient(clinic, legal_first_name="Big")
    _grow(clinic, small, 1)
    _grow(clinic, big, 8)
    login(client, clinic.director)
    client.get(_chart(small))  # warm the session
    assert _count(client, _chart(small, tab)) == _count(client, _chart(big, tab))
    assert _count(client, _tab(small, tab), **HTMX) == _count(client, _tab(big, tab), **HTMX)


@pytest.mark.parametrize(
    ("object_type", "label"),
    [
        ("coverage", "Insurance coverage"),  # the explicit table
        ("attendance", "Attendance"),  # a chart tab's own title
        ("attendancerecord", "Attendance record"),  # any model, by its verbose name
        ("booknow_crisis_stop", "Booknow crisis stop"),  # anything else, made readable
    ],
)
def test_record_activity_names_every_kind_of_record(object_type, label):
    from openiop.patients.views import record_type_label

    assert record_type_label(object_type) == label
