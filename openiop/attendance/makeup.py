"""Make-up sessions that restore a week's dose.

Candidates are sessions of the episode's program (any track) that are scheduled, count toward the dose, have a
free seat, start after now and inside the week (by local day), fall inside the episode's dates, are not already
held by the person and do not overlap anything they are booked into (in any program).

``choose_makeup`` is a small exact search: the fewest candidates, pairwise non-overlapping, that lift the week one
step. A week out of reach needs attended + remaining + added >= minimum (reachable again); a week reachable only by
attending everything needs a cushion, attended + remaining + added - smallest remaining (old or new) >= minimum,
so that one missed session no longer sinks it. Ties go to the least surplus, then the earliest sessions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F

from openiop.attendance.dose import (
    DAYS_PER_WEEK,
    DoseStatus,
    WeekDose,
    credited_minutes,
    hours_label,
    week_bounds,
)
from openiop.attendance.policy import policy_for
from openiop.patients.models import EpisodeOfCare
from openiop.scheduling.models import Booking, Session

MAX_SESSIONS = 5  # a week needing more make-ups than this is past rescuing by suggestion
MAX_CANDIDATES = 24  # the earliest ones; keeps the exact search to a few thousand sets at worst


@dataclass(frozen=True)
class Candidate:
    session_id: int
    starts_at: datetime
    ends_at: datetime
    credited: int
    session: Any = field(default=None, compare=False, repr=False)

    @property
    def hours(self) -> str:
        return hours_label(self.credited)


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def _target(week: WeekDose) -> str | None:
    status = week.status
    if status == DoseStatus.UNREACHABLE:
        return "reach"
    if status == DoseStatus.AT_RISK:
        return "cushion"
    return None


def _satisfies(week: WeekDose, target: str, added: Sequence[Candidate]) -> bool:
    total = week.attended + week.remaining + sum(c.credited for c in added)
    if target == "reach":
        return total >= week.minimum
    smallest = min([c.credited for c in added] + [s.scheduled for s in week.remaining_slots])
    return total - smallest >= week.minimum


def _combinations(
    candidates: Sequence[Candidate], size: int, needed: int, top: Sequence[int], below: list[int]
) -> Iterator[list[Candidate]]:
    """Pairwise non-overlapping sets of ``size``, in start order, whose credited sum reaches ``needed`` and stays
    under ``below[0]`` (the caller lowers it as it finds better sets). Pruned by the best sum still possible."""
    chosen: list[Candidate] = []

    def walk(start: int, total: int) -> Iterator[list[Candidate]]:
        left = size - len(chosen)
        if total >= below[0]:
            return  # every credit is positive: adding more only makes the sum worse
        if left == 0:
            if total >= needed:
                yield list(chosen)
            return
        if total + sum(top[:left]) < needed:
            return
        for i in range(start, len(candidates) - left + 1):
            c = candidates[i]
            if any(_overlaps(c, other) for other in chosen):
                continue
            chosen.append(c)
            yield from walk(i + 1, total + c.credited)
            chosen.pop()

    yield from walk(0, 0)


def choose_makeup(
    week: WeekDose, candidates: Sequence[Candidate], *, max_sessions: int = MAX_SESSIONS
) -> list[Candidate] | None:
    """The fewest candidates that lift the week one step ([] when it needs none, None when nothing can)."""
    target = _target(week)
    if target is None:
        return []
    pool = sorted(candidates, key=lambda c: (c.starts_at, c.session_id))[:MAX_CANDIDATES]
    top = sorted((c.credited for c in pool), reverse=True)
    # Both targets need at least this much added; the cushion is checked exactly on each complete set.
    needed = max(week.minimum - week.attended - week.remaining, 1)
    for size in range(1, min(max_sessions, len(pool)) + 1):
        best: list[Candidate] | None = None
        # Sets come in start order, so the first one found with the least sum is also the earliest.
        below = [sum(top) + 1]
        for combo in _combinations(pool, size, needed, top, below):
            if not _satisfies(week, target, combo):
                continue
            best = combo
            below[0] = sum(c.credited for c in combo)
            if below[0] == needed:
                break  # nothing can sum less
        if best is not None:
            return best
    return None


@dataclass
class MakeupPlan:
    week: WeekDose
    target: str | None  # "reach", "cushion" or None (the week needs nothing)
    sessions: list[Candidate] | None  # None: no set of open sessions lifts the week
    candidate_count: int

    @property
    def needed(self) -> bool:
        return self.target is not None

    @property
    def added_hours(self) -> str:
        return hours_label(sum(c.credited for c in self.sessions or []))


def makeup_candidates(episode: EpisodeOfCare, week: WeekDose, *, now: datetime) -> list[Candidate]:
    """Open sessions that could be booked as make-ups this week: two queries (candidates, the person's bookings)."""
    # The booking action's own limits: only an active episode books, and only inside its dates.
    if episode.status != EpisodeOfCare.Status.ACTIVE:
        return []
    program = episode.program
    tz = program.tz()
    _, week_end = week_bounds(week.start, tz)
    clinical_hour = policy_for(program).clinical_hour_minutes
    held = Booking.objects.filter(patient_id=episode.patient_id, status=Booking.Status.BOOKED)
    sessions = list(
        Session.objects.filter(
            program_id=program.pk,
            status=Session.Status.SCHEDULED,
            session_type__counts_toward_dose=True,
            starts_at__gt=now,
            starts_at__lt=week_end,
            booked_count__lt=F("capacity"),
        )
        .exclude(pk__in=held.values("session_id"))
        .select_related("program", "session_type", "track")
        .order_by("starts_at", "pk")
    )
    busy = list(
        held.filter(
            session__status=Session.Status.SCHEDULED,
            session__starts_at__lt=week_end,
            session__ends_at__gt=now,
        ).values_list("session__starts_at", "session__ends_at")
    )
    first_day = episode.admitted_on
    last_day = episode.discharged_on or episode.expected_discharge_on
    result = []
    for s in sessions:
        day = s.starts_at.astimezone(tz).date()
        if not (week.start <= day < week.start + timedelta(days=DAYS_PER_WEEK)):
            continue
        if (first_day is not None and day < first_day) or (last_day is not None and day > last_day):
            continue
        if any(s.starts_at < end and start < s.ends_at for start, end in busy):
            continue
        minutes = int((s.ends_at - s.starts_at).total_seconds() // 60)
        result.append(Candidate(s.pk, s.starts_at, s.ends_at, credited_minutes(minutes, clinical_hour), session=s))
    return result


def plan_makeup(episode: EpisodeOfCare, week: WeekDose, *, now: datetime) -> MakeupPlan:
    target = _target(week)
    if target is None:
        return MakeupPlan(week=week, target=None, sessions=[], candidate_count=0)
    candidates = makeup_candidates(episode, week, now=now)
    return MakeupPlan(
        week=week, target=target, sessions=choose_makeup(week, candidates), candidate_count=len(candidates)
    )
