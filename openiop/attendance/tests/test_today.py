"""Today's page: the user's programs' sessions of their local today, with live roster counts, polled by HTMX."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.attendance.actions import do_check_in
from openiop.attendance.tests.rosters import book_people, running_session, session_at
from openiop.core.models import AuditEvent
from openiop.testing.scheduling import local_at

pytestmark = pytest.mark.django_db
URL = reverse("attendance:today")


def _started(program, minutes_ago: int = 10) -> int:
    """``minutes_ago``, or fewer in the program's first minutes of the day: a session "running now" must have started
    today, local time, or the page rightly files it under yesterday (the tests failed from 00:00 to 00:20 locally)."""
    now = timezone.localtime(timezone.now(), program.tz())
    return min(minutes_ago, now.hour * 60 + now.minute)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("clinician", 200),
        ("frontdesk", 200),
        ("auditor", 200),
        ("billing", 200),
        ("outsider", 200),
        ("stranger", 200),
        ("sysadmin", 403),
    ],
)
def test_who_may_open_today(client, clinic, who, expected):
    client.force_login(getattr(clinic, who))
    assert client.get(URL).status_code == expected


def test_anonymous_users_are_sent_to_sign_in(client):
    assert client.get(URL).status_code == 302


def test_today_counts_booked_checked_in_absent_and_not_yet_recorded(client, clinic):
    session = running_session(clinic.mh, minutes_ago=_started(clinic.mh, 20), title="Skills now")
    a, b, c, _d = book_people(clinic, session, 4)
    do_check_in(session, a.patient, acting_user=clinic.frontdesk, status="present")
    do_check_in(session, b.patient, acting_user=clinic.frontdesk, status="late")
    do_check_in(session, c.patient, acting_user=clinic.frontdesk, status="absent_unexcused")
    session_at(clinic.mh, local_at(clinic.mh, 1, 9), title="Tomorrow group")
    session_at(clinic.mh, local_at(clinic.mh, -1, 9), title="Yesterday group")
    client.force_login(clinic.frontdesk)
    before = AuditEvent.objects.count()
    body = client.get(URL).content.decode()
    assert "Skills now" in body and "Tomorrow group" not in body and "Yesterday group" not in body
    for text in ("4 booked", "2 checked in", "1 absent", "1 not yet recorded", "Take attendance"):
        assert text in body
    assert reverse("attendance:roster", args=[session.public_id]) in body
    # Counts only, no names: nothing to audit.
    assert a.patient.display_name not in body
    assert AuditEvent.objects.count() == before


def test_htmx_polling_gets_only_the_body(client, clinic):
    running_session(clinic.mh, minutes_ago=_started(clinic.mh), title="Skills now")
    client.force_login(clinic.clinician)
    response = client.get(URL, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="today-body"')
    assert 'hx-trigger="every 30s"' in body
    assert "<html" not in body


def test_other_programs_sessions_are_not_shown(client, clinic):
    running_session(clinic.mh, minutes_ago=_started(clinic.mh), title="Adult group")
    running_session(clinic.teen, minutes_ago=_started(clinic.teen), title="Teen group")
    client.force_login(clinic.outsider)
    body = client.get(URL).content.decode()
    assert "Teen group" in body and "Adult group" not in body
    client.force_login(clinic.stranger)
    body = client.get(URL).content.decode()
    assert "Teen group" not in body and "Adult group" not in body


def test_each_program_uses_its_own_local_today(client, clinic):
    # The adolescent program runs on Chicago time: a session at 23:30 Chicago today is today there.
    late_chicago = local_at(clinic.teen, 0, 23, 30)
    session_at(clinic.teen, late_chicago, minutes=20, title="Late teen group")
    client.force_login(clinic.outsider)
    assert "Late teen group" in client.get(URL).content.decode()


def test_auditors_see_the_roster_link_but_not_take_attendance(client, clinic):
    running_session(clinic.mh, minutes_ago=_started(clinic.mh), title="Skills now")
    client.force_login(clinic.auditor)
    body = client.get(URL).content.decode()
    assert ">Roster<" in body and "Take attendance" not in body


def _today_queries(client, clinic, sessions: int) -> int:
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=_started(clinic.su, 5))
    for index in range(sessions):
        session = session_at(clinic.su, start + timedelta(minutes=index), minutes=30, title=f"S{sessions}-{index}")
        for booking in book_people(clinic, session, 2, prefix=f"T{sessions}{index}"):
            do_check_in(session, booking.patient, acting_user=clinic.director, status="present")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def test_today_costs_the_same_queries_for_2_and_6_sessions(client, clinic):
    client.force_login(clinic.director)
    client.get(URL)
    two = _today_queries(client, clinic, 2)
    # A fresh program each time would change nothing either; the same program with more sessions must not.
    assert _today_queries(client, clinic, 4) == two


def test_a_program_without_sessions_today_shows_its_next_session_day(client, clinic):
    """On a weekend or a closed day the page says so and shows the next day's sessions, with their rosters."""
    later = session_at(clinic.mh, local_at(clinic.mh, 3, 9), title="Group in three days")
    session_at(clinic.mh, local_at(clinic.mh, 3, 13), title="Afternoon in three days")
    session_at(clinic.mh, local_at(clinic.mh, 5, 9), title="Group in five days")
    client.force_login(clinic.frontdesk)
    body = client.get(URL).content.decode()
    day = later.starts_at.astimezone(clinic.mh.tz()).date()
    assert f"No sessions today — next: {day:%A} {day.day} {day:%b}" in body
    assert "Group in three days" in body and "Afternoon in three days" in body
    assert "Group in five days" not in body
    assert reverse("attendance:roster", args=[later.public_id]) in body
    # Check-in opens on the day: the link reads Roster, not Take attendance.
    assert "Take attendance" not in body


def test_a_program_with_a_session_today_does_not_show_the_next_day(client, clinic):
    session_at(clinic.mh, local_at(clinic.mh, 0, 23, 30), minutes=20, title="Late group today")
    session_at(clinic.mh, local_at(clinic.mh, 1, 9), title="Tomorrow group")
    client.force_login(clinic.frontdesk)
    body = client.get(URL).content.decode()
    assert "Late group today" in body and "Tomorrow group" not in body
