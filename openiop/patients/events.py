"""Episode events: the episode of care's transitions, told to the apps above patients inside the same transaction.

Patients owns the episode but knows nothing of scheduling, worklist, plans or discharge, so a transition does not do
their part; it emits an event and each app reacts in a handler it registers from its ``AppConfig.ready()``::

    from openiop.patients import events

    events.register(events.EpisodeDischarged, on_discharged, order=20, app="scheduling")

The mechanism is ``core.hooks.Hook`` (one hook per event type): handlers run synchronously by ``order`` and then
registration order, inside the transition's ``transaction.atomic``, and an exception in one propagates and rolls the
whole transition back. No Django signals. Every registered handler is listed in ``docs/architecture.md``
("Episode events and hooks").

Who emits what (``patients.actions``):

- ``EpisodeAdmitted``: ``do_open_episode`` with status active, and ``do_change_episode_status`` waitlist -> active.
  Opening an episode on the waitlist is not an admission and emits nothing.
- ``TrackChanged``: ``do_update_episode`` when the track really changes (the Episodes tab, and scheduling's
  enrollment and track moves, which set the episode's track through it).
- ``EpisodePutOnHold`` / ``EpisodeResumed``: ``do_change_episode_status`` active -> on hold -> active.
- ``EpisodeDischarged``: ``do_change_episode_status`` to discharged, from any open status (the Episodes tab, and
  discharge's signing or unplanned discharge, which go through it).
- ``EpisodeReadmitted``: ``do_link_readmission``, when referrals' admission opens a new episode within the
  readmission window of a discharge (after that episode's ``EpisodeAdmitted``; a discharged episode is closed for
  good, so a readmission is always a new episode pointing at the old one through ``previous_episode``).
- ``LevelOfCareChanged``: ``do_change_level_of_care``, a step down or up: the episode moves to a track of a program
  at another level of care (its program, track, level and level history change together; no ``TrackChanged`` is
  emitted for that move). Scheduling's handler moves the enrollment and bookings, so a refusal there (no seat)
  rolls the whole change back.

Dispatch is on the exact event type (no subclass matching). An event is emitted after the episode row is saved and
before the transition's own audit row, keeping the lock order of the actions: domain rows first, the audit chain
head last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from django.utils import timezone

from openiop.core.hooks import Hook, Registration
from openiop.programs import levels

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.patients.models import EpisodeOfCare
    from openiop.programs.models import Program, Track


@dataclass(frozen=True)
class Consequence:
    """What one handler did, for the confirmation the person who made the transition sees ("12 future sessions
    cancelled"). ``key`` is stable (tests, the API), ``label`` is the staff wording after the count."""

    app: str
    key: str
    count: int
    label: str
    singular: str = ""  # the wording after a count of 1, when it differs ("1 freed seat offered")

    @property
    def wording(self) -> str:
        """The words after the count: the singular for a count of 1 when there is one."""
        return self.singular if self.count == 1 and self.singular else self.label

    def __str__(self) -> str:
        return f"{self.count} {self.wording}"


@dataclass(frozen=True, kw_only=True)
class EpisodeEvent:
    """What every episode event carries. ``effective_on`` is the date the transition takes effect (admission,
    discharge, hold date...; the program's today for a track change); ``occurred_at`` is when it was recorded.

    ``consequences`` is the one mutable part: handlers ``report`` what they did there, and the emitting action's
    caller may pass its own list in to read it afterwards (the discharge confirmation)."""

    episode: EpisodeOfCare
    acting_user: User | None
    effective_on: date
    occurred_at: datetime = field(default_factory=timezone.now)
    consequences: list[Consequence] = field(default_factory=list, compare=False, repr=False)

    def report(self, app: str, key: str, count: int, label: str, singular: str = "") -> None:
        """Note what a handler did; nothing is noted for a count of 0 (the confirmation lists only what happened).
        ``label`` follows a count of several, ``singular`` (when given) a count of 1."""
        if count:
            self.consequences.append(Consequence(app=app, key=key, count=count, label=label, singular=singular))


def describe(consequences: list[Consequence]) -> str:
    """The consequences as one sentence for a confirmation message ("" when nothing happened)."""
    return "; ".join(str(c) for c in consequences)


@dataclass(frozen=True, kw_only=True)
class EpisodeAdmitted(EpisodeEvent):
    """The episode became active for the first time; ``from_waitlist`` when it had waited on the waitlist. Its
    track, if any, is ``episode.track`` (a referral's admission may set or change it just after, as ``TrackChanged``).
    """

    from_waitlist: bool


@dataclass(frozen=True, kw_only=True)
class TrackChanged(EpisodeEvent):
    old_track: Track | None
    new_track: Track | None


@dataclass(frozen=True, kw_only=True)
class EpisodePutOnHold(EpisodeEvent):
    """Active -> on hold. Holds carry no reason today; ``reason`` is there for when they do."""

    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class EpisodeResumed(EpisodeEvent):
    """On hold -> active."""


@dataclass(frozen=True, kw_only=True)
class EpisodeDischarged(EpisodeEvent):
    """The episode closed for good: ``reason`` is the TEDS-D code (``EpisodeOfCare.DischargeReason``);
    ``previous_status`` tells a discharge from care (active, on hold) from a waitlisted episode being closed."""

    reason: str
    previous_status: str


@dataclass(frozen=True, kw_only=True)
class EpisodeReadmitted(EpisodeEvent):
    """A new episode readmitting the patient within the readmission window after the discharged ``previous``
    (``do_link_readmission``, called by referrals' admission)."""

    previous: EpisodeOfCare


@dataclass(frozen=True, kw_only=True)
class LevelOfCareChanged(EpisodeEvent):
    """A step down or up: the episode moved from ``old_program`` (at ``old_level``, in ``old_track``) to
    ``new_track`` of its new program (``episode.program``, at ``new_level``) from ``effective_on``. ``groups`` are
    the new track's groups the person asked to join (scheduling's ``Group`` rows, typed Any since patients sits
    below scheduling; empty: scheduling picks the open group with a seat). ``reason`` is the clinician's."""

    old_level: str
    new_level: str
    old_program: Program
    old_track: Track | None
    new_track: Track
    groups: tuple[Any, ...] = ()
    reason: str = ""

    @property
    def direction(self) -> str:
        """ "step_down", "step_up" or "same" (programs/levels.py ranks the levels)."""
        return levels.direction(self.old_level, self.new_level)


EVENT_TYPES: tuple[type[EpisodeEvent], ...] = (
    EpisodeAdmitted,
    TrackChanged,
    EpisodePutOnHold,
    EpisodeResumed,
    EpisodeDischarged,
    EpisodeReadmitted,
    LevelOfCareChanged,
)
_HOOKS: dict[type[EpisodeEvent], Hook[Any]] = {t: Hook(f"patients.{t.__name__}") for t in EVENT_TYPES}

Ev = TypeVar("Ev", bound=EpisodeEvent)


def hook(event_type: type[Ev]) -> Hook[Ev]:
    try:
        return _HOOKS[event_type]
    except KeyError:
        raise TypeError(f"{event_type!r} is not an episode event type.") from None


def register(event_type: type[Ev], handler: Callable[[Ev], None], *, order: int, app: str) -> None:
    """Call ``handler(event)`` on every ``event_type``; from ``AppConfig.ready()``. Idempotent per handler."""
    hook(event_type).register(handler, order=order, app=app)


def unregister(event_type: type[Ev], handler: Callable[[Ev], None]) -> bool:
    return hook(event_type).unregister(handler)


def emit(event: EpisodeEvent) -> None:
    """Run the event's handlers now, in this transaction; raises ``core.hooks.TransactionRequired`` outside one."""
    hook(type(event)).emit(event)


def registrations(event_type: type[EpisodeEvent]) -> tuple[Registration[Any], ...]:
    return hook(event_type).registrations


@contextmanager
def registered(event_type: type[Ev], handler: Callable[[Ev], None], *, order: int, app: str) -> Iterator[None]:
    """The handler registered for the ``with`` block only (tests)."""
    with hook(event_type).registered(handler, order=order, app=app):
        yield


@contextmanager
def listening(event_type: type[Ev]) -> Iterator[list[Ev]]:
    """The ``event_type`` events emitted during the ``with`` block, recorded after every other handler (tests)."""
    with hook(event_type).listening() as seen:
        yield seen
