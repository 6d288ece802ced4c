"""The planner: idempotent, per channel, and it drops what is no longer wanted with the reason recorded."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from openiop.measures.actions import do_cancel_administration
from openiop.plans.actions import do_patient_sign
from openiop.reminders.models import Channel, Kind, Reminder
from openiop.reminders.planner import plan_reminders
from openiop.reminders.sender import send_due
from openiop.reminders.tests.conftest import opt_in
from openiop.scheduling.actions.booking import do_cancel_booking
from openiop.scheduling.models import Session
from openiop.testing.measures import start
from openiop.testing.plans import signed_by_clinician
from openiop.testing.scheduling import make_booking, make_session

S = Reminder.Status


@pytest.fixture
def tomorrow_noon(clinic):
    """A session tomorrow at 12:00 and a planning time of 11:00 today (both reminders are within 48 hours)."""
    tz = clinic.mh.tz()
    today = clinic.mh.now().date()
    starts = datetime.combine(today + timedelta(days=1), time(12), tzinfo=tz)
    return starts, datetime.combine(today, time(11), tzinfo=tz)


def test_two_runs_create_each_reminder_once_per_channel_and_offset(clinic, patient, tomorrow_noon):
    starts, now = tomorrow_noon
    booking = make_booking(make_session(clinic.mh, starts), patient)
    opt_in(patient, clinic.clinician, email=True, sms=True)
    first = plan_reminders(now)
    second = plan_reminders(now)
    rows = Reminder.objects.filter(object_id=booking.pk, kind=Kind.SESSION)
    assert sorted(rows.values_list("channel", "offset_minutes")) == [
        ("email", 120), ("email", 1440), ("sms", 120), ("sms", 1440),
    ]  # fmt: skip
    assert first["planned"] == 4 and second == {"planned": 0, "rescheduled": 0, "dropped": 0}
    assert {r.send_after for r in rows} == {starts - timedelta(hours=24), starts - timedelta(hours=2)}
    assert len({r.dedupe_key for r in rows}) == 4


def test_no_row_for_a_channel_not_opted_in_or_without_an_address(clinic, patient, tomorrow_noon):
    starts, now = tomorrow_noon
    make_booking(make_session(clinic.mh, starts), patient)
    opt_in(patient, clinic.clinician, email=False, sms=True)
    plan_reminders(now)
    assert set(Reminder.objects.values_list("channel", flat=True)) == {Channel.SMS}


def test_other_patients_and_cancelled_bookings_get_nothing(clinic, patient, tomorrow_noon):
    from openiop.testing.scheduling import admit

    starts, now = tomorrow_noon
    session = make_session(clinic.mh, starts)
    other = admit(clinic, "Alex")
    make_booking(session, other.patient, episode=other)  # Alex never opted in
    make_booking(session, patient, status="cancelled")
    opt_in(patient, clinic.clinician, email=True)
    plan_reminders(now)
    assert not Reminder.objects.exists()


def test_a_cancelled_booking_drops_its_pending_reminders_before_sending(clinic, patient, tomorrow_noon, smtp_inbox):
    starts, now = tomorrow_noon
    booking = make_booking(make_session(clinic.mh, starts), patient)
    opt_in(patient, clinic.clinician, email=True)
    plan_reminders(now)
    do_cancel_booking(booking, acting_user=clinic.clinician, reason="Patient asked")
    counts = plan_reminders(now)
    assert counts["dropped"] == 2
    assert set(Reminder.objects.values_list("status", "drop_reason")) == {(S.DROPPED, Reminder.DropReason.CANCELLED)}
    assert send_due(starts)["sent"] == 0 and smtp_inbox.messages == []


def test_the_sender_drops_a_cancelled_booking_even_without_a_planner_run(clinic, patient, tomorrow_noon, smtp_inbox):
    starts, now = tomorrow_noon
    booking = make_booking(make_session(clinic.mh, starts), patient)
    opt_in(patient, clinic.clinician, email=True)
    plan_reminders(now)
    do_cancel_booking(booking, acting_user=clinic.clinician)
    assert send_due(starts - timedelta(hours=1))["dropped"] == 2
    assert smtp_inbox.messages == []


def test_a_moved_session_moves_its_pending_reminders(clinic, patient, tomorrow_noon):
    starts, now = tomorrow_noon
    session = make_session(clinic.mh, starts)
    booking = make_booking(session, patient)
    opt_in(patient, clinic.clinician, email=True)
    plan_reminders(now)
    later = starts + timedelta(hours=3)
    Session.objects.filter(pk=session.pk).update(starts_at=later, ends_at=later + timedelta(hours=1))
    assert plan_reminders(now)["rescheduled"] == 2
    row = Reminder.objects.get(object_id=booking.pk, offset_minutes=120)
    assert (row.send_after, row.event_at) == (later - timedelta(hours=2), later)


def test_a_booking_made_late_gets_only_the_reminders_still_ahead(clinic, patient):
    tz = clinic.mh.tz()
    day = clinic.mh.now().date() + timedelta(days=1)
    starts = datetime.combine(day, time(15), tzinfo=tz)
    make_booking(make_session(clinic.mh, starts), patient)
    opt_in(patient, clinic.clinician, email=True)
    plan_reminders(datetime.combine(day, time(9), tzinfo=tz))  # the 24-hour reminder's time passed long ago
    assert list(Reminder.objects.values_list("offset_minutes", flat=True)) == [120]


def test_a_completed_or_cancelled_questionnaire_drops_its_reminder(clinic, patient):
    administration = start(patient, clinic.clinician, "phq9")
    opt_in(patient, clinic.clinician, email=True)
    tz = clinic.mh.tz()
    now = datetime.combine(administration.due_on, time(10, 30), tzinfo=tz)
    plan_reminders(now)
    row = Reminder.objects.get(kind=Kind.QUESTIONNAIRE)
    assert (row.status, row.object_date, row.object_type) == (S.PENDING, administration.due_on, "episode_day")
    do_cancel_administration(administration, acting_user=clinic.clinician)
    plan_reminders(now)
    row.refresh_from_db()
    assert (row.status, row.drop_reason) == (S.DROPPED, Reminder.DropReason.DONE)


def test_several_questionnaires_due_the_same_day_make_one_reminder(clinic, patient):
    start(patient, clinic.clinician, "phq9")
    start(patient, clinic.clinician, "gad7")
    opt_in(patient, clinic.clinician, email=True)
    plan_reminders(datetime.combine(clinic.mh.now().date(), time(10, 30), tzinfo=clinic.mh.tz()))
    assert Reminder.objects.filter(kind=Kind.QUESTIONNAIRE).count() == 1


def test_a_plan_signed_by_the_patient_drops_the_signature_reminder(clinic, patient):
    version = signed_by_clinician(patient, clinic.clinician)
    opt_in(patient, clinic.clinician, email=True, quiet_start=time(0), quiet_end=time(0))  # real time: no quiet
    waiting_since = version.clinician_signed_at
    assert waiting_since is not None
    plan_reminders(waiting_since + timedelta(hours=1))
    row = Reminder.objects.get(kind=Kind.PLAN_SIGNATURE)
    assert row.send_after == waiting_since + timedelta(hours=24) and row.event_at is None
    do_patient_sign(version, acting_user=clinic.clinician, name="Jordan Rivera", method="typed", agreed=True)
    plan_reminders(waiting_since + timedelta(hours=2))
    row.refresh_from_db()
    assert (row.status, row.drop_reason) == (S.DROPPED, Reminder.DropReason.DONE)


def test_opting_out_of_one_channel_drops_only_that_channels_reminders(clinic, patient, tomorrow_noon, smtp_inbox,
                                                                      sms_stub):  # fmt: skip
    starts, now = tomorrow_noon
    make_booking(make_session(clinic.mh, starts), patient)
    opt_in(patient, clinic.clinician, email=True, sms=True)
    plan_reminders(now)
    opt_in(patient, clinic.clinician, email=False, sms=True)
    counts = send_due(starts - timedelta(hours=1))  # both offsets are due by now
    assert counts["sent"] == 2 and counts["dropped"] == 2
    assert smtp_inbox.messages == [] and len(sms_stub.requests) == 2
    dropped = Reminder.objects.filter(status=S.DROPPED)
    assert set(dropped.values_list("channel", "drop_reason")) == {(Channel.EMAIL, Reminder.DropReason.OPTED_OUT)}
