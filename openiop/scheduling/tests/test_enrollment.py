from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.scheduling.actions.booking import do_book_seat
from openiop.scheduling.actions.enrollment import current_enrollment, do_enroll, do_move_track
from openiop.scheduling.models import Booking, Enrollment, Group, Session, WaitlistEntry
from openiop.scheduling.queries import patient_schedule
from openiop.testing.scheduling import admit, local_at, make_session, make_session_type


@pytest.fixture
def groups(clinic):
    return {
        "a": Group.objects.create(track=clinic.day, name="Day A", capacity=10),
        "b": Group.objects.create(track=clinic.day, name="Day B", capacity=10),
        "eve": Group.objects.create(track=clinic.evening, name="Evening A", capacity=10),
    }


@pytest.fixture
def day_sessions(clinic, groups):
    """Three weeks of Day track sessions: group A, group B and a whole-track workshop each Monday-ish day."""
    workshop = make_session_type(clinic.mh, "Workshop", kind="education", service_kind="psychoeducation")
    rows = []
    for week in range(3):
        day = 1 + week * 7
        rows.append(make_session(clinic.mh, local_at(clinic.mh, day, 9), track=clinic.day, group=groups["a"]))
        rows.append(make_session(clinic.mh, local_at(clinic.mh, day, 9), track=clinic.day, group=groups["b"]))
        rows.append(make_session(clinic.mh, local_at(clinic.mh, day, 10), track=clinic.day, session_type=workshop))
    return rows


@pytest.fixture
def evening_sessions(clinic, groups):
    return [
        make_session(clinic.mh, local_at(clinic.mh, 1 + week * 7, 18), track=clinic.evening, group=groups["eve"])
        for week in range(3)
    ]


def test_enrolling_books_every_upcoming_session_of_the_groups_and_the_track(clinic, groups, day_sessions):
    episode = admit(clinic, "Ana")
    result = do_enroll(
        episode, acting_user=clinic.clinician, track=clinic.day, groups=[groups["a"]], starts_on=timezone.localdate()
    )
    booked = {b.session for b in result.booked}
    expected = {s for s in day_sessions if s.group in (None, groups["a"])}
    assert booked == expected
    assert not result.full and not result.waitlisted
    assert set(result.enrollment.groups.all()) == {groups["a"]}
    episode.refresh_from_db()
    assert episode.track == clinic.day
    assert AuditEvent.objects.filter(object_type="enrollment", action=AuditAction.CREATED).count() == 1
    assert AuditEvent.objects.filter(object_type="booking", action=AuditAction.CREATED).count() == len(expected)


def test_enrollment_stops_at_expected_discharge(clinic, groups, day_sessions):
    episode = admit(clinic, "Ana", admitted_days_ago=0, weeks=1)
    result = do_enroll(
        episode, acting_user=clinic.clinician, track=clinic.day, groups=[groups["a"]], starts_on=timezone.localdate()
    )
    assert {b.session for b in result.booked} == {s for s in day_sessions[:3] if s.group in (None, groups["a"])}


def test_full_sessions_put_the_person_on_the_groups_waitlist(clinic, groups, day_sessions):
    first_a = day_sessions[0]
    Session.objects.filter(pk=first_a.pk).update(capacity=1)
    do_book_seat(first_a, episode=admit(clinic, "Ben"), acting_user=clinic.clinician)
    episode = admit(clinic, "Ana")
    result = do_enroll(
        episode, acting_user=clinic.clinician, track=clinic.day, groups=[groups["a"]], starts_on=timezone.localdate()
    )
    assert result.full == [first_a]
    assert [(e.group, e.status) for e in result.waitlisted] == [(groups["a"], WaitlistEntry.Status.WAITING)]
    assert first_a not in {b.session for b in result.booked}


def test_one_current_enrollment_per_episode(clinic, groups, day_sessions):
    episode = admit(clinic, "Ana")
    do_enroll(episode, acting_user=clinic.clinician, track=clinic.day, starts_on=timezone.localdate())
    with pytest.raises(ValidationError) as caught:
        do_enroll(episode, acting_user=clinic.clinician, track=clinic.evening, starts_on=timezone.localdate())
    assert "track" in caught.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(episode=episode, track=clinic.evening, starts_on=timezone.localdate())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("group_of_other_track", "groups"),
        ("closed_group", "groups"),
        ("before_admission", "starts_on"),
        ("other_program_track", "track"),
    ],
)
def test_bad_enrollments_name_the_field_and_change_nothing(clinic, groups, day_sessions, change, field):
    episode = admit(clinic, "Ana")
    track, chosen, starts_on = clinic.day, [groups["a"]], timezone.localdate()
    if change == "group_of_other_track":
        chosen = [groups["eve"]]
    elif change == "closed_group":
        Group.objects.filter(pk=groups["a"].pk).update(is_open=False)
        chosen = [Group.objects.get(pk=groups["a"].pk)]
    elif change == "before_admission":
        assert episode.admitted_on is not None
        starts_on = episode.admitted_on - timedelta(days=1)
    else:
        from openiop.programs.actions import do_create_track

        track = do_create_track(
            acting_user=None,
            program=clinic.su,
            name="SU day",
            kind="day",
            weekdays=[0],
            start_time=local_at(clinic.su, 0, 9).time(),
            end_time=local_at(clinic.su, 0, 12).time(),
        )
        chosen = []
    with pytest.raises(ValidationError) as caught:
        do_enroll(episode, acting_user=clinic.clinician, track=track, groups=chosen, starts_on=starts_on)
    assert field in caught.value.message_dict
    assert not Enrollment.objects.exists() and not Booking.objects.exists()


def test_moving_tracks_keeps_history_and_cancels_only_future_old_track_bookings(
    clinic, groups, day_sessions, evening_sessions
):
    episode = admit(clinic, "Ana")
    today = timezone.localdate()
    first = do_enroll(episode, acting_user=clinic.clinician, track=clinic.day, groups=[groups["a"]], starts_on=today)
    # A past Day session the patient attended stays booked: history is never rewritten.
    past = make_session(clinic.mh, local_at(clinic.mh, -2, 9), track=clinic.day, group=groups["a"])
    Booking.objects.create(session=past, episode=episode, patient=episode.patient, source="enrollment")
    move_on = today + timedelta(days=7)

    result = do_move_track(
        episode, acting_user=clinic.clinician, track=clinic.evening, groups=[groups["eve"]], on=move_on
    )

    old = Enrollment.objects.get(pk=first.enrollment.pk)
    assert old.ends_on == move_on - timedelta(days=1)
    assert current_enrollment(episode) == result.enrollment
    assert result.enrollment.track == clinic.evening
    still_booked = set(Session.objects.filter(bookings__episode=episode, bookings__status="booked"))
    week_one_day = {s for s in day_sessions[:3] if s.group in (None, groups["a"])}
    assert still_booked == week_one_day | {past} | set(evening_sessions[1:])
    cancelled = Booking.objects.filter(episode=episode, status=Booking.Status.CANCELLED)
    assert {b.session for b in cancelled} == {s for s in day_sessions[3:] if s.group in (None, groups["a"])}
    for session in day_sessions[3:]:
        session.refresh_from_db()
        assert session.booked_count == 0
    episode.refresh_from_db()
    assert episode.track == clinic.evening


def test_moving_needs_a_current_enrollment_and_another_track(clinic, groups, day_sessions):
    episode = admit(clinic, "Ana")
    later = timezone.localdate() + timedelta(days=3)
    with pytest.raises(ValidationError):
        do_move_track(episode, acting_user=clinic.clinician, track=clinic.evening, on=later)
    do_enroll(episode, acting_user=clinic.clinician, track=clinic.day, starts_on=timezone.localdate())
    with pytest.raises(ValidationError) as caught:
        do_move_track(episode, acting_user=clinic.clinician, track=clinic.day, on=later)
    assert "track" in caught.value.message_dict


def test_patient_schedule_derives_from_bookings_in_a_constant_number_of_queries(
    clinic, groups, day_sessions, django_assert_num_queries
):
    episode = admit(clinic, "Ana")
    do_enroll(
        episode, acting_user=clinic.clinician, track=clinic.day, groups=[groups["a"]], starts_on=timezone.localdate()
    )
    start, end = timezone.localdate(), timezone.localdate() + timedelta(days=30)
    with django_assert_num_queries(1):
        items = patient_schedule(episode.patient, start, end)
        labels = [(b.session.session_type.name, b.session.group, b.session.track_id, b.status) for b in items]
    assert len(labels) == 6
    assert [b.session.starts_at for b in items] == sorted(b.session.starts_at for b in items)
    more = [
        make_session(
            clinic.mh,
            local_at(clinic.mh, 2 + week * 7, 9),
            track=clinic.day,
            group=groups["a"],
            session_type=make_session_type(clinic.mh, "Skills"),
        )
        for week in range(3)
    ]
    for session in more:
        do_book_seat(session, episode=episode, acting_user=clinic.clinician)
    with django_assert_num_queries(1):
        items = patient_schedule(episode.patient, start, end)
        labels = [(b.session.session_type.name, b.session.group, b.session.track_id, b.status) for b in items]
    assert len(labels) == 9


def test_patient_schedule_hides_programs_the_viewer_is_not_in(clinic):
    episode = admit(clinic, "Ana")
    session = make_session(clinic.mh, local_at(clinic.mh, 3, 9))
    do_book_seat(session, episode=episode, acting_user=clinic.clinician)
    today = timezone.localdate()
    assert patient_schedule(episode.patient, today, today + timedelta(days=7), [clinic.su.pk]) == []
    assert len(patient_schedule(episode.patient, today, today + timedelta(days=7), [clinic.mh.pk])) == 1


def test_enrollment_skips_sessions_clashing_with_a_seat_held_before_or_taken_by_itself(clinic, groups, day_sessions):
    episode = admit(clinic, "Ana")
    week_2_group_a = day_sessions[3]  # 9:00 on day 8
    elsewhere = make_session(clinic.mh, local_at(clinic.mh, 8, 9, 30), minutes=20)  # no track: an appointment
    do_book_seat(elsewhere, episode=episode, acting_user=clinic.clinician)
    # A whole-track session clashing with week 3's group A session, which the enrollment books first.
    late = make_session(clinic.mh, local_at(clinic.mh, 15, 9, 30), minutes=20, track=clinic.day)
    result = do_enroll(
        episode, acting_user=clinic.clinician, track=clinic.day, groups=[groups["a"]], starts_on=timezone.localdate()
    )
    assert {s.pk for s in result.overlapping} == {week_2_group_a.pk, late.pk}
    booked = {b.session_id for b in result.booked}
    assert week_2_group_a.group == groups["a"] and local_at(clinic.mh, 8, 9) == week_2_group_a.starts_at
    assert booked == {s.pk for s in day_sessions if s.group in (None, groups["a"])} - {week_2_group_a.pk}
    assert Booking.objects.filter(patient=episode.patient, status="booked").count() == len(booked) + 1
