"""The roster on a tablet in headless Chromium: tap people in, open a row's details, see today's counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from openiop.attendance.models import AttendanceRecord
from openiop.attendance.tests.rosters import book_people, session_at
from openiop.testing.browser import screenshot, sign_in
from openiop.testing.fixtures import build_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 1024, "height": 1366}


def test_front_desk_taps_a_group_in_from_today_on_a_tablet(page, live_server):
    clinic = build_clinic()
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=12)
    session = session_at(clinic.mh, start, minutes=60, title="Morning process group")
    bookings = book_people(clinic, session, 6)
    names = [b.patient.display_name for b in bookings]

    sign_in(page, live_server, "frontdesk", viewport=TABLET)
    page.get_by_role("link", name="Today").click()
    page.get_by_role("heading", name="Today's sessions").wait_for()
    assert page.get_by_text("6 not yet recorded").count() == 1
    screenshot(page, "attendance-01-today")

    page.get_by_role("link", name="Take attendance for Morning process group").click()
    page.get_by_role("heading", name="Attendance: Morning process group").wait_for()

    def row(name: str):
        return page.get_by_role("listitem", name=name)

    # One tap each; HTMX swaps only that row (the page does not reload).
    page.evaluate("window.__marker = 'same page'")
    for name, label in zip(names, ["Present", "Present", "Late", "Left early", "Absent, excused"], strict=False):
        row(name).get_by_role("button", name=label, exact=True).click()
        row(name).get_by_role("button", name=label, exact=True).and_(page.locator('[aria-pressed="true"]')).wait_for()
    assert page.evaluate("window.__marker") == "same page"
    assert row(names[2]).get_by_text("Late", exact=True).count() >= 1

    # The last person: the details panel, with a participation and a remark.
    last = row(names[5])
    last.get_by_text("Minutes, times, participation, remark").click()
    last.get_by_label("Status").select_option("present")
    last.get_by_label("Participation").select_option("engaged")
    last.get_by_label("Short remark").fill("Shared first today")
    last.get_by_role("button", name="Save details").click()
    row(names[5]).locator("span.text-muted", has_text="Engaged").wait_for()
    screenshot(page, "attendance-02-roster-tapped")

    statuses = dict(AttendanceRecord.objects.filter(session=session).values_list("patient__legal_first_name", "status"))
    assert sorted(statuses.values()) == sorted(
        ["present", "present", "late", "left_early", "absent_excused", "present"]
    )
    late = AttendanceRecord.objects.get(session=session, status="late")
    assert late.late_minutes >= 12 and late.arrived_at is not None
    assert AttendanceRecord.objects.get(session=session, participation="engaged").remark == "Shared first today"

    # A wrong tap is changed by tapping again, and the earlier version is kept.
    row(names[4]).get_by_role("button", name="Absent, unexcused", exact=True).click()
    row(names[4]).locator('[aria-pressed="true"]', has_text="Absent, unexcused").wait_for()
    changed = AttendanceRecord.objects.get(session=session, status="absent_unexcused")
    assert changed.version == 2

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    page.get_by_text("5 checked in").wait_for()
    assert page.get_by_text("1 absent").count() == 1
    assert page.get_by_text("0 not yet recorded").count() == 1
    screenshot(page, "attendance-03-today-after")
