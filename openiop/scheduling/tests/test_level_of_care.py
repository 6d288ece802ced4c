"""A step down or up moves the episode to the other level's program and track in one action: bookings, seats,
waitlists, reminders, tasks and the plan review follow, or nothing happens at all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.core.models import AuditEvent
from openiop.patients import events
from openiop.patients.actions import (
    do_change_episode_status,
    do_change_level_of_care,
    do_open_episode,
    do_update_episode,
)
from openiop.patients.models import EpisodeOfCare
from openiop.plans.models import ProgressReview
from openiop.reminders.models import Channel, Kind, Reminder
from openiop.scheduling.actions.booking import do_join_waitlist
from openiop.scheduling.actions.enrollment import do_enroll
from openiop.scheduling.models import Booking, Enrollment, Session, WaitlistEntry
from openiop.testing.levels import add_php
from openiop.testing.plans import active
from openiop.testing.scheduling import admit, local_at, make_session
from openiop.worklist.actions import do_raise_task
from openiop.worklist.models import WorkTask


def _iop_week(clinic):
    """The IOP day track's next three mornings; the second has one seat."""
    return [
        make_session(clinic.mh, local_at(clinic.mh, d, 9), track=clinic.day, capacity=1 if d == 3 else 12)
        for d in (1, 3, 5)
    ]


def _enrolled(clinic, name="Ana"):
    episode = admit(clinic, name)
    starts_on = episode.admitted_on or timezone.localdate()
    do_enroll(episode, acting_user=clinic.clinician, track=clinic.day, starts_on=starts_on)
    return episode


def _change(episode, track, user, **kwargs):
    kwargs.setdefault("effective_on", timezone.localdate())
    kwargs.setdefault("reason", "Needs more structure after a relapse")
    return do_change_level_of_care(episode, acting_user=user, track=track, **kwargs)


def test_step_up_moves_bookings_offers_seats_and_keeps_history(clinic):
    php = add_php(clinic)
    iop = _iop_week(clinic)
    ana = _enrolled(clinic)
    ben = admit(clinic, "Ben")
    do_join_waitlist(ben, acting_user=clinic.clinician, session=iop[1])
    booking = Booking.objects.get(episode=ana, session=iop[0])
    Reminder.objects.create(
        patient=ana.patient, program=clinic.mh, kind=Kind.SESSION, channel=Channel.EMAIL, object_type="booking",
        object_id=booking.pk, dedupe_key="loc-test", send_after=timezone.now() + timedelta(hours=2),
    )  # fmt: skip
    task, _ = do_raise_task(
        acting_user=None, episode=ana, kind=WorkTask.Kind.OUTREACH, trigger_key="loc-outreach",
        reason="Missed 2 sessions in a row", due_on=timezone.localdate(),
    )  # fmt: skip
    done: list[events.Consequence] = []

    with events.listening(events.LevelOfCareChanged) as seen:
        episode = _change(ana, php.track, clinic.director, consequences=done)

    episode.refresh_from_db()
    today = timezone.localdate()
    assert (episode.program, episode.track, episode.level_of_care) == (php.program, php.track, "php")
    assert [(p["from"], p["level"], p["program"]) for p in episode.level_history] == [
        (ana.admitted_on.isoformat(), "iop", str(clinic.mh.public_id)),
        (today.isoformat(), "php", str(php.program.public_id)),
    ]
    assert episode.level_history[0]["dose_hours"] == "9.0"
    assert episode.level_history[1]["reason"] == "Needs more structure after a relapse"
    # The old track's upcoming seats are gone (Ben is offered his), the new group's sessions are booked.
    assert not Booking.objects.filter(episode=ana, session__in=iop, status=Booking.Status.BOOKED).exists()
    assert Session.objects.get(pk=iop[1].pk).booked_count == 0
    assert WaitlistEntry.objects.get(episode=ben).status == WaitlistEntry.Status.OFFERED
    booked = Booking.objects.filter(episode=ana, status=Booking.Status.BOOKED)
    assert set(booked.values_list("session_id", flat=True)) == {s.pk for s in php.sessions}
    enrollments = list(Enrollment.objects.filter(episode=ana).order_by("starts_on"))
    assert [(e.track_id, e.ends_on) for e in enrollments] == [
        (clinic.day.pk, today - timedelta(days=1)),
        (php.track.pk, None),
    ]
    assert list(enrollments[1].groups.all()) == [php.group]
    assert Reminder.objects.get(dedupe_key="loc-test").status == Reminder.Status.DROPPED
    task.refresh_from_db()
    assert task.program_id == php.program.pk
    assert [(e.old_level, e.new_level, e.direction, e.old_program) for e in seen] == [
        ("iop", "php", "step_up", clinic.mh)
    ]
    assert {c.key: c.count for c in done} == {
        "bookings_cancelled": 3,
        "sessions_booked": 3,
        "seats_offered": 1,
        "enrollments_ended": 1,
        "reminders_cancelled": 1,
        "tasks_moved": 1,
    }
    row = AuditEvent.objects.filter(object_type="episodeofcare", object_id=str(ana.public_id)).latest("id")
    assert sorted(row.changed_fields) == ["level_history", "level_of_care", "program", "track"]


def test_step_down_raises_a_plan_review_in_the_same_transaction(clinic, patient):
    php = add_php(clinic)
    active(patient, clinic.clinician)
    episode = EpisodeOfCare.objects.get(patient=patient)
    _change(episode, php.track, clinic.clinician)
    review = ProgressReview.objects.get(plan__episode=episode, trigger=ProgressReview.Trigger.LEVEL_OF_CARE_CHANGE)
    assert review.status == ProgressReview.Status.DUE
    assert WorkTask.objects.filter(episode=episode, program=php.program, status=WorkTask.Status.OPEN).exists()


def test_a_failing_handler_rolls_the_whole_change_back(clinic):
    php = add_php(clinic)
    iop = _iop_week(clinic)
    ana = _enrolled(clinic)

    def refuse(event):
        raise RuntimeError("handler failed")

    with events.registered(events.LevelOfCareChanged, refuse, order=90, app="test"), pytest.raises(RuntimeError):
        _change(ana, php.track, clinic.director)

    ana.refresh_from_db()
    assert (ana.program, ana.level_of_care, ana.level_history) == (clinic.mh, "iop", [])
    assert Booking.objects.filter(episode=ana, session__in=iop, status=Booking.Status.BOOKED).count() == 3
    assert not Booking.objects.filter(episode=ana, session__in=php.sessions).exists()
    assert Enrollment.objects.get(episode=ana).ends_on is None


def test_no_group_with_a_seat_refuses_and_changes_nothing(clinic):
    php = add_php(clinic, capacity=1)
    _change(_enrolled(clinic, "Cy"), php.track, clinic.director)
    ana = _enrolled(clinic)
    with pytest.raises(ValidationError) as refused:
        _change(ana, php.track, clinic.director)
    assert "No group in the PHP day track has a free seat" in refused.value.message_dict["groups"][0]
    ana.refresh_from_db()
    assert ana.program == clinic.mh
    assert Enrollment.objects.get(episode=ana).ends_on is None


def test_refusals_name_the_reason(clinic):
    php = add_php(clinic)
    ana = _enrolled(clinic)
    today = timezone.localdate()
    su_track = clinic.su.tracks.create(name="SU day", weekdays=[0], start_time="09:00", end_time="12:00")
    cases = [
        ({"track": clinic.evening}, "track", "same level of care"),
        ({"track": su_track}, "track", "runs the same level of care (IOP)"),
        ({"effective_on": today - timedelta(days=1)}, "effective_on", "today or later"),
        ({"effective_on": today + timedelta(weeks=20)}, "effective_on", "expected discharge"),
        ({"reason": "  "}, "reason", "Say why"),
    ]
    for changes, field, words in cases:
        with pytest.raises(ValidationError) as refused:
            _change(ana, changes.pop("track", php.track), clinic.director, **changes)
        assert words in refused.value.message_dict[field][0], (changes, field)

    # The patient already waits for the target program; the primary clinician is not its staff.
    do_open_episode(ana.patient, acting_user=None, program=php.program, status="waitlist")
    with pytest.raises(ValidationError) as refused:
        _change(ana, php.track, clinic.director)
    assert "already has an open episode in Adult Mental Health PHP" in refused.value.message_dict["track"][0]
    eve = _enrolled(clinic, "Eve")
    do_update_episode(eve, acting_user=clinic.director, primary_clinician=clinic.intern)
    with pytest.raises(ValidationError) as refused:
        _change(eve, php.track, clinic.director)
    assert "primary clinician is not staff of" in refused.value.message_dict["track"][0]

    held = _enrolled(clinic, "Dee")
    do_change_episode_status(held, acting_user=clinic.director, status="on_hold", on_date=today)
    with pytest.raises(ValidationError) as refused:
        _change(held, php.track, clinic.director)
    assert "Only an active episode" in refused.value.message_dict["episode"][0]
