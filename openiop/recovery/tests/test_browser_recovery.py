"""The patient's Recovery page in a real headless Chromium: a substance-use patient signs in at the portal, logs a
meeting (first forgetting to name an "other" one: the error names the field and keeps what was typed), sees it in
their log with the meetings-per-week strip, names their sponsor; then the program director sees the meeting and the
sponsor on the chart's Recovery supports tab. Screenshots go to artifacts/recovery-0N-*.png."""

from __future__ import annotations

import pytest
from django.utils import timezone

from openiop.portal.tests.care_support import patient_account
from openiop.recovery.models import MeetingAttendance
from openiop.testing.browser import screenshot
from openiop.testing.fixtures import PASSWORD, build_clinic, make_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_patient_logs_a_meeting_and_names_a_sponsor_and_staff_see_them(page, live_server):
    clinic = build_clinic()
    patient = make_patient(clinic, clinic.su, legal_first_name="Avery", email="avery@example.org")
    account = patient_account(patient, "avery")
    account.user.set_password(PASSWORD)
    account.user.save()

    _sign_in(page, f"{live_server.url}/portal/login/", "avery")
    page.wait_for_url(f"{live_server.url}/portal/")
    page.get_by_role("link", name="Recovery", exact=True).click()
    page.get_by_role("heading", name="Recovery", exact=True).wait_for()
    form = page.locator("#meeting-form")
    today = timezone.localdate().isoformat()
    form.get_by_label("Date").fill(today)
    form.get_by_role("combobox", name="Meeting").select_option(label="Other")
    form.get_by_label("Online").check()
    form.get_by_label("Anything to add (optional)").fill("First online meeting.")
    form.get_by_role("button", name="Save", exact=True).click()
    page.locator("#form-errors").get_by_text("Say which meeting it was.").wait_for()
    assert page.get_by_label("Anything to add (optional)").input_value() == "First online meeting."
    screenshot(page, "recovery-01-other-not-named")

    page.get_by_label("Which meeting (if other)").fill("Recovery Dharma")
    form.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Meeting logged.").wait_for()
    log = page.locator("#meeting-log")
    log.get_by_text("Recovery Dharma").wait_for()
    assert log.get_by_text("First online meeting.").count() == 1
    assert page.locator("svg.rc-strip rect.rc-bar").count() == 1
    screenshot(page, "recovery-02-meeting-logged")
    meeting = MeetingAttendance.objects.get()
    assert (meeting.kind_label, meeting.mode, meeting.met_on.isoformat()) == ("Recovery Dharma", "online", today)

    sponsor = page.locator("#sponsor-form")
    sponsor.get_by_label("My sponsor's name").fill("Dana Whitfield")
    sponsor.get_by_role("button", name="Save sponsor").click()
    page.get_by_text("Sponsor saved.").wait_for()
    screenshot(page, "recovery-03-sponsor-saved")

    # The program's director reads it on the chart.
    page.context.clear_cookies()
    _sign_in(page, f"{live_server.url}/accounts/login/", "director")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=recovery")
    page.locator("#recovery-meetings").get_by_text("Recovery Dharma").wait_for()
    assert "Dana Whitfield" in page.locator("#recovery-sponsor").inner_text()
    assert page.locator("svg.rc-strip rect.rc-bar").count() == 1
    screenshot(page, "recovery-04-chart-tab")
