"""The patient's care pages in a real headless Chromium: a logged-in patient fills the PHQ-9 in Check-ins and sees
the score in their history, logs a skills practice, and signs their plan; then the clinician sees the practice on
the chart's Skills practice tab. Screenshots go to artifacts/portal-care-0N-*.png."""

from __future__ import annotations

import pytest
from django.test import Client

from openiop.measures.models import Administration
from openiop.plans.models import PlanVersion
from openiop.portal.tests.care_support import patient_account
from openiop.skills.models import PracticeEntry
from openiop.testing.browser import screenshot
from openiop.testing.fixtures import PASSWORD, build_clinic, make_patient
from openiop.testing.measures import start
from openiop.testing.plans import signed_by_clinician

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _portal_session(page, live_server, user) -> None:
    """The portal login belongs to the portal pages; a session made by the test client stands in for it."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def test_a_patient_checks_in_logs_practice_and_signs_the_plan(page, live_server):
    clinic = build_clinic()
    patient = make_patient(clinic)
    administration = start(patient, clinic.clinician)
    version = signed_by_clinician(patient, clinic.clinician)
    account = patient_account(patient)
    _portal_session(page, live_server, account.user)

    page.goto(f"{live_server.url}/portal/check-ins/")
    page.get_by_role("heading", name="Check-ins", exact=True).wait_for()
    screenshot(page, "portal-care-01-check-ins-due")
    page.get_by_role("link", name="Start").click()
    page.get_by_role("heading", name="PHQ-9").wait_for()
    # Items 1-8 "More than half the days" (2) on four, "Several days" (1) on four; item 9 "Not at all": 12.
    for n in range(1, 10):
        value = 0 if n == 9 else (2 if n <= 4 else 1)
        page.locator(f'label[for="phq9_{n}-{value}"]').click()
    page.locator("#mq-progress").get_by_text("9 of 9 answered").wait_for()
    assert page.locator("#crisis").is_hidden()
    screenshot(page, "portal-care-02-phq9-filled")
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    assert "Your PHQ-9 score today: 12 out of 27 (moderate range)." in page.locator("#check-in-result").inner_text()
    page.get_by_role("link", name="See my check-ins").click()
    page.locator("#check-in-history").get_by_text("12 of 27 · Moderate").wait_for()
    assert page.locator("svg.mq-trend").count() == 1
    screenshot(page, "portal-care-03-my-check-ins")
    administration.refresh_from_db()
    assert (administration.status, administration.total) == (Administration.Status.COMPLETED, 12)

    page.goto(f"{live_server.url}/portal/practice/")
    form = page.locator("#practice-form")
    form.get_by_label("Skill I practised").select_option("Opposite action")
    form.get_by_label("How it went").fill("Went to the group instead of staying in bed.")
    form.get_by_label("My mood afterwards").select_option("6")
    form.get_by_role("button", name="Save").click()
    page.get_by_text("Practice logged.").wait_for()
    page.locator("#practice-log").get_by_text("Went to the group instead of staying in bed.").wait_for()
    screenshot(page, "portal-care-04-practice-logged")
    assert PracticeEntry.objects.get().mood == 6

    page.goto(f"{live_server.url}/portal/plan/")
    page.get_by_text("ready for your signature").wait_for()
    page.get_by_label("Type your full name to sign").fill("Jordan Rivera")
    page.get_by_label("I took part in writing this plan and I agree with it.").check()
    screenshot(page, "portal-care-05-plan-to-sign")
    page.get_by_role("button", name="Sign my plan").click()
    page.get_by_text("You signed your treatment plan").wait_for()
    screenshot(page, "portal-care-06-plan-signed")
    version.refresh_from_db()
    assert version.status == PlanVersion.Status.ACTIVE and version.patient_signature_name == "Jordan Rivera"

    # The clinician sees the practice on the chart.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("clinician")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=practice")
    entries = page.locator("#practice-entries")
    entries.get_by_text("Went to the group instead of staying in bed.").wait_for()
    assert entries.get_by_text("Opposite action").count() == 1
    assert page.locator("svg.sp-chart").count() == 1
    screenshot(page, "portal-care-07-chart-tab")
