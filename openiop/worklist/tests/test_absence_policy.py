"""The absence policy through the real check-in and correction actions: each trigger raises exactly one task."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from openiop.attendance.actions import do_check_in, do_record_session_cancelled
from openiop.attendance.models import AttendancePolicy, AttendanceRecord
from openiop.core.models import AuditAction, AuditEvent
from openiop.scheduling.models import Booking, Session
from openiop.testing.scheduling import make_booking, make_session
from openiop.worklist.actions import do_close_task
from openiop.worklist.models import WorkTask
from openiop.worklist.tests.conftest import EXCUSED, PRESENT, UNEXCUSED, local_day, person_with_sessions

Kind = WorkTask.Kind


def tasks(person, kind=Kind.OUTREACH):
    return list(WorkTask.objects.filter(episode=person.episode, kind=kind).order_by("created_at", "pk"))


def test_two_consecutive_misses_raise_one_outreach_task_for_the_primary_clinician(clinic, robin):
    robin.mark(0, PRESENT)
    robin.mark(1, UNEXCUSED)
    assert tasks(robin) == []
    robin.mark(2, EXCUSED)
    [task] = tasks(robin)
    assert task.assigned_to == clinic.clinician
    assert task.status == WorkTask.Status.OPEN
    assert task.due_on == clinic.mh.now().date() + timedelta(days=1)
    assert task.trigger_key == f"outreach:{robin.episode.public_id}:{robin.sessions[1].public_id}"
    first = robin.sessions[1].starts_at.astimezone(clinic.mh.tz())
    assert task.reason.startswith("Missed 2 sessions in a row: ")
    assert f"{first:%a} {first.day} {first:%b} Process group (unexcused)" in task.reason
    assert "(excused)" in task.reason
    assert "Robin" not in task.reason and "Rivera" not in task.reason
    created = AuditEvent.objects.filter(
        action=AuditAction.CREATED, object_type="worktask", object_id=str(task.public_id)
    )
    assert created.count() == 1
    assert created.get().changed_fields == ["assigned_to", "due_on", "kind", "reason"]


def test_a_third_miss_in_the_same_streak_raises_no_second_task(robin):
    for index in range(4):
        robin.mark(index, UNEXCUSED if index != 1 else EXCUSED)
    assert len(tasks(robin)) == 1


def test_re_saving_the_same_record_changes_nothing(robin):
    robin.mark(0, UNEXCUSED)
    robin.mark(1, UNEXCUSED)
    before = AuditEvent.objects.count()
    for _ in range(3):
        robin.mark(1, UNEXCUSED)
        robin.mark(0, UNEXCUSED)
    assert len(tasks(robin)) == 1
    assert AuditEvent.objects.count() == before


def test_attendance_between_misses_breaks_the_streak(robin):
    robin.mark(0, UNEXCUSED)
    robin.mark(1, PRESENT)
    robin.mark(2, UNEXCUSED)
    assert tasks(robin) == []


def test_a_new_streak_after_attending_raises_its_own_task(robin):
    for index, status in enumerate([UNEXCUSED, UNEXCUSED, PRESENT, EXCUSED, EXCUSED]):
        robin.mark(index, status)
    keys = [t.trigger_key for t in tasks(robin)]
    assert keys == [
        f"outreach:{robin.episode.public_id}:{robin.sessions[0].public_id}",
        f"outreach:{robin.episode.public_id}:{robin.sessions[3].public_id}",
    ]


def test_a_session_cancelled_by_the_program_neither_breaks_nor_extends_a_streak(clinic, robin):
    reason = "Snow day"
    day = local_day(clinic.mh, 17)
    cancelled = make_session(
        clinic.mh,
        datetime.combine(day, time(9), tzinfo=clinic.mh.tz()),
        status=Session.Status.CANCELLED,
        cancel_reason=reason,
    )
    make_booking(cancelled, robin.patient, episode=robin.episode, status=Booking.Status.CANCELLED, cancel_reason=reason)
    robin.mark(0, PRESENT)
    robin.mark(1, UNEXCUSED)  # 18 days ago
    [record] = do_record_session_cancelled(cancelled, acting_user=clinic.clinician)  # 17 days ago
    assert record.status == AttendanceRecord.Status.CANCELLED
    assert tasks(robin) == [], "a cancelled session is no miss"
    robin.mark(2, UNEXCUSED)  # 16 days ago: still consecutive with the miss before the cancelled one
    [task] = tasks(robin)
    assert task.trigger_key.endswith(str(robin.sessions[1].public_id))


def test_correcting_a_miss_to_attendance_closes_the_task_as_not_needed(clinic, robin):
    robin.mark(0, UNEXCUSED)
    robin.mark(1, UNEXCUSED)
    [task] = tasks(robin)
    robin.mark(1, PRESENT, by=clinic.intern)
    task.refresh_from_db()
    assert task.status == WorkTask.Status.DONE
    assert task.outcome == WorkTask.Outcome.NOT_NEEDED
    assert task.closed_by == clinic.intern
    local = robin.sessions[1].starts_at.astimezone(clinic.mh.tz())
    assert task.outcome_note == (
        f"Attendance corrected: {local:%a} {local.day} {local:%b} Process group is now present, "
        "so this no longer applies."
    )
    assert WorkTask.objects.filter(pk=task.pk).exists()


def test_correcting_the_first_miss_of_a_longer_streak_moves_the_task_to_the_rest_of_it(robin):
    for index in range(3):
        robin.mark(index, UNEXCUSED)
    [old] = tasks(robin)
    robin.mark(0, PRESENT)
    old.refresh_from_db()
    assert old.outcome == WorkTask.Outcome.NOT_NEEDED
    new = [t for t in tasks(robin) if t.status == WorkTask.Status.OPEN]
    assert [t.trigger_key for t in new] == [f"outreach:{robin.episode.public_id}:{robin.sessions[1].public_id}"]


def test_correcting_back_to_a_miss_reopens_the_same_task(robin):
    robin.mark(0, UNEXCUSED)
    robin.mark(1, UNEXCUSED)
    robin.mark(1, PRESENT)
    robin.mark(1, EXCUSED)
    [task] = tasks(robin)
    assert task.status == WorkTask.Status.OPEN
    assert task.outcome == "" and task.closed_at is None


def test_a_task_staff_closed_stays_closed_when_the_streak_is_saved_again(clinic, robin):
    robin.mark(0, UNEXCUSED)
    robin.mark(1, UNEXCUSED)
    [task] = tasks(robin)
    do_close_task(task, acting_user=clinic.clinician, outcome=WorkTask.Outcome.REACHED, note="Car trouble")
    robin.mark(2, UNEXCUSED)
    robin.mark(1, EXCUSED)
    [task] = tasks(robin)
    assert task.outcome == WorkTask.Outcome.REACHED


def test_without_a_primary_clinician_the_task_goes_to_the_program_director(clinic):
    person = person_with_sessions(clinic, [5, 3], "Sky", primary_clinician=None)
    person.mark(0, UNEXCUSED)
    person.mark(1, UNEXCUSED)
    [task] = tasks(person)
    assert task.assigned_to == clinic.director


def test_the_programs_own_policy_numbers_apply(clinic, robin):
    AttendancePolicy.objects.create(program=clinic.mh, outreach_after_consecutive_misses=3, outreach_due_days=4)
    clinic.mh.refresh_from_db()
    robin.mark(0, UNEXCUSED)
    robin.mark(1, UNEXCUSED)
    assert tasks(robin) == []
    robin.mark(2, UNEXCUSED)
    [task] = tasks(robin)
    assert task.due_on == clinic.mh.now().date() + timedelta(days=4)
    assert task.reason.startswith("Missed 3 sessions in a row")


# --- Discharge review -------------------------------------------------------------------------------------------


def test_three_unexcused_absences_in_14_days_raise_one_discharge_review(clinic):
    person = person_with_sessions(clinic, [13, 11, 9, 7], "Lee")
    person.mark(0, UNEXCUSED)
    person.mark(1, PRESENT)
    person.mark(2, UNEXCUSED)
    assert tasks(person, Kind.DISCHARGE_REVIEW) == []
    person.mark(3, UNEXCUSED)
    [review] = tasks(person, Kind.DISCHARGE_REVIEW)
    assert review.trigger_key == f"review:{person.episode.public_id}:{person.sessions[0].public_id}"
    assert review.due_on == clinic.mh.now().date() + timedelta(days=3)
    assert review.reason.startswith("3 unexcused absences within 14 days: ")
    assert review.assigned_to == clinic.clinician


def test_excused_absences_do_not_count_toward_the_review(clinic):
    person = person_with_sessions(clinic, [13, 11, 9], "Lee")
    person.mark(0, UNEXCUSED)
    person.mark(1, EXCUSED)
    person.mark(2, UNEXCUSED)
    assert tasks(person, Kind.DISCHARGE_REVIEW) == []


@pytest.mark.parametrize(("last_day_offset", "fires"), [(13, True), (14, False)])
def test_the_window_is_14_program_local_days(clinic, last_day_offset, fires):
    """First absence at 21:00 New York (02:00 UTC the next day): in UTC dates 14 local days would look like 13."""
    person = person_with_sessions(clinic, [], "Ari")
    tz = clinic.mh.tz()
    first = local_day(clinic.mh, 20)
    starts = [
        datetime.combine(first, time(21), tzinfo=tz),
        datetime.combine(first + timedelta(days=7), time(9), tzinfo=tz),
        datetime.combine(first + timedelta(days=last_day_offset), time(9), tzinfo=tz),
    ]
    for start in starts:
        session = make_session(clinic.mh, start)
        make_booking(session, person.patient, episode=person.episode)
        person.sessions.append(session)
    for index in range(3):
        person.mark(index, UNEXCUSED)
    assert len(tasks(person, Kind.DISCHARGE_REVIEW)) == (1 if fires else 0)


def test_no_second_review_while_one_is_open_and_a_fresh_window_after_it_is_closed(clinic):
    person = person_with_sessions(clinic, [24, 23, 22, 21, 20, 19, 5, 4, 3], "Noa")
    for index in range(6):
        person.mark(index, UNEXCUSED)
    [review] = tasks(person, Kind.DISCHARGE_REVIEW)
    assert review.trigger_key.endswith(str(person.sessions[0].public_id))
    do_close_task(review, acting_user=clinic.clinician, outcome=WorkTask.Outcome.PLAN_CHANGED)
    person.mark(6, UNEXCUSED)
    person.mark(7, UNEXCUSED)
    assert len(tasks(person, Kind.DISCHARGE_REVIEW)) == 1, "the windows already used stay used"
    person.mark(8, UNEXCUSED)
    reviews = tasks(person, Kind.DISCHARGE_REVIEW)
    assert [r.trigger_key.rsplit(":", 1)[1] for r in reviews] == [
        str(person.sessions[0].public_id),
        str(person.sessions[6].public_id),
    ]
    assert reviews[1].status == WorkTask.Status.OPEN


def test_correcting_an_absence_out_of_the_window_closes_the_review(clinic):
    person = person_with_sessions(clinic, [10, 8, 6], "Lee")
    for index in range(3):
        person.mark(index, UNEXCUSED)
    [review] = tasks(person, Kind.DISCHARGE_REVIEW)
    person.mark(1, EXCUSED)
    review.refresh_from_db()
    assert review.outcome == WorkTask.Outcome.NOT_NEEDED
    assert "is now absent, excused" in review.outcome_note
    # The outreach streak still stands: an excused absence is a miss too.
    assert [t.status for t in tasks(person)] == [WorkTask.Status.OPEN]


def test_a_discharged_episode_raises_nothing(clinic):
    from openiop.patients.actions import do_change_episode_status

    person = person_with_sessions(clinic, [6, 4], "Eli")
    person.mark(0, UNEXCUSED)
    do_change_episode_status(
        person.episode,
        acting_user=clinic.director,
        status="discharged",
        on_date=local_day(clinic.mh, 0),
        discharge_reason="2",
    )
    do_check_in(person.sessions[1], person.patient, acting_user=clinic.clinician, status=UNEXCUSED)
    assert tasks(person) == []
