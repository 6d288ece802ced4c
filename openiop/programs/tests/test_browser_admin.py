"""A director sets up a track in a real headless Chromium, using the keyboard for the weekday buttons."""

from __future__ import annotations

import pytest

from openiop.programs.models import Track
from openiop.testing.browser import screenshot, sign_in
from openiop.testing.fixtures import build_clinic, make_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_director_adds_a_track_fixing_the_times_and_sees_the_dose_warning(page, live_server):
    clinic = build_clinic()
    make_patient(clinic)
    sign_in(page, live_server, "director", start="/")
    page.get_by_role("heading", name="Census").wait_for()
    screenshot(page, "admin-01-director-home")

    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Adult Mental Health IOP").click()
    screenshot(page, "admin-02-program")
    page.get_by_role("link", name="New track").click()

    page.get_by_label("Name").fill("Saturday")
    page.get_by_label("Kind").select_option("weekend")
    saturday = page.get_by_label("Sat", exact=True)
    saturday.focus()
    page.keyboard.press("Space")
    assert saturday.is_checked()
    page.get_by_label("Start time").fill("13:00")
    page.get_by_label("End time").fill("09:00")
    page.get_by_role("button", name="Add track").click()

    error = page.locator("#id_end_time_error")
    error.wait_for()
    assert "end after it starts" in error.inner_text()
    assert page.get_by_label("End time").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Sat", exact=True).is_checked()
    assert page.get_by_label("Name").input_value() == "Saturday"
    screenshot(page, "admin-03-track-error")

    page.get_by_label("Start time").fill("09:00")
    page.get_by_label("End time").fill("13:00")
    page.get_by_role("button", name="Add track").click()
    page.get_by_text("below the program's minimum dose of 9").wait_for()
    screenshot(page, "admin-04-track-warning")
    assert Track.objects.get(name="Saturday").weekdays == [5]


def test_sysadmin_reviews_staff_and_programs(page, live_server):
    build_clinic()
    sign_in(page, live_server, "sysadmin", start="/")
    screenshot(page, "admin-05-sysadmin-home")
    page.get_by_role("link", name="Staff accounts").click()
    page.get_by_role("heading", name="Staff", exact=True).wait_for()
    screenshot(page, "admin-06-staff")
    page.get_by_role("link", name="New staff account").click()
    screenshot(page, "admin-07-staff-new")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Administration").click()
    page.get_by_role("heading", name="Programs").wait_for()
    screenshot(page, "admin-08-overview")
