"""The chart's Attendance tab, this week's at-risk list, the home panel and the program attendance report:
numbers on a hand-built dataset, access, audit rows and query counts."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.testing.attendance import (
    EXCUSED,
    PRESENT,
    UNEXCUSED,
    admit_to_track,
    book,
    check_in,
    check_in_all,
    this_monday,
    today,
    track_day,
)

pytestmark = pytest.mark.django_db


def _new_rows(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(chain_index__gt=before).order_by("chain_index"))


def _head() -> int:
    last = AuditEvent.objects.order_by("-chain_index").first()
    return last.chain_index if last else 0


# --- This week: a week that began the day before yesterday, so every test has past and future days -------------------


@pytest.fixture
def week0(clinic, settings):
    start = today(clinic.mh) - timedelta(days=2)
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "week_starts_on": start.weekday()}
    return start


def _person(clinic, name, week0, *, day0=PRESENT, day1=PRESENT, extra=False, program=None, track=None):
    """Three blocks on days 0, 1 and 3 of the week; day 0 and 1 recorded as given ("excused1" = one block off)."""
    program = program or clinic.mh
    track = track if track is not None else (clinic.day if program == clinic.mh else None)
    ep = admit_to_track(clinic, name, program=program, track=track, admitted_on=week0 - timedelta(days=14))
    d0, d1, d3 = (track_day(program, week0 + timedelta(days=n)) for n in (0, 1, 3))
    sessions = [*d0, *d1, *d3]
    if extra:
        sessions += track_day(program, week0 + timedelta(days=4), hours=[14])
    book(sessions, ep)
    check_in_all(d0, ep, day0, clinic.director)
    if day1 == "excused1":
        check_in(d1[0], ep, EXCUSED, clinic.director)
        check_in_all(d1[1:], ep, PRESENT, clinic.director)
    else:
        check_in_all(d1, ep, day1, clinic.director)
    return ep


@pytest.fixture
def risk_week(clinic, week0):
    return {
        "rae": _person(clinic, "Rae", week0, day1=UNEXCUSED),  # 3 h short: out of reach
        "tia": _person(clinic, "Tia", week0),  # on plan, no margin: not at risk
        "uma": _person(clinic, "Uma", week0, day1="excused1", extra=True),  # margin used up: at risk
        "vic": _person(clinic, "Vic", week0, day1=UNEXCUSED, program=clinic.su),  # the other program
    }


def test_the_at_risk_list_names_who_is_at_risk_worst_first(client, clinic, risk_week):
    login(client, clinic.clinician)
    before = _head()
    response = client.get(reverse("attendance:dose_at_risk"))
    assert response.status_code == 200
    (mh,) = response.context["programs"]
    assert [d.episode.patient.legal_first_name for d in mh.at_risk] == ["Rae", "Uma"]
    assert len(mh.doses) == 3
    page = response.content.decode()
    assert "Rae Dose" in page and "Uma Dose" in page and "Tia Dose" not in page and "Vic Dose" not in page
    assert f"{risk_week['rae'].patient.get_absolute_url()}?tab=attendance" in page
    rows = _new_rows(before)
    assert [(e.action, e.object_type, e.patient) for e in rows] == [(AuditAction.PATIENTS_LISTED, "dose_at_risk", None)]


def test_a_director_of_both_programs_sees_both(client, clinic, risk_week):
    response = login(client, clinic.director).get(reverse("attendance:dose_at_risk"))
    names = [d.episode.patient.legal_first_name for p in response.context["programs"] for d in p.at_risk]
    assert sorted(names) == ["Rae", "Uma", "Vic"]


@pytest.mark.parametrize("who", ["outsider", "stranger"])
def test_others_see_none_of_these_patients(client, clinic, risk_week, who):
    login(client, getattr(clinic, who))
    before = _head()
    response = client.get(reverse("attendance:dose_at_risk"))
    assert response.status_code == 200
    assert "Rae Dose" not in response.content.decode()
    assert _new_rows(before) == []  # nobody named, nothing to audit


def test_the_at_risk_list_needs_view_patients(client, clinic, risk_week):
    assert login(client, clinic.sysadmin).get(reverse("attendance:dose_at_risk")).status_code == 403


def test_the_at_risk_list_query_count_does_not_grow(client, clinic, week0):
    _person(clinic, "Ann", week0, day1=UNEXCUSED)
    login(client, clinic.director)
    url = reverse("attendance:dose_at_risk")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(5):
        _person(clinic, f"More{n}", week0, day1=UNEXCUSED)
        _person(clinic, f"Su{n}", week0, day1=UNEXCUSED, program=clinic.su)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert sum(len(p.at_risk) for p in response.context["programs"]) == 11
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_the_home_panel_counts_without_names_or_audit(client, clinic, risk_week):
    login(client, clinic.frontdesk)
    before = _head()
    response = client.get(reverse("attendance:dose_home_panel"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 at risk" in page and "1 out of reach" in page and "of 3 active" in page
    assert "Rae" not in page
    assert _new_rows(before) == []
    home = client.get(reverse("core:home")).content.decode()
    assert reverse("attendance:dose_home_panel") in home


def test_the_home_panel_needs_the_census(client, clinic):
    assert login(client, clinic.sysadmin).get(reverse("attendance:dose_home_panel")).status_code == 403


def test_the_home_panel_query_count_does_not_grow(client, clinic, week0):
    _person(clinic, "Ann", week0)
    login(client, clinic.director)
    url = reverse("attendance:dose_home_panel")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(4):
        _person(clinic, f"More{n}", week0, day1=UNEXCUSED, program=clinic.su)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


# --- The chart tab ----------------------------------------------------------------------------------------------------


def _tab(client, patient):
    return client.get(reverse("patients:chart_tab", args=[patient.public_id, "attendance"]), HTTP_HX_REQUEST="true")


def test_the_tab_shows_this_week_the_heatmap_and_the_suggestions(client, clinic, risk_week, week0):
    rae = risk_week["rae"]
    track_day(clinic.mh, week0 + timedelta(days=4), hours=[18, 19, 20], track=clinic.evening)
    login(client, clinic.clinician)
    before = _head()
    response = _tab(client, rae.patient)
    assert response.status_code == 200
    page = response.content.decode()
    assert "This week" in page and "At risk: minimum out of reach" in page
    assert "Short by 3 h" in page
    assert page.count('class="dose-week ') == 3  # the admission week, the one after, this one
    assert f'data-week="{week0:%Y-%m-%d}"' in page
    assert "Participation" in page  # clinical staff see how people took part
    (panel,) = response.context["dose_panels"]
    suggested = panel.plan.sessions
    assert len(suggested) == 3 and sum(c.credited for c in suggested) == 180
    for c in suggested:
        assert reverse("attendance:book_makeup", args=[rae.public_id, c.session.public_id]) in page
    assert [(e.action, e.object_type, e.patient_id) for e in _new_rows(before)] == [
        (AuditAction.RECORD_VIEWED, "attendance", rae.patient_id)
    ]


def test_front_desk_sees_attendance_and_can_book_but_not_participation(client, clinic, risk_week, week0):
    track_day(clinic.mh, week0 + timedelta(days=4), hours=[18, 19, 20], track=clinic.evening)
    page = _tab(login(client, clinic.frontdesk), risk_week["rae"].patient).content.decode()
    assert "This week" in page
    assert "Participation" not in page
    assert ">Book</button>" in page


def test_billing_sees_attendance_without_a_book_button(client, clinic, risk_week, week0):
    track_day(clinic.mh, week0 + timedelta(days=4), hours=[18, 19, 20], track=clinic.evening)
    page = _tab(login(client, clinic.billing), risk_week["rae"].patient).content.decode()
    assert "This week" in page and ">Book</button>" not in page


def test_the_full_chart_opens_on_the_attendance_tab(client, clinic, risk_week):
    response = login(client, clinic.clinician).get(f"{risk_week['tia'].patient.get_absolute_url()}?tab=attendance")
    assert response.status_code == 200
    assert "On plan, no margin" in response.content.decode()


@pytest.mark.parametrize("who", ["outsider", "stranger"])
def test_outsiders_cannot_open_the_tab(client, clinic, risk_week, who):
    assert _tab(login(client, getattr(clinic, who)), risk_week["rae"].patient).status_code == 404


def test_the_tab_query_count_does_not_grow_with_weeks_or_sessions(client, clinic, week0):
    ep = admit_to_track(clinic, "Wes", track=clinic.day, admitted_on=week0 - timedelta(days=3))
    book(track_day(clinic.mh, week0), ep)
    login(client, clinic.clinician)
    with CaptureQueriesContext(connection) as few:
        _tab(client, ep.patient)
    long = admit_to_track(clinic, "Xan", track=clinic.day, admitted_on=week0 - timedelta(days=35))
    for w in range(6):
        sessions = track_day(clinic.mh, week0 - timedelta(days=7 * w))
        book(sessions, long)
        check_in_all(sessions, long, PRESENT if w % 2 else UNEXCUSED, clinic.clinician)
    with CaptureQueriesContext(connection) as many:
        response = _tab(client, long.patient)
    assert response.content.decode().count('class="dose-week ') == 6
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


# --- Program report: two closed Monday weeks, by hand ---------------------------------------------------------------


@pytest.fixture
def report_weeks(clinic):
    """Weeks W1 and W2 before this one (Monday weeks, the default policy), Adult MH:

    person  track    W1 (Mon/Wed/Fri 3 x 55 min)          W2
    Ada     Day      9 present: met                      Mon, Fri present, Wed unexcused: missed
    Ben     Day      Mon, Fri present, Wed excused: missed  9 present: met
    Cat     Evening  (admitted on W2's Monday)            Mon/Tue/Thu evenings present, an extra Wed unrecorded: met

    Day: 36 sessions, 30 attended (83.3 %), 3 unexcused (8.3 %), 2 of 4 weeks met (50.0 %).
    Evening: 10 sessions, 9 attended (90.0 %), 0 unexcused, 1 unrecorded, 1 of 1 week met (100.0 %).
    All: 46 sessions, 39 attended (84.8 %), 3 unexcused (6.5 %), 3 of 5 weeks met (60.0 %).
    """
    mh, by = clinic.mh, clinic.clinician
    w2 = this_monday(mh) - timedelta(days=7)
    w1 = w2 - timedelta(days=7)
    ada = admit_to_track(clinic, "Ada", track=clinic.day, admitted_on=w1 - timedelta(days=7))
    ben = admit_to_track(clinic, "Ben", track=clinic.day, admitted_on=w1 - timedelta(days=7))
    cat = admit_to_track(clinic, "Cat", track=clinic.evening, admitted_on=w2)

    def week(ep, monday, wed_status):
        mon, wed, fri = (track_day(mh, monday + timedelta(days=d), track=ep.track) for d in (0, 2, 4))
        book([*mon, *wed, *fri], ep)
        check_in_all([*mon, *fri], ep, PRESENT, by)
        check_in_all(wed, ep, wed_status, by)

    week(ada, w1, PRESENT)
    week(ada, w2, UNEXCUSED)
    week(ben, w1, EXCUSED)
    week(ben, w2, PRESENT)
    evenings = [track_day(mh, w2 + timedelta(days=d), hours=[18, 19, 20], track=clinic.evening) for d in (0, 1, 3)]
    book([s for day in evenings for s in day], cat)
    check_in_all([s for day in evenings for s in day], cat, PRESENT, by)
    book(track_day(mh, w2 + timedelta(days=2), hours=[18], track=clinic.evening), cat)
    # This week's sessions are outside the range and must not leak in.
    book(track_day(mh, this_monday(mh)), ada)
    return w1, w2


def _report(client, clinic, w1, w2, **extra):
    url = reverse("attendance:program_report", args=[clinic.mh.public_id])
    return client.get(url, {"start": w1.isoformat(), "end": (w2 + timedelta(days=6)).isoformat(), **extra})


def test_report_numbers_by_track(client, clinic, report_weeks):
    w1, w2 = report_weeks
    response = _report(login(client, clinic.director), clinic, w1, w2)
    assert response.status_code == 200
    report = response.context["report"]
    rows = {r.name: r for r in report.rows}
    day, evening, total = rows["Day"], rows["Evening"], report.total
    assert (day.scheduled, day.attended, day.unexcused, day.excused, day.unrecorded) == (36, 30, 3, 3, 0)
    assert (str(day.attendance_rate), str(day.no_show_rate), str(day.dose_share)) == ("83.3", "8.3", "50.0")
    assert (day.weeks_met, day.weeks_due, day.patient_count) == (2, 4, 2)
    assert (evening.scheduled, evening.attended, evening.unrecorded) == (10, 9, 1)
    assert (str(evening.attendance_rate), str(evening.no_show_rate), str(evening.dose_share)) == (
        "90.0",
        "0.0",
        "100.0",
    )
    assert (total.scheduled, total.attended, total.weeks_met, total.weeks_due) == (46, 39, 3, 5)
    assert (str(total.attendance_rate), str(total.no_show_rate), str(total.dose_share)) == ("84.8", "6.5", "60.0")
    page = response.content.decode()
    assert "<svg" in page and "83.3%" in page
    for name in ("Ada", "Ben", "Cat", "Dose"):
        assert name not in page  # aggregates only


def test_viewing_the_report_writes_no_audit_row(client, clinic, report_weeks):
    login(client, clinic.director)
    before = _head()
    _report(client, clinic, *report_weeks)
    assert _new_rows(before) == []


def test_the_csv_export_matches_and_is_audited(client, clinic, report_weeks):
    w1, w2 = report_weeks
    login(client, clinic.director)
    before = _head()
    url = reverse("attendance:program_report_csv", args=[clinic.mh.public_id])
    response = client.get(url, {"start": w1.isoformat(), "end": (w2 + timedelta(days=6)).isoformat()})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [
        (r["track"], r["scheduled_sessions"], r["attendance_rate_percent"], r["dose_met_percent"]) for r in rows
    ] == [
        ("Day", "36", "83.3", "50.0"),
        ("Evening", "10", "90.0", "100.0"),
        ("All tracks", "46", "84.8", "60.0"),
    ]
    (event,) = _new_rows(before)
    assert (event.action, event.object_type, event.object_id, event.patient) == (
        AuditAction.EXPORTED, "attendance_report", str(clinic.mh.public_id), None,
    )  # fmt: skip


def test_the_report_defaults_to_the_last_eight_weeks(client, clinic):
    response = login(client, clinic.frontdesk).get(reverse("attendance:program_report", args=[clinic.mh.public_id]))
    assert response.status_code == 200
    report = response.context["report"]
    assert report.end == today(clinic.mh)
    assert report.start == this_monday(clinic.mh) - timedelta(weeks=7)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-11-10", "2026-11-01", "The end date must be on or after the start date."),
        ("2025-01-01", "2026-11-01", "Pick at most 366 days."),
        ("not a date", "2026-11-01", "Enter a valid date."),
    ],
)
def test_bad_dates_rerender_with_the_field_error_and_what_was_typed(client, clinic, start, end, message):
    login(client, clinic.director)
    url = reverse("attendance:program_report", args=[clinic.mh.public_id])
    response = client.get(url, {"start": start, "end": end})
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and f'value="{start}"' in page
    csv_url = reverse("attendance:program_report_csv", args=[clinic.mh.public_id])
    assert client.get(csv_url, {"start": start, "end": end}).status_code == 400


@pytest.mark.parametrize(
    ("who", "status"),
    [("outsider", 404), ("stranger", 404), ("sysadmin", 403), ("frontdesk", 200), ("billing", 200), ("auditor", 200)],
)
def test_report_access(client, clinic, who, status):
    login(client, getattr(clinic, who))
    for name in ("attendance:program_report", "attendance:program_report_csv"):
        assert client.get(reverse(name, args=[clinic.mh.public_id])).status_code == status, name


def test_the_report_query_count_does_not_grow(client, clinic, report_weeks):
    w1, w2 = report_weeks
    login(client, clinic.director)
    with CaptureQueriesContext(connection) as few:
        _report(client, clinic, w1, w2)
    for n in range(4):
        ep = admit_to_track(clinic, f"Extra{n}", track=clinic.evening, admitted_on=w1)
        sessions = track_day(clinic.mh, w2, hours=[18, 19, 20], track=clinic.evening)
        book(sessions, ep)
        check_in_all(sessions, ep, PRESENT, clinic.clinician)
    with CaptureQueriesContext(connection) as many:
        response = _report(client, clinic, w1, w2)
    assert response.context["report"].total.patient_count == 7
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
