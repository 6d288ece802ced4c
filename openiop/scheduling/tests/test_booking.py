from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_change_episode_status
from openiop.scheduling.actions.booking import (
    BookingConflict,
    SessionFull,
    do_book_seat,
    do_cancel_booking,
    do_cancel_bookings_for_session,
)
from openiop.scheduling.models import Booking, Session
from openiop.testing.scheduling import admit, local_at, make_session, make_session_type


@pytest.fixture
def group_session(clinic):
    return make_session(clinic.mh, local_at(clinic.mh, 7, 9), capacity=2, track=clinic.day)


def book(session, episode, user, **kw):
    return do_book_seat(session, episode=episode, acting_user=user, source=Booking.Source.STAFF, **kw)


def test_booking_takes_a_seat_and_is_audited(clinic, group_session):
    episode = admit(clinic, "Ana")
    booking = book(group_session, episode, clinic.clinician)
    group_session.refresh_from_db()
    assert group_session.booked_count == 1
    assert booking.status == Booking.Status.BOOKED and booking.booked_by == clinic.clinician
    event = AuditEvent.objects.get(object_type="booking", object_id=str(booking.public_id))
    assert event.action == AuditAction.CREATED and event.patient == episode.patient


def test_booking_twice_returns_the_same_booking(clinic, group_session):
    episode = admit(clinic, "Ana")
    first = book(group_session, episode, clinic.clinician)
    second = book(group_session, episode, clinic.clinician)
    assert first == second
    group_session.refresh_from_db()
    assert group_session.booked_count == 1


def test_same_idempotency_key_makes_one_booking(clinic, group_session):
    episode = admit(clinic, "Ana")
    first = book(group_session, episode, clinic.clinician, idempotency_key="k-1")
    assert book(group_session, episode, clinic.clinician, idempotency_key="k-1") == first
    assert Booking.objects.count() == 1


def test_idempotency_key_reused_for_another_patient_is_a_conflict(clinic, group_session):
    book(group_session, admit(clinic, "Ana"), clinic.clinician, idempotency_key="k-1")
    with pytest.raises(BookingConflict):
        book(group_session, admit(clinic, "Ben"), clinic.clinician, idempotency_key="k-1")
    group_session.refresh_from_db()
    assert group_session.booked_count == 1


def test_full_session_raises_with_next_sessions_that_have_seats(clinic, group_session):
    later = make_session(
        clinic.mh, local_at(clinic.mh, 9, 9), capacity=2, track=clinic.day, session_type=group_session.session_type
    )
    other_type = make_session(
        clinic.mh,
        local_at(clinic.mh, 8, 9),
        capacity=2,
        track=clinic.day,
        session_type=make_session_type(clinic.mh, "Skills group"),
    )
    book(group_session, admit(clinic, "Ana"), clinic.clinician)
    book(group_session, admit(clinic, "Ben"), clinic.clinician)
    with pytest.raises(SessionFull) as caught:
        book(group_session, admit(clinic, "Cal"), clinic.clinician)
    assert caught.value.next_sessions == [later]
    assert other_type not in caught.value.next_sessions
    group_session.refresh_from_db()
    assert group_session.booked_count == 2
    assert Booking.objects.filter(session=group_session).count() == 2


@pytest.mark.parametrize(
    ("admitted_days_ago", "session_days_ahead"),
    [(-5, 2), (0, 12 * 7 + 1)],
    ids=["before_admission", "after_expected_discharge"],
)
def test_booking_outside_the_episodes_dates_names_the_session_field(clinic, admitted_days_ago, session_days_ahead):
    episode = admit(clinic, "Ana", admitted_days_ago=admitted_days_ago, weeks=12)
    session = make_session(clinic.mh, local_at(clinic.mh, session_days_ahead, 9), capacity=2)
    with pytest.raises(ValidationError) as caught:
        book(session, episode, clinic.clinician)
    assert caught.value.message_dict == {"session": ["outside the episode's dates"]}
    session.refresh_from_db()
    assert session.booked_count == 0 and not Booking.objects.exists()


def test_booking_on_the_expected_discharge_day_is_allowed(clinic):
    episode = admit(clinic, "Ana", admitted_days_ago=0, weeks=1)
    session = make_session(clinic.mh, local_at(clinic.mh, 7, 9), capacity=2)
    assert book(session, episode, clinic.clinician).status == Booking.Status.BOOKED


def test_booking_after_discharge_date_is_refused(clinic, group_session):
    episode = admit(clinic, "Ana")
    do_change_episode_status(
        episode, acting_user=clinic.clinician, status="discharged", on_date=timezone.localdate(), discharge_reason="1"
    )
    with pytest.raises(ValidationError) as caught:
        book(group_session, episode, clinic.clinician)
    assert "episode" in caught.value.message_dict


def test_overlapping_booking_is_refused_naming_the_other_session(clinic, group_session):
    episode = admit(clinic, "Ana")
    book(group_session, episode, clinic.clinician)
    overlapping = make_session(
        clinic.mh,
        group_session.starts_at + timedelta(minutes=30),
        capacity=5,
        session_type=make_session_type(clinic.mh, "Skills group"),
    )
    with pytest.raises(ValidationError) as caught:
        book(overlapping, episode, clinic.clinician)
    message = caught.value.message_dict["session"][0]
    assert "Process group" in message and "overlaps" in message
    overlapping.refresh_from_db()
    assert overlapping.booked_count == 0


def test_back_to_back_sessions_do_not_clash(clinic, group_session):
    episode = admit(clinic, "Ana")
    book(group_session, episode, clinic.clinician)
    after = make_session(clinic.mh, group_session.ends_at, capacity=5, session_type=make_session_type(clinic.mh, "B"))
    assert book(after, episode, clinic.clinician).status == Booking.Status.BOOKED


def test_session_of_another_program_is_refused(clinic):
    episode = admit(clinic, "Ana")
    session = make_session(clinic.su, local_at(clinic.su, 7, 9), capacity=2)
    with pytest.raises(ValidationError) as caught:
        book(session, episode, clinic.clinician)
    assert "session" in caught.value.message_dict


def test_cancelled_or_past_sessions_cannot_be_booked(clinic, group_session):
    episode = admit(clinic, "Ana")
    Session.objects.filter(pk=group_session.pk).update(status=Session.Status.CANCELLED)
    with pytest.raises(ValidationError):
        book(group_session, episode, clinic.clinician)
    past = make_session(clinic.mh, local_at(clinic.mh, -1, 9), capacity=2)
    with pytest.raises(ValidationError) as caught:
        book(past, episode, clinic.clinician)
    assert caught.value.message_dict == {"session": ["This session is over."]}


def test_cancel_frees_exactly_one_seat_even_when_repeated(clinic, group_session):
    booking = book(group_session, admit(clinic, "Ana"), clinic.clinician)
    book(group_session, admit(clinic, "Ben"), clinic.clinician)
    do_cancel_booking(booking, acting_user=clinic.clinician, reason="Work shift")
    do_cancel_booking(booking, acting_user=clinic.clinician, reason="Work shift")
    group_session.refresh_from_db()
    assert group_session.booked_count == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.cancel_reason == "Work shift"
    assert AuditEvent.objects.filter(object_id=str(booking.public_id), action=AuditAction.STATUS_CHANGED).count() == 1


def test_rebooking_after_cancelling_makes_a_new_booking_and_keeps_history(clinic, group_session):
    episode = admit(clinic, "Ana")
    first = book(group_session, episode, clinic.clinician)
    do_cancel_booking(first, acting_user=clinic.clinician, reason="")
    second = book(group_session, episode, clinic.clinician)
    assert second != first
    assert Booking.objects.filter(session=group_session).count() == 2
    group_session.refresh_from_db()
    assert group_session.booked_count == 1


def test_cancelling_a_session_cancels_every_booking(clinic, group_session):
    book(group_session, admit(clinic, "Ana"), clinic.clinician)
    book(group_session, admit(clinic, "Ben"), clinic.clinician)
    assert do_cancel_bookings_for_session(group_session, acting_user=clinic.director, reason="Snow day") == 2
    group_session.refresh_from_db()
    assert group_session.booked_count == 0
    assert not Booking.objects.filter(status=Booking.Status.BOOKED).exists()
