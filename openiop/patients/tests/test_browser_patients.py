"""The patient screens in a real headless Chromium at tablet size: live search, chart tabs, dependent pickers."""

from __future__ import annotations

from datetime import date

import pytest

from openiop.core.models import AuditAction, AuditEvent
from openiop.core.roles import Role
from openiop.patients.models import Patient
from openiop.testing.browser import screenshot, sign_in
from openiop.testing.fixtures import build_clinic, make_patient, staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 820, "height": 1180}


def test_live_search_narrows_the_list_as_you_type(page, live_server):
    clinic = build_clinic()
    make_patient(clinic, legal_first_name="Morgan", legal_last_name="Ellison")
    make_patient(clinic, legal_first_name="Sam", legal_last_name="Okafor")
    sign_in(page, live_server, "clinician", viewport=TABLET)
    page.goto(f"{live_server.url}/patients/")
    results = page.locator("#patient-results")
    assert results.get_by_text("Okafor").count() == 1
    page.get_by_label("Name, MRN or date of birth").fill("elli")
    page.get_by_role("status").filter(has_text="1 patient found").wait_for()
    assert results.get_by_text("Ellison").count() == 1
    assert results.get_by_text("Okafor").count() == 0
    assert page.url == f"{live_server.url}/patients/"  # the search text stays out of the address bar
    screenshot(page, "patients-01-live-search")
    assert AuditEvent.objects.filter(action=AuditAction.PATIENTS_SEARCHED, actor=clinic.clinician).exists()


def test_chart_tabs_load_in_place_and_record_the_view(page, live_server):
    clinic = build_clinic()
    patient = make_patient(clinic, legal_first_name="Morgan", legal_last_name="Ellison")
    sign_in(page, live_server, "clinician", viewport=TABLET)
    page.goto(f"{live_server.url}{patient.get_absolute_url()}")
    screenshot(page, "patients-02-chart")
    page.get_by_role("link", name="Episodes of care").click()
    page.locator("#chart-tab").get_by_role("heading", name="Care team").wait_for()
    page.wait_for_url(f"**{patient.get_absolute_url()}?tab=episodes")
    current = page.locator("#chart-tabs [aria-current=page]")
    assert current.inner_text().strip() == "Episodes of care"
    assert page.locator("#chart-tab").get_by_text("Clinician Tester, LCSW").count() >= 1
    screenshot(page, "patients-03-chart-episodes")
    assert AuditEvent.objects.filter(
        action=AuditAction.RECORD_VIEWED, patient=patient, object_type="episodes", actor=clinic.clinician
    ).exists()


def test_picking_a_program_swaps_the_track_and_clinician_choices(page, live_server):
    clinic = build_clinic()
    staff(clinic.org, "suclin", Role.CLINICIAN, [clinic.su])
    patient = make_patient(clinic, admit=False)
    sign_in(page, live_server, "director", viewport=TABLET)
    page.goto(f"{live_server.url}/patients/{patient.public_id}/episodes/new/")
    page.get_by_label("Program").select_option(label=clinic.su.name)
    # Before a program is picked the choices span all the director's programs; picking one narrows them.
    page.locator("#id_primary_clinician option", has_text="Clinician Tester").wait_for(state="detached")
    assert page.locator("#id_primary_clinician option", has_text="Suclin Tester").count() == 1
    assert page.locator("#id_track option", has_text="Evening").count() == 0
    page.get_by_label("Admission date").fill("2026-11-16")
    page.get_by_label("Primary clinician").select_option(label="Suclin Tester")
    screenshot(page, "patients-04-open-episode")
    page.get_by_role("button", name="Open episode").click()
    page.wait_for_url(f"**{patient.get_absolute_url()}?tab=episodes")
    episode = patient.episodes.get()
    assert episode.program == clinic.su
    assert episode.primary_clinician is not None
    assert episode.primary_clinician.username == "suclin"


def test_registering_a_possible_duplicate_asks_first(page, live_server):
    clinic = build_clinic()
    existing = make_patient(clinic, legal_first_name="Avery", legal_last_name="Quinn", date_of_birth=date(1985, 6, 30))
    sign_in(page, live_server, "frontdesk", viewport=TABLET)
    page.goto(f"{live_server.url}/patients/new/")
    page.get_by_label("Legal first name").fill("Avery")
    page.get_by_label("Legal last name").fill("Quinn")
    page.get_by_label("Date of birth").fill("1985-06-30")
    page.get_by_label("Pronouns").fill("they/them")
    page.get_by_role("button", name="Register patient").click()
    warning = page.locator("#possible-duplicates")
    warning.wait_for()
    assert warning.get_by_role("link", name="Avery Quinn").count() == 1
    assert page.get_by_label("Pronouns").input_value() == "they/them"
    screenshot(page, "patients-05-duplicate-warning")
    page.get_by_label("This is a different person").check()
    page.get_by_role("button", name="Register patient").click()
    page.wait_for_url("**/patients/*-*/")
    assert Patient.objects.filter(search_last="quinn").exclude(pk=existing.pk).count() == 1
