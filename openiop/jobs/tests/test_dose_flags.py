"""The dose watch: one work-queue task per episode-week at risk, raised once however often the job runs, closed
by the system when the week is no longer at risk and reopened if it falls back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from openiop.attendance.actions import do_correct_attendance
from openiop.attendance.models import AttendanceRecord
from openiop.jobs.dose_flags import raise_dose_flags
from openiop.testing.attendance import (
    EXCUSED,
    PRESENT,
    UNEXCUSED,
    admit_to_track,
    book,
    check_in,
    check_in_all,
    today,
    track_day,
)
from openiop.worklist.models import WorkTask

pytestmark = pytest.mark.django_db
KIND = WorkTask.Kind.DOSE_AT_RISK


@pytest.fixture
def week0(clinic, settings):
    """A week that began the day before yesterday, so it has past and future days."""
    start = today(clinic.mh) - timedelta(days=2)
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "week_starts_on": start.weekday()}
    return start


def person(clinic, name, week0, *, day1):
    """Three 3-hour days (0, 1, 3) against the 9-hour minimum; day 0 present, day 1 as given."""
    ep = admit_to_track(clinic, name, track=clinic.day, admitted_on=week0 - timedelta(days=14))
    d0, d1, d3 = (track_day(clinic.mh, week0 + timedelta(days=n)) for n in (0, 1, 3))
    book([*d0, *d1, *d3], ep)
    check_in_all(d0, ep, PRESENT, clinic.director)
    if day1 == "excused1":
        check_in(d1[0], ep, EXCUSED, clinic.director)
        check_in_all(d1[1:], ep, PRESENT, clinic.director)
    else:
        check_in_all(d1, ep, day1, clinic.director)
    return ep


def test_a_task_once_per_episode_week_at_risk_and_none_for_a_week_on_plan(clinic, week0):
    rae = person(clinic, "Rae", week0, day1=UNEXCUSED)  # 3 h lost of 9: out of reach
    person(clinic, "Tia", week0, day1=PRESENT)  # no margin, nothing lost: not at risk
    assert raise_dose_flags() == {"episodes": 2, "raised": 1, "reopened": 0, "closed": 0}
    task = WorkTask.objects.get(kind=KIND)
    assert task.episode == rae and task.trigger_key == f"dose:{rae.public_id}:{week0.isoformat()}"
    assert task.assigned_to == clinic.director  # no primary clinician: the program's director
    assert task.reason.startswith("Weekly dose at risk (out of reach): 3 of 9 h attended, 3 h still scheduled")
    assert "Rae" not in task.reason
    assert raise_dose_flags()["raised"] == 0  # the next run (and the one after) raises nothing again
    assert WorkTask.objects.filter(kind=KIND).count() == 1


def test_the_task_closes_when_the_week_is_no_longer_at_risk_and_reopens_if_it_falls_back(clinic, week0):
    rae = person(clinic, "Rae", week0, day1=UNEXCUSED)
    raise_dose_flags()
    day1 = list(AttendanceRecord.objects.filter(episode=rae, status=UNEXCUSED))
    for record in day1:
        do_correct_attendance(record, acting_user=clinic.director, reason="Paper roster", status=PRESENT)
    assert raise_dose_flags()["closed"] == 1
    task = WorkTask.objects.get(kind=KIND)
    assert (task.status, task.outcome) == (WorkTask.Status.DONE, WorkTask.Outcome.NOT_NEEDED)
    assert raise_dose_flags()["closed"] == 0
    for record in AttendanceRecord.objects.filter(pk__in=[r.pk for r in day1]):
        do_correct_attendance(record, acting_user=clinic.director, reason="Wrong day", status=UNEXCUSED)
    assert raise_dose_flags()["reopened"] == 1
    assert WorkTask.objects.get(kind=KIND).status == WorkTask.Status.OPEN


def test_a_staff_closure_stays_closed_and_discharged_episodes_are_left_alone(clinic, week0):
    from openiop.worklist.actions import do_close_task

    person(clinic, "Uma", week0, day1="excused1")  # one hour lost: every remaining session needed
    assert raise_dose_flags()["raised"] == 1
    task = WorkTask.objects.get(kind=KIND)
    do_close_task(task, acting_user=clinic.clinician, outcome=WorkTask.Outcome.REACHED, note="Make-up booked")
    assert raise_dose_flags() == {"episodes": 1, "raised": 0, "reopened": 0, "closed": 0}
    assert WorkTask.objects.get(kind=KIND).outcome == WorkTask.Outcome.REACHED
