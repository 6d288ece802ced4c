"""do_check_in: who may be checked in, when, with what; the audit row and the signal; changes during check-in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.attendance.actions import (
    CHECKIN_CHANGE_REASON,
    checkin_closes_at,
    checkin_is_open,
    do_check_in,
    do_record_session_cancelled,
)
from openiop.attendance.hooks import AttendanceRecorded, attendance_recorded
from openiop.attendance.models import AttendanceCorrection, AttendanceRecord
from openiop.attendance.tests.rosters import book_people, running_session, session_at
from openiop.core.models import AuditAction, AuditEvent
from openiop.scheduling.actions.series import do_cancel_session
from openiop.scheduling.models import Booking, Session
from openiop.testing.scheduling import local_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def signals():
    sent = []

    def receiver(event: AttendanceRecorded) -> None:
        sent.append((event.record.pk, event.record.status, event.previous, event.acting_user))

    with attendance_recorded.registered(receiver, order=1_000_000, app="test"):
        yield sent


def _errors(excinfo) -> dict:
    return excinfo.value.message_dict


def test_present_creates_one_record_with_the_whole_session_audited_and_signalled(clinic, signals):
    session = running_session(clinic.mh)
    [booking] = book_people(clinic, session, 1)
    record = do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="present")

    assert record.status == "present"
    assert record.minutes_attended == 60
    assert record.version == 1
    assert record.booking == booking
    assert record.episode_id == booking.episode_id
    assert record.recorded_by == clinic.frontdesk
    assert signals == [(record.pk, "present", None, clinic.frontdesk)]
    event = AuditEvent.objects.filter(object_id=str(record.public_id)).get()
    assert event.action == AuditAction.CREATED
    assert event.patient_id == booking.patient_id
    assert "status" in event.changed_fields and "present" not in event.changed_fields


def test_the_same_tap_twice_changes_nothing(clinic, signals):
    session = running_session(clinic.mh)
    [booking] = book_people(clinic, session, 1)
    first = do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="present")
    again = do_check_in(session, booking.patient, acting_user=clinic.clinician, status="present")
    assert again.pk == first.pk and again.version == 1
    assert AttendanceRecord.objects.count() == 1
    assert AttendanceCorrection.objects.count() == 0
    assert len(signals) == 1
    assert AuditEvent.objects.filter(object_id=str(first.public_id)).count() == 1


def test_a_one_tap_late_while_the_session_runs_takes_the_tap_time(clinic):
    session = running_session(clinic.mh, minutes_ago=12)
    [booking] = book_people(clinic, session, 1)
    record = do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="late")
    assert record.late_minutes == 12
    assert record.arrived_at is not None
    # Counted from the tap's time to the end: 48 minutes less the seconds past the whole minute.
    assert record.minutes_attended in (47, 48)


def test_a_one_tap_left_early_while_the_session_runs_takes_the_tap_time(clinic):
    session = running_session(clinic.mh, minutes_ago=40)
    [booking] = book_people(clinic, session, 1)
    do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="present", participation="engaged")
    record = do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="left_early")
    assert record.left_early_minutes == 19  # 20 minutes left, minus the seconds already gone
    assert record.minutes_attended == 40
    assert record.participation == "engaged"  # kept: still someone who attended
    assert record.version == 2


def test_late_after_the_session_needs_the_minutes(clinic):
    session = session_at(clinic.mh, timezone.now() - timedelta(hours=3))
    [booking] = book_people(clinic, session, 1)
    with pytest.raises(ValidationError) as excinfo:
        do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="late")
    assert "late_minutes" in _errors(excinfo)
    record = do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="late", late_minutes=15)
    assert record.minutes_attended == 45


def test_telehealth_join_and_leave_times_give_the_minutes(clinic):
    session = session_at(
        clinic.mh, timezone.now().replace(second=0, microsecond=0) - timedelta(hours=2), mode="telehealth"
    )
    [booking] = book_people(clinic, session, 1)
    record = do_check_in(
        session,
        booking.patient,
        acting_user=clinic.clinician,
        status="late",
        arrived_at=session.starts_at + timedelta(minutes=7),
        departed_at=session.ends_at + timedelta(minutes=5),
    )
    assert record.late_minutes == 7
    assert record.minutes_attended == 53


def test_only_people_booked_on_the_session_can_be_checked_in(clinic):
    session = running_session(clinic.mh)
    [booking] = book_people(clinic, session, 1)
    other = running_session(clinic.mh, minutes_ago=5)
    with pytest.raises(ValidationError) as excinfo:
        do_check_in(other, booking.patient, acting_user=clinic.frontdesk, status="present")
    assert "patient" in _errors(excinfo)
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    with pytest.raises(ValidationError):
        do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="present")
    assert not AttendanceRecord.objects.exists()


def test_a_future_session_cannot_be_marked_present_but_opens_shortly_before(clinic, settings):
    tomorrow = session_at(clinic.mh, local_at(clinic.mh, 1, 9))
    [booking] = book_people(clinic, tomorrow, 1)
    for status in ("present", "absent_unexcused"):
        with pytest.raises(ValidationError) as excinfo:
            do_check_in(tomorrow, booking.patient, acting_user=clinic.frontdesk, status=status)
        assert "status" in _errors(excinfo)
    soon = session_at(clinic.mh, timezone.now() + timedelta(minutes=20))
    [early] = book_people(clinic, soon, 1, prefix="Early")
    assert do_check_in(soon, early.patient, acting_user=clinic.frontdesk, status="present").minutes_attended == 60
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "attendance_checkin_opens_minutes_before": 10}
    later = session_at(clinic.mh, timezone.now() + timedelta(minutes=20))
    [waiting] = book_people(clinic, later, 1, prefix="Later")
    with pytest.raises(ValidationError):
        do_check_in(later, waiting.patient, acting_user=clinic.frontdesk, status="present")


@pytest.mark.parametrize(
    ("status", "fields", "field"),
    [
        ("present", {"late_minutes": 5}, "late_minutes"),
        ("present", {"left_early_minutes": 5}, "left_early_minutes"),
        ("late", {"late_minutes": 61}, "late_minutes"),
        ("late", {"late_minutes": "ten"}, "late_minutes"),
        ("late", {"late_minutes": -1}, "late_minutes"),
        ("late", {"late_minutes": 30, "left_early_minutes": 30}, "late_minutes"),
        ("absent_excused", {"participation": "engaged"}, "participation"),
        ("absent_unexcused", {"late_minutes": 5}, "late_minutes"),
        ("present", {"participation": "chatty"}, "participation"),
        ("present", {"remark": "x" * 201}, "remark"),
        ("cancelled", {}, "status"),
        ("maybe", {}, "status"),
    ],
)
def test_bad_input_is_refused_by_field_and_nothing_is_saved(clinic, status, fields, field):
    session = session_at(clinic.mh, timezone.now() - timedelta(hours=2))
    [booking] = book_people(clinic, session, 1)
    with pytest.raises(ValidationError) as excinfo:
        do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status=status, **fields)
    assert field in _errors(excinfo)
    assert not AttendanceRecord.objects.exists()
    assert not AuditEvent.objects.filter(object_type="attendancerecord").exists()


def test_times_must_be_aware_inside_the_session_and_in_order(clinic):
    session = session_at(clinic.mh, timezone.now().replace(second=0, microsecond=0) - timedelta(hours=2))
    [booking] = book_people(clinic, session, 1)
    start = session.starts_at
    cases: list[tuple[dict[str, Any], str]] = [
        ({"arrived_at": start.replace(tzinfo=None)}, "arrived_at"),
        ({"arrived_at": session.ends_at + timedelta(minutes=1)}, "arrived_at"),
        ({"departed_at": start - timedelta(minutes=1)}, "departed_at"),
        ({"arrived_at": start + timedelta(minutes=30), "departed_at": start + timedelta(minutes=20)}, "departed_at"),
        ({"departed_at": timezone.now() + timedelta(hours=1)}, "departed_at"),
    ]
    for fields, field in cases:
        with pytest.raises(ValidationError) as excinfo:
            do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="present", **fields)
        assert field in _errors(excinfo), fields


def test_unknown_fields_are_a_programming_error(clinic):
    session = running_session(clinic.mh)
    [booking] = book_people(clinic, session, 1)
    with pytest.raises(TypeError):
        do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="present", minutes_attended=5)


def test_a_change_during_check_in_keeps_the_earlier_version(clinic, signals):
    session = running_session(clinic.mh, minutes_ago=30)
    [booking] = book_people(clinic, session, 1)
    record = do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="absent_unexcused")
    record = do_check_in(session, booking.patient, acting_user=clinic.clinician, status="late", late_minutes=25)
    assert record.version == 2 and record.recorded_by == clinic.clinician
    correction = AttendanceCorrection.objects.get(record=record)
    assert correction.version == 1
    assert correction.previous["status"] == "absent_unexcused"
    assert correction.previous["recorded_by"] == str(clinic.frontdesk.public_id)
    assert correction.reason == CHECKIN_CHANGE_REASON
    assert signals[1][2]["status"] == "absent_unexcused"
    updated = AuditEvent.objects.filter(object_id=str(record.public_id), action=AuditAction.UPDATED).get()
    assert set(updated.changed_fields) == {"status", "late_minutes", "minutes_attended", "version"}


def test_after_check_in_closes_a_change_needs_a_reason(clinic):
    session = session_at(clinic.mh, timezone.now() - timedelta(days=2))
    assert not checkin_is_open(session)
    [booking] = book_people(clinic, session, 1)
    # A first entry after the day (from the paper roster) needs no reason: nothing is replaced.
    record = do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="present")
    assert do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="present").version == 1
    with pytest.raises(ValidationError) as excinfo:
        do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="absent_excused")
    assert "reason" in _errors(excinfo)
    record = do_check_in(
        session, booking.patient, acting_user=clinic.frontdesk, status="absent_excused", reason="Was at the ER"
    )
    assert record.version == 2
    assert AttendanceCorrection.objects.get(record=record).reason == "Was at the ER"


def test_check_in_closes_at_local_midnight_or_after_the_grace_whichever_is_later(clinic, settings):
    evening = session_at(clinic.mh, local_at(clinic.mh, -1, 18), minutes=180)
    closes = checkin_closes_at(evening).astimezone(clinic.mh.tz())
    assert (closes.hour, closes.minute) == (0, 0)
    assert closes.date() == local_at(clinic.mh, 0, 0).date()
    late_night = session_at(clinic.mh, local_at(clinic.mh, -1, 22, 30), minutes=60)
    assert checkin_closes_at(late_night) == late_night.ends_at + timedelta(minutes=120)
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "attendance_checkin_grace_minutes": 0}
    assert checkin_closes_at(late_night).astimezone(clinic.mh.tz()).hour == 0


def test_check_in_closes_at_local_midnight_on_a_dst_day(clinic):
    import zoneinfo
    from datetime import datetime

    ny = zoneinfo.ZoneInfo("America/New_York")
    fall_back = session_at(clinic.mh, datetime(2026, 11, 1, 9, tzinfo=ny))
    assert checkin_closes_at(fall_back) == datetime(2026, 11, 2, 0, tzinfo=ny)
    # The day has 25 hours: midnight EDT to midnight EST.
    utc = zoneinfo.ZoneInfo("UTC")
    day_start = datetime(2026, 11, 1, 0, tzinfo=ny).astimezone(utc)
    assert checkin_closes_at(fall_back).astimezone(utc) - day_start == timedelta(hours=25)


def test_a_cancelled_session_records_cancelled_by_program_for_everyone_released_with_it(clinic):
    session = session_at(clinic.mh, local_at(clinic.mh, 2, 9))
    bookings = book_people(clinic, session, 3)
    do_cancel_session(session, acting_user=clinic.director, reason="Facilitator ill")
    with pytest.raises(ValidationError) as excinfo:
        do_check_in(session, bookings[0].patient, acting_user=clinic.frontdesk, status="present")
    assert "status" in _errors(excinfo)
    records = do_record_session_cancelled(session, acting_user=clinic.frontdesk)
    assert sorted(r.patient_id for r in records) == sorted(b.patient_id for b in bookings)
    assert {r.status for r in records} == {"cancelled"} and {r.minutes_attended for r in records} == {0}
    assert do_record_session_cancelled(session, acting_user=clinic.frontdesk) == []


def test_cancelled_by_program_needs_a_cancelled_session(clinic):
    session = running_session(clinic.mh)
    with pytest.raises(ValidationError):
        do_record_session_cancelled(session, acting_user=clinic.frontdesk)


def test_a_seat_cancelled_after_the_roster_was_read_is_not_used(clinic):
    from openiop.scheduling.actions.booking import do_cancel_booking

    session = running_session(clinic.mh)
    [booking] = book_people(clinic, session, 1)
    do_cancel_booking(booking, acting_user=clinic.frontdesk)  # a moment after the roster showed the seat
    with pytest.raises(ValidationError) as excinfo:
        do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="present")
    assert "patient" in _errors(excinfo)
    assert not AttendanceRecord.objects.filter(session=session).exists()


def test_a_seat_on_another_session_is_not_used(clinic):
    session = running_session(clinic.mh)
    other = running_session(clinic.mh, title="Other group")
    [booking] = book_people(clinic, other, 1)
    with pytest.raises(ValidationError):
        do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="present")
    assert not AttendanceRecord.objects.filter(session=session).exists()


def test_a_seat_released_by_a_cancellation_for_another_reason_is_not_used(clinic):
    from openiop.scheduling.actions.booking import do_cancel_booking

    session = running_session(clinic.mh)
    [booking] = book_people(clinic, session, 1)
    do_cancel_booking(booking, acting_user=clinic.frontdesk, reason="Moved to another group")
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED, cancel_reason="Snow day")
    with pytest.raises(ValidationError) as excinfo:
        do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="cancelled")
    assert "patient" in _errors(excinfo)
