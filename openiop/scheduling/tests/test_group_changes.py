"""Accepting a group or track waitlist offer enrolls the person there; changing groups inside a track."""

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
    do_join_waitlist,
)
from openiop.scheduling.actions.enrollment import current_enrollment, do_change_groups, do_enroll
from openiop.scheduling.models import Booking, Enrollment, Group, Session, WaitlistEntry
from openiop.testing.scheduling import admit, local_at, make_session, make_session_type

Status = WaitlistEntry.Status


@pytest.fixture
def groups(clinic):
    return {
        "a": Group.objects.create(track=clinic.day, name="Day A", capacity=2),
        "b": Group.objects.create(track=clinic.day, name="Day B", capacity=2),
    }


@pytest.fixture
def week(clinic, groups):
    """Group A and group B on days 2, 4 and 6, two seats each, and a whole-track workshop on day 3."""
    workshop = make_session_type(clinic.mh, "Workshop", kind="education", service_kind="psychoeducation")
    rows: dict[str, list[Session]] = {"a": [], "b": []}
    for day in (2, 4, 6):
        for key in ("a", "b"):
            hour = 9 if key == "a" else 11
            rows[key].append(
                make_session(clinic.mh, local_at(clinic.mh, day, hour), capacity=2, track=clinic.day, group=groups[key])
            )
    rows["track"] = [
        make_session(clinic.mh, local_at(clinic.mh, 3, 13), capacity=2, track=clinic.day, session_type=workshop)
    ]
    return rows


def seats(episode):
    return set(
        Booking.objects.filter(episode=episode, status=Booking.Status.BOOKED).values_list("session_id", flat=True)
    )


def _refresh(entry):
    entry.refresh_from_db()
    return entry


# --- Group and track waitlist offers ------------------------------------------------------------------------


def test_accepting_a_group_offer_enrolls_and_books_the_whole_group(clinic, groups, week):
    first, second, third = week["a"]
    ana, ben = admit(clinic, "Ana"), admit(clinic, "Ben")
    for session in (first, third):
        for episode in (ana, ben):
            do_book_seat(session, episode=episode, acting_user=clinic.clinician)
    cal = admit(clinic, "Cal")
    entry = do_join_waitlist(cal, acting_user=clinic.frontdesk, group=groups["a"])
    do_cancel_booking(Booking.objects.get(session=first, episode=ana), acting_user=clinic.frontdesk)
    assert _refresh(entry).status == Status.OFFERED and entry.session == first

    booking = do_accept_offer(entry, acting_user=clinic.frontdesk)

    assert booking.session == first and booking.source == Booking.Source.WAITLIST
    assert seats(cal) == {first.pk, second.pk, week["track"][0].pk}  # the third is full
    enrollment = current_enrollment(cal)
    assert enrollment is not None
    assert enrollment.track == clinic.day and set(enrollment.groups.all()) == {groups["a"]}
    waiting = WaitlistEntry.objects.get(episode=cal, status=Status.WAITING)
    assert (waiting.session, waiting.group, waiting.track) == (third, None, None)  # the full session's own list
    assert _refresh(entry).status == Status.ACCEPTED
    assert not Booking.objects.filter(episode=cal, session__group=groups["b"]).exists()


def test_accepting_a_track_offer_enrolls_in_the_track_without_groups(clinic, groups, week):
    workshop = week["track"][0]
    for name in ("Ana", "Ben"):
        do_book_seat(workshop, episode=admit(clinic, name), acting_user=clinic.clinician)
    cal = admit(clinic, "Cal")
    entry = do_join_waitlist(cal, acting_user=clinic.frontdesk, track=clinic.day)
    do_cancel_booking(Booking.objects.filter(session=workshop).earliest("pk"), acting_user=clinic.frontdesk)

    do_accept_offer(_refresh(entry), acting_user=clinic.frontdesk)

    assert seats(cal) == {workshop.pk}
    enrollment = current_enrollment(cal)
    assert enrollment is not None
    assert enrollment.track == clinic.day and not enrollment.groups.exists()


def test_a_group_offer_for_someone_in_the_track_adds_the_group_and_keeps_history(clinic, groups, week):
    cal = admit(clinic, "Cal")
    started = timezone.localdate() - timedelta(days=3)
    do_enroll(cal, acting_user=clinic.clinician, track=clinic.day, groups=[groups["b"]], starts_on=started)
    first = week["a"][0]
    ana, ben = admit(clinic, "Ana"), admit(clinic, "Ben")
    for episode in (ana, ben):
        do_book_seat(first, episode=episode, acting_user=clinic.clinician)
    entry = do_join_waitlist(cal, acting_user=clinic.frontdesk, group=groups["a"])
    do_cancel_booking(Booking.objects.get(session=first, episode=ana), acting_user=clinic.frontdesk)

    do_accept_offer(_refresh(entry), acting_user=clinic.frontdesk)

    rows = list(Enrollment.objects.filter(episode=cal).order_by("starts_on"))
    assert [(e.starts_on, e.ends_on) for e in rows] == [
        (started, timezone.localdate() - timedelta(days=1)),
        (timezone.localdate(), None),
    ]
    assert set(rows[0].groups.all()) == {groups["b"]}
    assert set(rows[1].groups.all()) == {groups["a"], groups["b"]}
    assert {s.pk for s in week["a"] + week["b"] + week["track"]} == seats(cal)


def test_accepting_a_seat_someone_took_changes_nothing(clinic, groups, week):
    first = week["a"][0]
    ana, ben = admit(clinic, "Ana"), admit(clinic, "Ben")
    for episode in (ana, ben):
        do_book_seat(first, episode=episode, acting_user=clinic.clinician)
    cal = admit(clinic, "Cal")
    entry = do_join_waitlist(cal, acting_user=clinic.frontdesk, group=groups["a"])
    do_cancel_booking(Booking.objects.get(session=first, episode=ana), acting_user=clinic.frontdesk)
    do_book_seat(first, episode=admit(clinic, "Dee"), acting_user=clinic.clinician)

    with pytest.raises(SessionFull):
        do_accept_offer(_refresh(entry), acting_user=clinic.frontdesk)

    assert not Enrollment.objects.filter(episode=cal).exists() and seats(cal) == set()
    assert _refresh(entry).status == Status.OFFERED


# --- Changing groups inside the track ----------------------------------------------------------------------


@pytest.fixture
def enrolled(clinic, groups, week):
    """Ana, in the Day track since three days ago, group A."""
    ana = admit(clinic, "Ana")
    result = do_enroll(
        ana,
        acting_user=clinic.clinician,
        track=clinic.day,
        groups=[groups["a"]],
        starts_on=timezone.localdate() - timedelta(days=3),
    )
    return ana, result.enrollment


def test_changing_groups_moves_future_bookings_and_keeps_history(clinic, groups, week, enrolled):
    ana, enrollment = enrolled
    workshop_seat = Booking.objects.get(episode=ana, session=week["track"][0])
    waiting = do_join_waitlist(admit(clinic, "Wes"), acting_user=clinic.frontdesk, group=groups["a"])
    Session.objects.filter(pk=week["a"][0].pk).update(capacity=1)  # Ana holds the only seat; Wes waits for it

    result = do_change_groups(
        enrollment, [groups["b"]], acting_user=clinic.clinician, effective_on=timezone.localdate()
    )

    assert seats(ana) == {s.pk for s in week["b"]} | {week["track"][0].pk}
    assert Booking.objects.get(pk=workshop_seat.pk).status == Booking.Status.BOOKED  # whole-track seat kept
    left = Booking.objects.filter(episode=ana, session__group=groups["a"])
    assert set(left.values_list("status", "cancel_reason")) == {(Booking.Status.CANCELLED, "Left the group")}
    enrollment.refresh_from_db()
    assert enrollment.ends_on == timezone.localdate() - timedelta(days=1)
    assert set(enrollment.groups.all()) == {groups["a"]}  # what ran until yesterday
    assert result.enrollment.starts_on == timezone.localdate() and result.enrollment.track == clinic.day
    assert set(result.enrollment.groups.all()) == {groups["b"]}
    assert _refresh(waiting).status == Status.OFFERED and waiting.session == week["a"][0]
    events = AuditEvent.objects.filter(object_type="enrollment", patient=ana.patient)
    assert events.filter(action=AuditAction.UPDATED, object_id=str(enrollment.public_id)).exists()
    assert events.filter(action=AuditAction.CREATED, object_id=str(result.enrollment.public_id)).exists()


def test_a_full_new_group_session_goes_to_the_waitlist(clinic, groups, week, enrolled):
    ana, enrollment = enrolled
    full = week["b"][1]
    for name in ("Ben", "Cal"):
        do_book_seat(full, episode=admit(clinic, name), acting_user=clinic.clinician)

    result = do_change_groups(
        enrollment, [groups["b"]], acting_user=clinic.clinician, effective_on=timezone.localdate()
    )

    assert result.full == [full]
    assert [(e.group, e.status) for e in result.waitlisted] == [(groups["b"], Status.WAITING)]
    assert full.pk not in seats(ana)


def test_a_later_effective_day_keeps_the_bookings_before_it(clinic, groups, week, enrolled):
    ana, enrollment = enrolled
    on = (week["a"][1].starts_at.astimezone(clinic.mh.tz())).date()

    result = do_change_groups(enrollment, [groups["b"]], acting_user=clinic.clinician, effective_on=on)

    assert week["a"][0].pk in seats(ana)  # before the change
    assert week["a"][1].pk not in seats(ana) and week["a"][2].pk not in seats(ana)
    assert week["b"][0].pk not in seats(ana)  # group B only from the effective day
    assert {week["b"][1].pk, week["b"][2].pk} <= seats(ana)
    assert result.enrollment.starts_on == on


def test_joining_a_second_group_the_day_the_enrollment_starts_changes_it_in_place(clinic, groups, week):
    ana = admit(clinic, "Ana")
    today = timezone.localdate()
    enrollment = do_enroll(
        ana, acting_user=clinic.clinician, track=clinic.day, groups=[groups["a"]], starts_on=today
    ).enrollment

    result = do_change_groups(enrollment, [groups["a"], groups["b"]], acting_user=clinic.clinician, effective_on=today)

    assert result.enrollment == enrollment and Enrollment.objects.filter(episode=ana).count() == 1
    assert set(enrollment.groups.all()) == {groups["a"], groups["b"]}
    assert seats(ana) == {s.pk for s in week["a"] + week["b"] + week["track"]}
    assert AuditEvent.objects.filter(
        object_type="enrollment", action=AuditAction.UPDATED, changed_fields=["groups"]
    ).exists()


def test_staying_in_a_closed_group_is_allowed_but_joining_one_is_not(clinic, groups, week, enrolled):
    _ana, enrollment = enrolled
    Group.objects.filter(pk__in=[groups["a"].pk, groups["b"].pk]).update(is_open=False)
    both = list(Group.objects.filter(track=clinic.day).order_by("name"))
    with pytest.raises(ValidationError) as caught:
        do_change_groups(enrollment, both, acting_user=clinic.clinician, effective_on=timezone.localdate())
    assert caught.value.message_dict["groups"] == ["Not taking new members: Day B."]
    Group.objects.filter(pk=groups["b"].pk).update(is_open=True)
    both = list(Group.objects.filter(track=clinic.day).order_by("name"))
    result = do_change_groups(enrollment, both, acting_user=clinic.clinician, effective_on=timezone.localdate())
    assert set(result.enrollment.groups.all()) == {groups["a"], groups["b"]}


@pytest.mark.parametrize(
    ("change", "field"),
    [("same", "groups"), ("other_track", "groups"), ("before_start", "effective_on"), ("ended", "groups")],
)
def test_bad_group_changes_are_refused_naming_the_field(clinic, groups, week, enrolled, change, field):
    ana, enrollment = enrolled
    new = [groups["b"]]
    on = timezone.localdate()
    if change == "same":
        new = [groups["a"]]
    elif change == "other_track":
        new = [Group.objects.create(track=clinic.evening, name="Evening A", capacity=5)]
    elif change == "before_start":
        on = enrollment.starts_on - timedelta(days=1)
    elif change == "ended":
        do_change_groups(enrollment, new, acting_user=clinic.clinician, effective_on=on)
    before = seats(ana)
    with pytest.raises(ValidationError) as caught:
        do_change_groups(enrollment, new, acting_user=clinic.clinician, effective_on=on)
    assert field in caught.value.message_dict
    assert seats(ana) == before
