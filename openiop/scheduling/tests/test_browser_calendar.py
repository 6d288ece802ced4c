"""The calendar in headless Chromium at tablet size: week view, next week, a session and its roster."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.testing.browser import screenshot, sign_in
from openiop.testing.fixtures import build_clinic, make_patient
from openiop.testing.scheduling import make_booking, make_room, make_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 1024, "height": 1366}
NY = zoneinfo.ZoneInfo("America/New_York")


def test_staff_step_to_next_week_open_a_session_and_see_the_roster(page, live_server):
    clinic = build_clinic()
    today = timezone.now().astimezone(NY).date()
    monday = today - timedelta(days=today.weekday())
    room = make_room(clinic.site, "Oak Room")
    for offset, hour in ((0, 9), (2, 9), (4, 10)):
        day = monday + timedelta(days=offset)
        make_session(
            clinic.mh,
            datetime(day.year, day.month, day.day, hour, tzinfo=NY),
            title="This week group",
            room=room,
            track=clinic.day,
            facilitators=(clinic.clinician,),
        )
    next_wed = monday + timedelta(days=9)
    target = make_session(
        clinic.mh,
        datetime(next_wed.year, next_wed.month, next_wed.day, 18, tzinfo=NY),
        title="Evening skills",
        room=room,
        track=clinic.evening,
        facilitators=(clinic.intern,),
        capacity=6,
    )
    make_booking(target, make_patient(clinic, legal_first_name="Morgan", legal_last_name="Ellison"))
    make_booking(target, make_patient(clinic, legal_first_name="Sam", legal_last_name="Okafor"))

    sign_in(page, live_server, "clinician", viewport=TABLET)
    page.get_by_role("link", name="Schedule").click()
    page.get_by_role("heading", name=f"Week of {monday:%b} {monday.day}, {monday.year}").wait_for()
    assert page.get_by_role("link", name="This week group").count() == 3
    screenshot(page, "scheduling-01-week")

    page.get_by_role("link", name="Next week").click()
    nxt = monday + timedelta(days=7)
    page.get_by_role("heading", name=f"Week of {nxt:%b} {nxt.day}, {nxt.year}").wait_for()
    assert f"date={nxt.isoformat()}" in page.url
    block = page.get_by_role("link", name="Evening skills")
    assert "2/6 booked" in block.inner_text()
    screenshot(page, "scheduling-02-next-week")

    block.click()
    page.get_by_role("heading", name="Roster").wait_for()
    roster = page.get_by_role("table", name="Patients booked into this session")
    assert roster.get_by_role("link", name="Morgan Ellison").count() == 1
    assert roster.get_by_role("link", name="Sam Okafor").count() == 1
    assert page.get_by_text("4 free").count() == 1
    screenshot(page, "scheduling-03-session-roster")
    assert AuditEvent.objects.filter(
        action=AuditAction.PATIENTS_LISTED, actor=clinic.clinician, object_id=str(target.public_id)
    ).exists()
