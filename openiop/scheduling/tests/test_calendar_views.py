"""Week and day calendars: access, filters, time zones, layout and a constant number of queries."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditEvent
from openiop.scheduling.calendar import build_grid
from openiop.testing.scheduling import make_room, make_session, make_session_type

NY = zoneinfo.ZoneInfo("America/New_York")
MONDAY = date(2026, 11, 30)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def _week(client, **params):
    query = {"date": MONDAY.isoformat(), **params}
    return client.get(reverse("scheduling:calendar"), query)


@pytest.fixture
def room(clinic):
    return make_room(clinic.site, "Oak Room")


@pytest.fixture
def process(clinic, room):
    return make_session(
        clinic.mh,
        _at(MONDAY, 9),
        title="Morning process group",
        room=room,
        track=clinic.day,
        facilitators=(clinic.clinician,),
    )


@pytest.mark.parametrize("name", ["director", "clinician", "intern", "intake", "frontdesk", "billing", "auditor"])
def test_staff_of_the_program_see_the_week(client, clinic, process, name):
    login(client, getattr(clinic, name))
    response = _week(client)
    assert response.status_code == 200
    assert "Morning process group" in response.content.decode()


def test_sysadmin_without_the_census_capability_gets_403(client, clinic, process):
    login(client, clinic.sysadmin)
    assert _week(client).status_code == 403
    assert client.get(reverse("scheduling:day")).status_code == 403


def test_anonymous_is_sent_to_login(client, clinic):
    response = client.get(reverse("scheduling:calendar"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_outsider_never_sees_another_programs_sessions(client, clinic, process):
    login(client, clinic.outsider)  # in the adolescent program, at the other site
    response = _week(client, site=str(clinic.site.public_id))
    # The Riverside site is not one of theirs: the filter rejects it and shows their own site instead.
    assert response.status_code == 200
    assert "Morning process group" not in response.content.decode()
    assert response.context["site"] == clinic.other_site


def test_stranger_sees_nothing_of_the_clinic(client, clinic, process):
    login(client, clinic.stranger)
    response = _week(client, site=str(clinic.site.public_id))
    assert "Morning process group" not in response.content.decode()
    assert response.context["site"] != clinic.site


def test_substance_use_sessions_stay_hidden_from_mental_health_only_staff(client, clinic, room):
    su_type = make_session_type(clinic.su, "Relapse prevention", kind="education", service_kind="psychoeducation")
    make_session(clinic.su, _at(MONDAY, 13), session_type=su_type, title="SU relapse workshop")
    login(client, clinic.clinician)
    assert "SU relapse workshop" not in _week(client).content.decode()
    login(client, clinic.director)
    assert "SU relapse workshop" in _week(client).content.decode()


def test_blocks_link_to_the_session_and_label_type_room_facilitator_and_seats(client, clinic, process):
    login(client, clinic.frontdesk)
    html = _week(client).content.decode()
    assert process.get_absolute_url() in html
    assert "Process group" in html
    assert "Oak Room" in html
    assert "Clinician Tester" in html
    assert "0/10 booked" in html
    assert "9:00\u20139:55 AM" in html


def test_times_are_shown_in_the_site_time_zone_across_dst(client, clinic):
    # Nov 1 2026 is the fall-back Sunday in New York; a 9:00 session on Monday Nov 2 is 14:00 UTC.
    make_session(clinic.mh, datetime(2026, 11, 2, 14, 0, tzinfo=zoneinfo.ZoneInfo("UTC")), title="After DST")
    login(client, clinic.clinician)
    response = client.get(reverse("scheduling:calendar"), {"date": "2026-11-02"})
    assert "9:00\u20139:55 AM" in response.content.decode()
    assert response.context["tz_name"] == "America/New_York"


def test_the_day_view_shows_only_that_day(client, clinic, process):
    make_session(clinic.mh, _at(MONDAY + timedelta(days=1), 18), title="Tuesday evening group")
    login(client, clinic.clinician)
    response = client.get(reverse("scheduling:day"), {"date": MONDAY.isoformat()})
    html = response.content.decode()
    assert "Morning process group" in html
    assert "Tuesday evening group" not in html


def test_next_and_previous_step_a_week_and_htmx_gets_only_the_fragment(client, clinic, process):
    login(client, clinic.clinician)
    response = _week(client)
    assert "date=2026-12-07" in response.context["next_url"]
    assert "date=2026-11-23" in response.context["prev_url"]
    fragment = client.get(response.context["next_url"], headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert "Week of Dec 7, 2026" in fragment.content.decode()
    assert "Morning process group" not in fragment.content.decode()


@pytest.mark.parametrize("param", ["room", "facilitator", "track"])
def test_filters_narrow_the_calendar(client, clinic, room, process, param):
    other_room = make_room(clinic.site, "Pine Room")
    make_session(
        clinic.mh,
        _at(MONDAY, 18),
        title="Evening skills",
        room=other_room,
        track=clinic.evening,
        facilitators=(clinic.intern,),
    )
    value = {"room": room, "facilitator": clinic.clinician, "track": clinic.day}[param]
    login(client, clinic.director)
    html = _week(client, **{param: str(value.public_id)}).content.decode()
    assert "Morning process group" in html
    assert "Evening skills" not in html


def test_an_unknown_filter_value_is_a_form_error_not_a_crash(client, clinic, process):
    login(client, clinic.clinician)
    response = _week(client, room="00000000-0000-0000-0000-000000000000")
    assert response.status_code == 200
    assert response.context["form"].errors["room"]


def test_viewing_a_calendar_writes_no_audit_row(client, clinic, process):
    login(client, clinic.clinician)
    before = AuditEvent.objects.count()
    _week(client)
    assert AuditEvent.objects.count() == before


def test_cancelled_sessions_say_so_in_text(client, clinic):
    make_session(clinic.mh, _at(MONDAY, 10), title="Cancelled group", status="cancelled")
    login(client, clinic.clinician)
    html = _week(client).content.decode()
    assert "Cancelled: </span>Cancelled group" in html


def _fill_week(clinic, first: int, last: int) -> None:
    room = make_room(clinic.site, "Oak Room")
    for i in range(first, last):
        day = MONDAY + timedelta(days=i % 5)
        make_session(
            clinic.mh,
            _at(day, 8 + (i // 5) % 12),
            title=f"Group {i}",
            room=room,
            track=clinic.day,
            facilitators=(clinic.clinician, clinic.intern),
        )


def _queries_for_week(client, expected: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = _week(client)
    assert response.context["session_count"] == expected
    return len(ctx.captured_queries)


def test_query_count_is_the_same_for_5_and_50_sessions(client, clinic):
    login(client, clinic.clinician)
    _week(client)  # the first request of a session writes session bookkeeping; measure the steady state
    _fill_week(clinic, 0, 5)
    few = _queries_for_week(client, 5)
    _fill_week(clinic, 5, 50)
    many = _queries_for_week(client, 50)
    assert few == many
    assert many <= 16  # 15, plus the nav's work-queue badge


def test_overlapping_sessions_sit_side_by_side(clinic):
    a = make_session(clinic.mh, _at(MONDAY, 9), minutes=60, title="A")
    b = make_session(clinic.mh, _at(MONDAY, 9, 30), minutes=60, title="B")
    c = make_session(clinic.mh, _at(MONDAY, 11), minutes=30, title="C")
    grid = build_grid([a, b, c], [MONDAY], NY, MONDAY)
    blocks = {blk.session.title: blk for blk in grid.days[0].blocks}
    assert blocks["A"].width == blocks["B"].width == 50
    assert blocks["A"].left == 0 and blocks["B"].left == 50
    assert blocks["C"].width == 100
    assert blocks["A"].top < blocks["B"].top < blocks["C"].top


def test_the_grid_grows_to_fit_early_and_late_sessions(clinic):
    early = make_session(clinic.mh, _at(MONDAY, 6, 30), title="Early")
    late = make_session(clinic.mh, _at(MONDAY, 21, 30), title="Late")
    grid = build_grid([early, late], [MONDAY], NY, MONDAY)
    assert grid.first_hour == 6
    assert grid.last_hour == 23


def test_a_week_spanning_the_fall_back_change_shows_every_session_at_its_local_time(client, clinic):
    # New York falls back on Sunday Nov 1 2026: Monday is EDT (UTC-4), Sunday evening EST (UTC-5).
    monday = make_session(clinic.mh, _at(date(2026, 10, 26), 9), title="Monday before")
    sunday = make_session(clinic.mh, _at(date(2026, 11, 1), 23, 0), title="Sunday late")
    make_session(clinic.mh, _at(date(2026, 11, 2), 0, 30), title="Next Monday")
    login(client, clinic.clinician)
    response = client.get(reverse("scheduling:calendar"), {"date": "2026-10-28"})
    assert response.context["session_count"] == 2
    columns = {c.day: c for c in response.context["grid"].days}
    assert [b.session for b in columns[date(2026, 10, 26)].blocks] == [monday]
    assert [b.session for b in columns[date(2026, 11, 1)].blocks] == [sunday]
    assert columns[date(2026, 11, 1)].blocks[0].local_start.hour == 23
    utc = zoneinfo.ZoneInfo("UTC")
    assert (monday.starts_at.astimezone(utc).hour, sunday.starts_at.astimezone(utc).hour) == (13, 4)


def test_the_day_view_steps_one_day(client, clinic):
    login(client, clinic.clinician)
    response = client.get(reverse("scheduling:day"), {"date": MONDAY.isoformat()})
    assert "date=2026-12-01" in response.context["next_url"]
    assert "date=2026-11-29" in response.context["prev_url"]
    assert response.context["next_url"].startswith(reverse("scheduling:day"))


@pytest.fixture
def today_is(monkeypatch):
    """Pin the calendar's today, so a test about the shown week does not depend on the day it runs."""

    def pin(day: date) -> None:
        monkeypatch.setattr("openiop.scheduling.calendar.local_today", lambda tz: day)

    return pin


@pytest.mark.parametrize("today", [MONDAY + timedelta(days=2), MONDAY + timedelta(days=7), MONDAY - timedelta(days=2)])
def test_an_empty_weekend_is_left_out_of_the_week(client, clinic, process, today_is, today):
    today_is(today)
    login(client, clinic.clinician)
    days = [c.day.weekday() for c in _week(client).context["grid"].days]
    assert days == [0, 1, 2, 3, 4]
    make_session(clinic.mh, _at(MONDAY + timedelta(days=5), 10), title="Saturday family group")
    days = [c.day.weekday() for c in _week(client).context["grid"].days]
    assert days == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("weekday", [5, 6])
def test_an_empty_weekend_day_that_is_today_stays(client, clinic, process, today_is, weekday):
    today_is(MONDAY + timedelta(days=weekday))
    login(client, clinic.clinician)
    columns = _week(client).context["grid"].days
    assert [c.day.weekday() for c in columns] == [0, 1, 2, 3, 4, weekday]
    assert [c.day.weekday() for c in columns if c.is_today] == [weekday]
