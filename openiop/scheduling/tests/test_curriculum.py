"""The curriculum panel and the chart's Schedule tab: covered and missing topics, make-up suggestions."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.models import EpisodeOfCare
from openiop.scheduling.curriculum import curriculum_report, episode_deadline, plan_topics
from openiop.scheduling.models import Enrollment
from openiop.testing.fixtures import make_patient
from openiop.testing.scheduling import make_booking, make_session, make_session_type, make_topic

NY = zoneinfo.ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 1, 12, tzinfo=NY)


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=NY)


@pytest.fixture
def setup(clinic, patient):
    EpisodeOfCare.objects.filter(patient=patient).update(expected_discharge_on=date(2026, 12, 18))
    episode = EpisodeOfCare.objects.select_related("program__site").get(patient=patient)
    workshop = make_session_type(clinic.mh, "Education workshop", kind="education", service_kind="psychoeducation")
    topics = {
        name: make_topic(clinic.mh, name, i)
        for i, name in enumerate(["Coping skills", "Relapse prevention", "Stress management", "Communication"])
    }

    def ws(day: int, hour: int, topic: str, track=None, **kw):
        return make_session(
            clinic.mh, _at(day, hour), session_type=workshop, topic=topics[topic], track=track or clinic.day, **kw
        )

    return episode, topics, ws


def test_covered_means_a_booked_workshop_that_has_ended(clinic, patient, setup):
    episode, _topics, ws = setup
    make_booking(ws(1, 9, "Coping skills"), patient)  # ended at 9:55 before NOW (12:00)
    make_booking(ws(1, 13, "Stress management"), patient)  # later today: booked, not covered yet
    report = curriculum_report(episode, now=NOW)
    by_name = {t.topic.name: t for t in report.topics}
    assert by_name["Coping skills"].is_covered
    assert not by_name["Stress management"].is_covered
    assert [s.starts_at for s in by_name["Stress management"].booked] == [_at(1, 13)]
    assert {t.topic.name for t in report.missing} == {"Relapse prevention", "Stress management", "Communication"}


def test_missing_topics_get_make_up_sessions_in_another_track_before_discharge(clinic, patient, setup):
    episode, _topics, ws = setup
    evening = ws(3, 18, "Relapse prevention", track=clinic.evening)
    day_later = ws(9, 9, "Relapse prevention")
    ws(21, 9, "Relapse prevention")  # after the expected discharge (Dec 18)
    full = ws(2, 9, "Communication", capacity=1)
    make_booking(full, make_patient(clinic, legal_first_name="Other", legal_last_name="Person"))
    ws(30, 9, "Communication")
    make_session(
        clinic.su,
        _at(3, 9),
        session_type=make_session_type(clinic.su, "Workshop", kind="education"),
        topic=make_topic(clinic.su, "Relapse prevention"),
    )  # another program: never suggested
    report = curriculum_report(episode, now=NOW)
    by_name = {t.topic.name: t for t in report.topics}
    assert by_name["Relapse prevention"].suggestions == [evening, day_later]
    assert by_name["Communication"].suggestions == []  # full, or after discharge
    assert report.last_day == date(2026, 12, 18)


def test_cancelled_and_past_sessions_are_never_suggested(clinic, patient, setup):
    episode, _topics, ws = setup
    ws(1, 8, "Coping skills")  # already started
    ws(2, 9, "Coping skills", status="cancelled")
    upcoming = ws(4, 9, "Coping skills")
    report = curriculum_report(episode, now=NOW)
    assert {t.topic.name: t for t in report.topics}["Coping skills"].suggestions == [upcoming]


def test_plan_topics_is_pure_and_limits_suggestions(clinic, setup):
    _episode, topics, ws = setup
    sessions = [ws(d, 9, "Communication") for d in (2, 3, 4, 7, 8)]
    plans = plan_topics([topics["Communication"]], [], sessions, now=NOW, deadline=_at(31, 0), limit=3)
    assert plans[0].suggestions == sessions[:3]


def test_a_cancelled_booked_session_does_not_cover_a_topic(clinic, patient, setup):
    episode, _topics, ws = setup
    make_booking(ws(1, 8, "Coping skills", status="cancelled"), patient)
    report = curriculum_report(episode, now=NOW)
    assert not {t.topic.name: t for t in report.topics}["Coping skills"].is_covered


def test_without_expected_discharge_the_program_length_bounds_suggestions(clinic, patient):
    episode = EpisodeOfCare.objects.select_related("program").get(patient=patient)
    deadline = episode_deadline(episode, NOW)
    assert episode.admitted_on is not None
    assert deadline == datetime.combine(
        episode.admitted_on + timedelta(weeks=clinic.mh.max_length_weeks, days=1), datetime.min.time(), tzinfo=NY
    )


# --- The chart's Schedule tab -------------------------------------------------------------------------------------


def _tab(client, patient):
    return client.get(
        reverse("patients:chart_tab", args=[patient.public_id, "schedule"]), headers={"HX-Request": "true"}
    )


def test_schedule_tab_shows_upcoming_and_past_sessions_and_the_enrollment(client, clinic, patient, setup):
    episode, _topics, _ws = setup
    past = make_session(clinic.mh, datetime(2026, 11, 4, 9, tzinfo=NY), title="Early group", track=clinic.day)
    future = make_session(clinic.mh, datetime(2030, 1, 7, 9, tzinfo=NY), title="Future group", track=clinic.day)
    make_booking(past, patient)
    make_booking(future, patient)
    Enrollment.objects.create(episode=episode, track=clinic.day, starts_on=date(2026, 11, 2))
    login(client, clinic.clinician)
    response = _tab(client, patient)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Future group" in html and "Early group" in html
    assert [b.session for b in response.context["upcoming"]] == [future]
    assert "Day track" in html
    assert "Mon Jan 7, 2030 9:00 AM" in html  # program-local time
    assert "attendance records will refine this" in html
    assert AuditEvent.objects.filter(action=AuditAction.RECORD_VIEWED, object_type="schedule", patient=patient).exists()


def test_schedule_tab_suggests_make_up_sessions_for_missing_topics(client, clinic, patient, setup):
    episode, topics, _ws = setup
    EpisodeOfCare.objects.filter(pk=episode.pk).update(expected_discharge_on=date(2031, 1, 1))
    make_session(
        clinic.mh,
        datetime(2030, 1, 8, 18, tzinfo=NY),
        session_type=make_session_type(clinic.mh, "Education workshop"),
        topic=topics["Communication"],
        track=clinic.evening,
    )
    login(client, clinic.clinician)
    html = _tab(client, patient).content.decode()
    assert "Communication" in html
    assert "Tue Jan 8, 6:00 PM (Evening track)" in html
    assert "0 of 4 topics covered" in html


def test_front_desk_sees_the_schedule_but_not_the_curriculum(client, clinic, patient, setup):
    login(client, clinic.frontdesk)
    response = _tab(client, patient)
    assert response.status_code == 200
    assert "Education curriculum" not in response.content.decode()


def test_schedule_tab_access(client, clinic, patient):
    login(client, clinic.sysadmin)
    assert _tab(client, patient).status_code == 403
    for name in ("outsider", "stranger"):
        login(client, getattr(clinic, name))
        assert _tab(client, patient).status_code == 404


def test_schedule_tab_hides_bookings_in_programs_the_user_is_not_in(client, clinic, patient):
    from openiop.patients.actions import do_open_episode

    do_open_episode(
        patient, acting_user=None, program=clinic.su, status=EpisodeOfCare.Status.ACTIVE, admitted_on=date(2026, 11, 2)
    )
    su_session = make_session(
        clinic.su,
        datetime(2030, 1, 7, 13, tzinfo=NY),
        title="SU hidden group",
        session_type=make_session_type(clinic.su, "SU group"),
    )
    make_booking(su_session, patient)
    login(client, clinic.clinician)
    assert "SU hidden group" not in _tab(client, patient).content.decode()
    login(client, clinic.director)
    assert "SU hidden group" in _tab(client, patient).content.decode()


def _tab_queries(client, patient, expected: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = _tab(client, patient)
    assert len(response.context["upcoming"]) == expected
    return len(ctx.captured_queries)


def test_schedule_tab_queries_do_not_grow_with_bookings(client, clinic, patient, setup):
    episode, _topics, ws = setup
    EpisodeOfCare.objects.filter(pk=episode.pk).update(expected_discharge_on=date(2031, 1, 1))
    login(client, clinic.clinician)
    _tab(client, patient)
    make_booking(ws(10, 9, "Coping skills"), patient)
    one = _tab_queries(client, patient, 1)
    for day in range(11, 20):
        make_booking(ws(day, 9, "Communication"), patient)
    ten = _tab_queries(client, patient, 10)
    assert one == ten


def test_the_full_chart_opens_on_the_schedule_tab(client, clinic, patient):
    login(client, clinic.frontdesk)
    response = client.get(f"{patient.get_absolute_url()}?tab=schedule")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Upcoming sessions" in html
    assert 'aria-current="page"' in html and reverse("scheduling:calendar") in html  # the Schedule nav link
