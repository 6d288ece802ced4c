"""Episode events: each transition emits its typed event inside its transaction; handlers run in order and a failing
one rolls the whole transition back."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from openiop.core.hooks import TransactionRequired
from openiop.core.models import AuditAction, AuditEvent
from openiop.discharge.actions import do_start_discharge
from openiop.patients import events
from openiop.patients.actions import do_change_episode_status, do_open_episode, do_update_episode
from openiop.patients.models import EpisodeOfCare
from openiop.testing.fixtures import make_patient


class Boom(Exception):
    pass


def _boom(event: events.EpisodeEvent) -> None:
    raise Boom(type(event).__name__)


@pytest.fixture
def episode(patient) -> EpisodeOfCare:
    return patient.episodes.get()


def _status_changes() -> int:
    return AuditEvent.objects.filter(action=AuditAction.STATUS_CHANGED).count()


# --- The mechanism ----------------------------------------------------------------------------------------------


def test_handlers_run_by_order_then_by_registration(clinic, episode):
    calls: list[str] = []

    def late(event: events.EpisodePutOnHold) -> None:
        calls.append("late")

    def first(event: events.EpisodePutOnHold) -> None:
        calls.append("first")

    def second(event: events.EpisodePutOnHold) -> None:
        calls.append("second")

    with (
        events.registered(events.EpisodePutOnHold, late, order=20, app="test"),
        events.registered(events.EpisodePutOnHold, first, order=10, app="test"),
        events.registered(events.EpisodePutOnHold, second, order=10, app="test"),
    ):
        do_change_episode_status(episode, acting_user=clinic.director, status="on_hold", on_date=date(2026, 11, 5))
    assert calls == ["first", "second", "late"]


def test_a_failing_handler_rolls_the_whole_transition_back(clinic, episode):
    before = _status_changes()

    def writes(event: events.EpisodePutOnHold) -> None:
        # An earlier handler's write goes down with the transition too.
        EpisodeOfCare.objects.filter(pk=event.episode.pk).update(expected_discharge_on=date(2027, 6, 30))

    with (
        events.registered(events.EpisodePutOnHold, writes, order=10, app="test"),
        events.registered(events.EpisodePutOnHold, _boom, order=20, app="test"),
        pytest.raises(Boom),
    ):
        do_change_episode_status(episode, acting_user=clinic.director, status="on_hold", on_date=date(2026, 11, 5))
    stored = EpisodeOfCare.objects.get(pk=episode.pk)
    assert (stored.status, stored.expected_discharge_on) == ("active", episode.expected_discharge_on)
    assert _status_changes() == before  # the transition's audit row went too


def test_a_failing_discharge_handler_keeps_the_episode_open(clinic, episode):
    with events.registered(events.EpisodeDischarged, _boom, order=10, app="test"), pytest.raises(Boom):
        do_change_episode_status(
            episode, acting_user=clinic.director, status="discharged", on_date=date(2026, 11, 9), discharge_reason="1"
        )
    stored = EpisodeOfCare.objects.get(pk=episode.pk)
    assert (stored.status, stored.discharged_on, stored.discharge_reason) == ("active", None, "")


def test_emitting_outside_a_transaction_is_refused():
    # No database fixture: no atomic block is open, and none may be needed to see the refusal.
    event = events.EpisodeResumed(episode=EpisodeOfCare(), acting_user=None, effective_on=date(2026, 11, 9))
    with pytest.raises(TransactionRequired):
        events.emit(event)


def test_registering_the_same_handler_twice_runs_it_once(clinic, episode):
    calls: list[events.EpisodePutOnHold] = []

    def handler(event: events.EpisodePutOnHold) -> None:
        calls.append(event)

    try:
        events.register(events.EpisodePutOnHold, handler, order=10, app="test")
        events.register(events.EpisodePutOnHold, handler, order=10, app="test")  # ready() run twice
        assert [r.handler for r in events.registrations(events.EpisodePutOnHold)].count(handler) == 1
        with pytest.raises(ValueError, match="already registered"):
            events.register(events.EpisodePutOnHold, handler, order=99, app="test")
        do_change_episode_status(episode, acting_user=clinic.director, status="on_hold", on_date=date(2026, 11, 5))
    finally:
        assert events.unregister(events.EpisodePutOnHold, handler)
    assert len(calls) == 1
    assert handler not in [r.handler for r in events.registrations(events.EpisodePutOnHold)]


def test_only_episode_event_types_have_hooks():
    with pytest.raises(TypeError):
        events.register(AuditEvent, print, order=1, app="test")  # type: ignore[type-var]


def test_events_are_frozen(episode):
    event = events.EpisodeResumed(episode=episode, acting_user=None, effective_on=date(2026, 11, 9))
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.effective_on = date(2026, 11, 10)  # type: ignore[misc]


def test_every_event_type_carries_the_episode_the_user_and_the_date():
    for event_type in events.EVENT_TYPES:
        names = {f.name for f in dataclasses.fields(event_type)}
        assert {"episode", "acting_user", "effective_on", "occurred_at"} <= names, event_type


# --- What each transition emits --------------------------------------------------------------------------------


def test_opening_an_active_episode_emits_admitted(clinic):
    newcomer = make_patient(clinic, legal_first_name="Nova", legal_last_name="New", admit=False)
    with events.listening(events.EpisodeAdmitted) as admitted:
        episode = do_open_episode(
            newcomer,
            acting_user=clinic.intake,
            program=clinic.mh,
            track=clinic.evening,
            admitted_on=date(2026, 11, 16),
        )
    assert admitted == [
        events.EpisodeAdmitted(
            episode=episode,
            acting_user=clinic.intake,
            effective_on=date(2026, 11, 16),
            from_waitlist=False,
            occurred_at=admitted[0].occurred_at,
        )
    ]
    assert admitted[0].episode.track == clinic.evening


def test_waitlisting_emits_nothing_and_admitting_from_the_waitlist_emits_admitted(clinic):
    newcomer = make_patient(clinic, legal_first_name="Nova", legal_last_name="New", admit=False)
    with events.listening(events.EpisodeAdmitted) as admitted:
        episode = do_open_episode(newcomer, acting_user=clinic.intake, program=clinic.su, status="waitlist")
        assert admitted == []
        do_change_episode_status(episode, acting_user=clinic.intake, status="active", on_date=date(2026, 11, 16))
    [event] = admitted
    assert (event.episode.pk, event.acting_user, event.effective_on, event.from_waitlist) == (
        episode.pk,
        clinic.intake,
        date(2026, 11, 16),
        True,
    )
    assert event.episode.status == "active"


def test_hold_and_resume_emit_their_events(clinic, episode):
    with events.listening(events.EpisodePutOnHold) as held, events.listening(events.EpisodeResumed) as resumed:
        do_change_episode_status(episode, acting_user=clinic.director, status="on_hold", on_date=date(2026, 11, 5))
        assert resumed == []
        do_change_episode_status(episode, acting_user=clinic.director, status="active", on_date=date(2026, 11, 9))
    assert [(e.episode.pk, e.acting_user, e.effective_on, e.reason) for e in held] == [
        (episode.pk, clinic.director, date(2026, 11, 5), "")
    ]
    assert [(e.episode.pk, e.acting_user, e.effective_on) for e in resumed] == [
        (episode.pk, clinic.director, date(2026, 11, 9))
    ]


def test_discharge_emits_discharged_with_the_reason_and_the_previous_status(clinic, episode):
    do_change_episode_status(episode, acting_user=clinic.director, status="on_hold", on_date=date(2026, 11, 5))
    with events.listening(events.EpisodeDischarged) as discharged:
        do_change_episode_status(
            episode, acting_user=clinic.director, status="discharged", on_date=date(2026, 11, 9), discharge_reason="2"
        )
    [event] = discharged
    assert (event.episode.pk, event.acting_user, event.effective_on, event.reason, event.previous_status) == (
        episode.pk,
        clinic.director,
        date(2026, 11, 9),
        "2",
        "on_hold",
    )
    # Handlers see the episode as saved.
    assert (event.episode.status, event.episode.discharged_on) == ("discharged", date(2026, 11, 9))


def test_an_unplanned_discharge_in_the_discharge_app_emits_discharged_once(clinic, episode):
    with events.listening(events.EpisodeDischarged) as discharged:
        do_start_discharge(
            episode, acting_user=clinic.clinician, reason="2", discharge_on=date(2026, 11, 9), discharge_now=True
        )
    assert [(e.episode.pk, e.reason, e.previous_status, e.acting_user) for e in discharged] == [
        (episode.pk, "2", "active", clinic.clinician)
    ]


def test_changing_the_track_emits_track_changed(clinic, episode):
    with events.listening(events.TrackChanged) as changed:
        do_update_episode(episode, acting_user=clinic.director, expected_discharge_on=date(2027, 1, 30))
        assert changed == []  # no track change, no event
        do_update_episode(episode, acting_user=clinic.director, track=clinic.evening)
        do_update_episode(episode, acting_user=clinic.director, track=clinic.evening)  # the same track again
        do_update_episode(episode, acting_user=clinic.director, track=None)
    assert [(e.episode.pk, e.acting_user, e.old_track, e.new_track) for e in changed] == [
        (episode.pk, clinic.director, clinic.day, clinic.evening),
        (episode.pk, clinic.director, clinic.evening, None),
    ]
    assert changed[0].effective_on == clinic.mh.now().date()


def test_a_refused_transition_emits_nothing(clinic, episode):
    with (
        events.listening(events.EpisodeAdmitted) as admitted,
        events.listening(events.EpisodeResumed) as resumed,
        pytest.raises(ValidationError),
    ):
        do_change_episode_status(episode, acting_user=clinic.director, status="waitlist", on_date=date(2026, 11, 9))
    assert admitted == resumed == []


def test_every_event_type_has_its_hook_and_a_level_change_knows_its_direction(clinic, episode):
    for event_type in (events.EpisodeReadmitted, events.LevelOfCareChanged):
        assert events.hook(event_type).name == f"patients.{event_type.__name__}"
    change = events.LevelOfCareChanged(
        episode=episode, acting_user=None, effective_on=date(2026, 11, 9), old_level="php", new_level="iop",
        old_program=clinic.mh, old_track=None, new_track=clinic.day,
    )  # fmt: skip
    assert (change.reason, change.groups, change.direction) == ("", (), "step_down")


def test_a_consequence_of_one_reads_in_the_singular():
    several = events.Consequence(app="a", key="k", count=3, label="freed seats offered", singular="freed seat offered")
    one = events.Consequence(app="a", key="k", count=1, label="freed seats offered", singular="freed seat offered")
    assert events.describe([several, one]) == "3 freed seats offered; 1 freed seat offered"
