"""The Attendance tab and the program report in headless Chromium: a person out of reach this week, booking a
suggested make-up from the dose panel, then the program's report with its chart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from openiop.scheduling.models import Booking
from openiop.testing.attendance import (
    EXCUSED,
    LATE,
    PRESENT,
    UNEXCUSED,
    admit_to_track,
    book,
    check_in,
    check_in_all,
    today,
    track_day,
)
from openiop.testing.browser import screenshot, sign_in
from openiop.testing.fixtures import build_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_attendance_tab_make_up_booking_and_report(page, live_server, settings):
    clinic = build_clinic()
    mh, by = clinic.mh, clinic.clinician
    week0 = today(mh) - timedelta(days=2)
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "week_starts_on": week0.weekday()}
    ep = admit_to_track(clinic, "Morgan", last_name="Ellison", track=clinic.day, admitted_on=week0 - timedelta(days=21))
    # Four earlier weeks (days 0, 2, 4 of each) with a mix of attendance, then this week out of reach.
    for w, pattern in enumerate([(PRESENT, PRESENT, PRESENT), (PRESENT, EXCUSED, PRESENT), (LATE, PRESENT, UNEXCUSED)]):
        monday = week0 - timedelta(days=7 * (3 - w))
        for offset, status in zip((0, 2, 4), pattern, strict=True):
            sessions = track_day(mh, monday + timedelta(days=offset), track=clinic.day)
            book(sessions, ep)
            if status == LATE:
                check_in(sessions[0], ep, LATE, by, late_minutes=15)
                check_in_all(sessions[1:], ep, PRESENT, by)
            else:
                check_in_all(sessions, ep, status, by)
    first, second, ahead = (track_day(mh, week0 + timedelta(days=n), track=clinic.day) for n in (0, 1, 3))
    book([*first, *second, *ahead], ep)
    check_in_all(first, ep, PRESENT, by)
    check_in(second[0], ep, PRESENT, by)
    check_in_all(second[1:], ep, UNEXCUSED, by)
    evening = track_day(mh, week0 + timedelta(days=4), hours=[18, 19], track=clinic.evening, title="Evening skills")

    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "clinician")
    page.get_by_text("at risk").first.wait_for()
    screenshot(page, "dose-01-home-panel")
    page.get_by_role("link", name="See who is at risk").click()
    page.get_by_role("heading", name="Dose at risk this week").wait_for()
    assert page.get_by_role("link", name="Morgan Ellison").count() == 1
    screenshot(page, "dose-05-at-risk-list")

    page.goto(f"{live_server.url}{ep.patient.get_absolute_url()}")
    page.get_by_role("link", name="Attendance").click()
    panel = page.locator(f"#dose-panel-{ep.public_id}")
    panel.wait_for()
    assert "At risk: minimum out of reach" in panel.inner_text()
    assert page.locator("svg .dose-week").count() == 4
    page.get_by_text("Session history").click()
    screenshot(page, "dose-02-attendance-tab")

    rows = panel.locator(".makeup-table tbody tr")
    assert rows.count() == 2
    rows.first.get_by_role("button", name="Book").click()
    page.locator(f"#dose-panel-{ep.public_id} .alert-success").wait_for()
    assert Booking.objects.filter(episode=ep, session=evening[0], source=Booking.Source.MAKEUP).exists()
    page.locator(f"#dose-panel-{ep.public_id}").get_by_role("button", name="Book").click()
    page.locator(f"#dose-panel-{ep.public_id}").get_by_text("At risk: needs every remaining session").wait_for()
    assert Booking.objects.filter(episode=ep, session=evening[1], source=Booking.Source.MAKEUP).exists()
    screenshot(page, "dose-03-after-make-up")

    page.goto(f"{live_server.url}/attendance/reports/programs/{mh.public_id}/")
    page.get_by_role("heading", name=f"Attendance report · {mh.name}").wait_for()
    assert page.locator("table.report-table tbody tr").count() == 2
    assert "Morgan" not in page.content()
    screenshot(page, "dose-04-program-report")
