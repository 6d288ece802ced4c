from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.scheduling.actions.booking import (
    SessionFull,
    do_accept_offer,
    do_book_seat,
    do_cancel_booking,
    do_cancel_bookings_for_session,
    do_join_waitlist,
    do_withdraw,
    expire_offers,
)
from openiop.scheduling.models import Booking, Group, Session, WaitlistEntry
from openiop.testing.scheduling import admit, local_at, make_session

Status = WaitlistEntry.Status


@pytest.fixture
def group(clinic):
    return Group.objects.create(track=clinic.day, name="Day A", capacity=2)


@pytest.fixture
def full_session(clinic, group):
    session = make_session(clinic.mh, local_at(clinic.mh, 5, 9), capacity=2, track=clinic.day, group=group)
    for name in ("Ana", "Ben"):
        do_book_seat(session, episode=admit(clinic, name), acting_user=clinic.clinician)
    return session


def seated(session: Session) -> Booking:
    """The first booking of the session (Ana's)."""
    return Booking.objects.filter(session=session).order_by("pk").first()  # type: ignore[return-value]


def _entry(entry):
    entry.refresh_from_db()
    return entry


def test_a_freed_seat_is_offered_once_to_the_oldest_waiting_person(clinic, group, full_session):
    first = do_join_waitlist(admit(clinic, "Cal"), acting_user=clinic.frontdesk, session=full_session)
    second = do_join_waitlist(admit(clinic, "Dee"), acting_user=clinic.frontdesk, group=group)
    booking = seated(full_session)

    do_cancel_booking(booking, acting_user=clinic.frontdesk, reason="Sick")
    do_cancel_booking(booking, acting_user=clinic.frontdesk, reason="Sick")  # repeated: no second offer

    first, second = _entry(first), _entry(second)
    assert first.status == Status.OFFERED and second.status == Status.WAITING
    assert first.offer_expires_at == first.offered_at + timedelta(hours=24)
    offers = AuditEvent.objects.filter(object_type="waitlistentry", action=AuditAction.STATUS_CHANGED)
    assert offers.count() == 1 and offers.get().patient == first.episode.patient


def test_offer_hours_are_configurable(clinic, group, full_session, settings):
    settings.OPENIOP_WAITLIST_OFFER_HOURS = 4
    entry = do_join_waitlist(admit(clinic, "Cal"), acting_user=clinic.frontdesk, group=group)
    do_cancel_booking(seated(full_session), acting_user=clinic.frontdesk)
    entry = _entry(entry)
    assert entry.offer_expires_at - entry.offered_at == timedelta(hours=4)
    assert entry.session == full_session  # a group-level entry learns which session's seat it is offered


def test_accepting_an_offer_books_the_seat(clinic, group, full_session):
    entry = do_join_waitlist(admit(clinic, "Cal"), acting_user=clinic.frontdesk, group=group)
    do_cancel_booking(seated(full_session), acting_user=clinic.frontdesk)
    booking = do_accept_offer(_entry(entry), acting_user=clinic.frontdesk)
    assert booking.source == Booking.Source.WAITLIST and booking.episode == entry.episode
    assert _entry(entry).status == Status.ACCEPTED
    full_session.refresh_from_db()
    assert full_session.booked_count == 2


def test_accepting_after_someone_else_took_the_seat_is_a_clear_full_answer(clinic, group, full_session):
    entry = do_join_waitlist(admit(clinic, "Cal"), acting_user=clinic.frontdesk, group=group)
    do_cancel_booking(seated(full_session), acting_user=clinic.frontdesk)
    do_book_seat(full_session, episode=admit(clinic, "Eve"), acting_user=clinic.frontdesk)
    with pytest.raises(SessionFull):
        do_accept_offer(_entry(entry), acting_user=clinic.frontdesk)
    assert _entry(entry).status == Status.OFFERED


def test_expired_offers_pass_to_the_next_person(clinic, group, full_session):
    first = do_join_waitlist(admit(clinic, "Cal"), acting_user=clinic.frontdesk, group=group)
    second = do_join_waitlist(admit(clinic, "Dee"), acting_user=clinic.frontdesk, group=group)
    do_cancel_booking(seated(full_session), acting_user=clinic.frontdesk)
    assert expire_offers(timezone.now()) == 0
    assert expire_offers(timezone.now() + timedelta(hours=25)) == 1
    assert _entry(first).status == Status.WITHDRAWN
    assert _entry(second).status == Status.OFFERED
    with pytest.raises(ValidationError):
        do_accept_offer(_entry(first), acting_user=clinic.frontdesk)


def test_withdrawing_an_offer_passes_it_on(clinic, group, full_session):
    first = do_join_waitlist(admit(clinic, "Cal"), acting_user=clinic.frontdesk, group=group)
    second = do_join_waitlist(admit(clinic, "Dee"), acting_user=clinic.frontdesk, session=full_session)
    do_cancel_booking(seated(full_session), acting_user=clinic.frontdesk)
    do_withdraw(_entry(first), acting_user=clinic.frontdesk)
    assert _entry(first).status == Status.WITHDRAWN
    assert _entry(second).status == Status.OFFERED


def test_joining_twice_returns_the_same_entry_and_bad_targets_are_refused(clinic, group, full_session):
    episode = admit(clinic, "Cal")
    entry = do_join_waitlist(episode, acting_user=clinic.frontdesk, group=group)
    assert do_join_waitlist(episode, acting_user=clinic.frontdesk, group=group) == entry
    with pytest.raises(ValidationError):
        do_join_waitlist(episode, acting_user=clinic.frontdesk)
    with pytest.raises(ValidationError):
        do_join_waitlist(episode, acting_user=clinic.frontdesk, group=group, track=clinic.day)
    other = make_session(clinic.su, local_at(clinic.su, 5, 9))
    with pytest.raises(ValidationError) as caught:
        do_join_waitlist(episode, acting_user=clinic.frontdesk, session=other)
    assert "session" in caught.value.message_dict
    with pytest.raises(ValidationError):
        do_join_waitlist(seated(full_session).episode, acting_user=clinic.frontdesk, session=full_session)


def test_nobody_is_offered_a_seat_in_a_cancelled_session(clinic, group, full_session):
    session_entry = do_join_waitlist(admit(clinic, "Cal"), acting_user=clinic.frontdesk, session=full_session)
    group_entry = do_join_waitlist(admit(clinic, "Dee"), acting_user=clinic.frontdesk, group=group)
    Session.objects.filter(pk=full_session.pk).update(status=Session.Status.CANCELLED)
    full_session.refresh_from_db()
    do_cancel_bookings_for_session(full_session, acting_user=clinic.director, reason="Closed")
    assert _entry(session_entry).status == Status.WITHDRAWN
    assert _entry(group_entry).status == Status.WAITING
