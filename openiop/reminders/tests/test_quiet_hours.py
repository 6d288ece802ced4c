"""Quiet hours: a reminder inside them waits for their end (on the local calendar, across DST too), and one whose
wait would pass what it reminds about is dropped with the reason recorded."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from openiop.reminders import policy
from openiop.reminders.models import Reminder
from openiop.reminders.planner import plan_reminders
from openiop.reminders.sender import send_due
from openiop.reminders.tests.conftest import opt_in
from openiop.testing.scheduling import make_booking, make_session

NY = ZoneInfo("America/New_York")
NIGHT = policy.QuietHours(time(21), time(8))


def test_outside_quiet_hours_nothing_moves():
    at = datetime(2026, 6, 1, 12, tzinfo=NY)
    assert policy.quiet_until(at, NIGHT, NY) is None
    assert policy.deferred(at, NIGHT, NY) == at


def test_evening_and_early_morning_wait_for_eight():
    assert policy.quiet_until(datetime(2026, 6, 1, 22, tzinfo=NY), NIGHT, NY) == datetime(2026, 6, 2, 8, tzinfo=NY)
    assert policy.quiet_until(datetime(2026, 6, 2, 6, tzinfo=NY), NIGHT, NY) == datetime(2026, 6, 2, 8, tzinfo=NY)
    assert policy.quiet_until(datetime(2026, 6, 2, 8, tzinfo=NY), NIGHT, NY) is None
    assert policy.quiet_until(datetime(2026, 6, 1, 21, tzinfo=NY), NIGHT, NY) == datetime(2026, 6, 2, 8, tzinfo=NY)


def test_same_day_quiet_hours_and_none():
    nap = policy.QuietHours(time(13), time(15))
    assert policy.quiet_until(datetime(2026, 6, 1, 14, tzinfo=NY), nap, NY) == datetime(2026, 6, 1, 15, tzinfo=NY)
    assert policy.quiet_until(datetime(2026, 6, 1, 16, tzinfo=NY), nap, NY) is None
    assert policy.quiet_until(datetime(2026, 6, 1, 3, tzinfo=NY), policy.QuietHours(time(0), time(0)), NY) is None


def test_the_end_of_quiet_hours_is_local_eight_across_a_dst_change():
    # Spring forward (2026-03-08): 23:00 EST waits until 08:00 EDT, which is 12:00 UTC, not 13:00.
    end = policy.quiet_until(datetime(2026, 3, 7, 23, tzinfo=NY), NIGHT, NY)
    assert end is not None and end.astimezone(UTC) == datetime(2026, 3, 8, 12, tzinfo=UTC)
    # Fall back (2026-11-01): 23:00 EDT waits until 08:00 EST, 13:00 UTC; the night is 10 hours, not 9.
    start = datetime(2026, 10, 31, 23, tzinfo=NY)
    end = policy.quiet_until(start, NIGHT, NY)
    assert end is not None and end.astimezone(UTC) == datetime(2026, 11, 1, 13, tzinfo=UTC)
    assert end - start.astimezone(UTC) == timedelta(hours=10)


def test_a_wall_time_skipped_by_spring_forward_lands_after_the_gap():
    late = policy.QuietHours(time(1), time(2, 30))
    end = policy.quiet_until(datetime(2026, 3, 8, 1, 30, tzinfo=NY), late, NY)
    assert end is not None and end.astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT


def _night_session(clinic, patient, starts):
    session = make_session(clinic.mh, starts)
    return make_booking(session, patient)


def test_planner_defers_into_the_morning_and_drops_when_the_morning_is_too_late(clinic, patient):
    opt_in(patient, clinic.clinician, email=True)
    tz = clinic.mh.tz()
    day = clinic.mh.now().date() + timedelta(days=1)
    now = datetime.combine(day, time(5), tzinfo=tz)
    nine = _night_session(clinic, patient, datetime.combine(day, time(9), tzinfo=tz))  # 2 h before: 07:00, quiet
    seven = _night_session(clinic, patient, datetime.combine(day, time(7, 30), tzinfo=tz))  # 05:30 -> 08:00 > 7:30
    plan_reminders(now)
    deferred = Reminder.objects.get(object_id=nine.pk, offset_minutes=120)
    assert deferred.status == Reminder.Status.PENDING
    assert deferred.send_after == datetime.combine(day, time(8), tzinfo=tz)
    dropped = Reminder.objects.get(object_id=seven.pk, offset_minutes=120)
    assert dropped.status == Reminder.Status.DROPPED
    assert dropped.drop_reason == Reminder.DropReason.QUIET_HOURS
    # Nothing goes out at 05:00, and the deferred one is not due before eight.
    assert send_due(now)["sent"] == 0
    assert send_due(datetime.combine(day, time(7, 59), tzinfo=tz))["sent"] == 0


def test_the_patients_own_quiet_hours_win_over_the_programs(clinic, patient):
    opt_in(patient, clinic.clinician, email=True, quiet_start=time(22), quiet_end=time(6))
    tz = clinic.mh.tz()
    day = clinic.mh.now().date() + timedelta(days=1)
    booking = _night_session(clinic, patient, datetime.combine(day, time(9), tzinfo=tz))
    plan_reminders(datetime.combine(day, time(6, 30), tzinfo=tz))
    row = Reminder.objects.get(object_id=booking.pk, offset_minutes=120)
    assert row.send_after == datetime.combine(day, time(7), tzinfo=tz)  # 07:00 is outside 22:00-06:00


def test_a_reminder_claimed_inside_quiet_hours_is_put_back_until_they_end(clinic, patient, smtp_inbox):
    """The planner ran before the patient chose longer quiet hours; the sender checks again."""
    opt_in(patient, clinic.clinician, email=True, quiet_start=time(0), quiet_end=time(0))
    tz = clinic.mh.tz()
    day = clinic.mh.now().date() + timedelta(days=1)
    booking = _night_session(clinic, patient, datetime.combine(day, time(12), tzinfo=tz))
    now = datetime.combine(day, time(10, 5), tzinfo=tz)
    plan_reminders(now)
    opt_in(patient, clinic.clinician, email=True, quiet_start=time(9), quiet_end=time(11))
    assert send_due(now) == {"sent": 0, "dropped": 0, "deferred": 1, "retry": 0, "failed": 0}
    row = Reminder.objects.get(object_id=booking.pk, offset_minutes=120)
    assert (row.status, row.send_after, row.attempts) == ("pending", datetime.combine(day, time(11), tzinfo=tz), 0)
    assert send_due(datetime.combine(day, time(11), tzinfo=tz))["sent"] == 1
    assert len(smtp_inbox.messages) == 1
