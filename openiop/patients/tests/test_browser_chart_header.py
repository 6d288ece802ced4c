"""The chart header in a real headless Chromium: a patient at risk, seen from a tab other than Measures."""

from __future__ import annotations

from datetime import date

import pytest

from openiop.measures.models import SafetyAlert
from openiop.testing.browser import screenshot, sign_in
from openiop.testing.fixtures import build_clinic, make_patient
from openiop.testing.measures import all_items, completed, phq9
from openiop.testing.plans import plan_for
from openiop.testing.scheduling import local_at, make_booking, make_session, make_session_type

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_header_shows_the_risk_and_acknowledges_it(page, live_server):
    clinic = build_clinic()
    patient = make_patient(clinic)
    completed(patient, clinic.clinician, "phq9", phq9(10), today=date(2026, 11, 9))
    administration = completed(patient, clinic.clinician, "phq9", phq9(22, item9=2), today=date(2026, 11, 30))
    completed(patient, clinic.clinician, "gad7", all_items("gad7", 2), today=date(2026, 11, 30))
    make_booking(
        make_session(clinic.mh, local_at(clinic.mh, 1, 9), session_type=make_session_type(clinic.mh, "DBT skills")),
        patient,
    )
    plan_for(patient)
    sign_in(page, live_server, "clinician")
    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=demographics")
    header = page.locator(".chart-glance")
    alert = header.locator('[data-flag="safety-alert"]')
    alert.wait_for()
    assert header.get_by_text("PHQ-9 24 severe ↑ worsening").count() == 1
    # The banner, loaded after the page, names the patient with a link to the chart.
    page.locator("#safety-alert-banner").get_by_role("link", name=patient.display_name).wait_for()
    assert "{#" not in page.content()
    # The alert takes the first line of the glance row; the badges follow on one line at a laptop's width.
    glance = header.bounding_box()
    assert glance is not None and glance["height"] < 120
    screenshot(page, "header-01-risk")
    alert.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(f"{live_server.url}{patient.get_absolute_url()}")
    assert page.locator('[data-flag="safety-alert"]').count() == 0
    assert SafetyAlert.objects.get(administration=administration).status == SafetyAlert.Status.ACKNOWLEDGED
