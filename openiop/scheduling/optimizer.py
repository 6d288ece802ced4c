"""Placement optimizer: new admissions into tracks and groups, with OR-Tools CP-SAT.

Pure: dataclasses in, dataclasses out, no database. ``placement.py`` builds the input from the ORM.

A person is placed in at most one track and a set of that track's groups such that
- the track fits clinically (population must match; focus must match, co-occurring fits either),
- every meeting of every chosen group lies inside the person's weekly availability,
- the chosen groups do not overlap each other,
- their weekly hours reach the track's dose minimum,
- no group gets more people than it has free seats.

The objective is lexicographic through weights: first the number of people placed, then preference fit
(preferred track kind, preferred groups), then waitlist order (earlier admissions win a contested seat), then
the fewest groups (seats are left for others). Pairs that cannot work are filtered out in Python first so the
model only holds real choices.
"""

from __future__ import annotations

import itertools
import time as clock
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ADULT, ADOLESCENT = "adult", "adolescent"
MENTAL_HEALTH, SUBSTANCE_USE, CO_OCCURRING = "mental_health", "substance_use", "co_occurring"
FOCUS_LABELS = {MENTAL_HEALTH: "mental health", SUBSTANCE_USE: "substance use", CO_OCCURRING: "co-occurring"}

DEFAULT_TIME_LIMIT = 1.8  # seconds for the whole call, model building and explanations included
DEFAULT_WORKERS = 2
DEFAULT_KIND_WEIGHT = 10
# Group sets are enumerated per person and track; a track rarely runs more groups than this.
MAX_PATTERN_GROUPS = 12
DETERMINISTIC_MAX_CHOICES = 600


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _hours_label(minutes: int) -> str:
    return f"{minutes / 60:.1f}"


def _dose_label(minutes: int) -> str:
    # "9 h", "7.5 h": the dose as people say it.
    return f"{minutes / 60:g} h"


@dataclass(frozen=True, order=True)
class Block:
    """A weekly window in program-local time: weekday 0 = Monday, end after start on the same day."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0-6, not {self.weekday}")
        if self.end <= self.start:
            raise ValueError(f"{self.label} must end after it starts")

    @cached_property
    def start_minute(self) -> int:
        return _minutes(self.start)

    @cached_property
    def end_minute(self) -> int:
        return _minutes(self.end)

    @cached_property
    def minutes(self) -> int:
        return self.end_minute - self.start_minute

    @property
    def label(self) -> str:
        return f"{WEEKDAY_NAMES[self.weekday]} {self.start:%H:%M}-{self.end:%H:%M}"

    def overlaps(self, other: Block) -> bool:
        return (
            self.weekday == other.weekday
            and self.start_minute < other.end_minute
            and other.start_minute < self.end_minute
        )


@dataclass(frozen=True)
class Admission:
    id: str
    population: str
    focus: str
    availability: tuple[Block, ...]
    preferred_kind: str = ""  # "day", "evening", "" for no preference
    kind_weight: int = DEFAULT_KIND_WEIGHT
    preferred_groups: tuple[tuple[str, int], ...] = ()  # (group id, weight)
    label: str = ""


@dataclass(frozen=True)
class TrackSpec:
    id: str
    name: str  # shown in reasons, e.g. "Evening track"
    kind: str
    population: str
    focus: str
    dose_hours: Decimal | float
    # Whole-track sessions everyone in the track attends (e.g. a community meeting): they must fit the person's
    # availability, count toward the dose, and no chosen group may overlap them.
    required_meetings: tuple[Block, ...] = ()

    @property
    def dose_minutes(self) -> int:
        return round(float(self.dose_hours) * 60)

    @cached_property
    def required_minutes(self) -> int:
        return sum(m.minutes for m in self.required_meetings)

    def clashes_with(self, group: GroupSpec) -> bool:
        return any(m.overlaps(r) for m in group.meetings for r in self.required_meetings)


@dataclass(frozen=True)
class GroupSpec:
    id: str
    track_id: str
    name: str
    meetings: tuple[Block, ...]
    free_seats: int

    @cached_property
    def minutes(self) -> int:
        return sum(m.minutes for m in self.meetings)

    @property
    def hours(self) -> float:
        return self.minutes / 60

    def overlaps(self, other: GroupSpec) -> bool:
        return any(a.overlaps(b) for a in self.meetings for b in other.meetings)


@dataclass(frozen=True)
class Placement:
    admission_id: str
    track_id: str | None
    group_ids: tuple[str, ...]
    weekly_hours: float
    reason: str
    details: tuple[str, ...] = ()  # one line per track for the unplaced: why each does not work

    @property
    def placed(self) -> bool:
        return self.track_id is not None


@dataclass
class Result:
    status: str  # OPTIMAL, FEASIBLE, or GREEDY when the solver found nothing in time
    deterministic: bool
    objective: float
    bound: float
    gap: float  # (bound - objective) / objective, 0 when optimal
    wall_seconds: float
    build_seconds: float
    placements: list[Placement]
    placeable_bound: int  # no solution can place more than this many people
    variables: int = 0
    constraints: int = 0
    by_id: dict[str, Placement] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {p.admission_id: p for p in self.placements}

    @property
    def placed_count(self) -> int:
        return sum(1 for p in self.placements if p.placed)


def clinical_mismatch(admission: Admission, track: TrackSpec) -> str:
    """Why the track does not fit the person clinically, or "" when it does."""
    if admission.population != track.population:
        return f"{track.population} programs only"
    if admission.focus == CO_OCCURRING or track.focus == CO_OCCURRING:
        # A co-occurring person fits either focus, and a co-occurring track treats both.
        return ""
    if admission.focus != track.focus:
        return f"{FOCUS_LABELS.get(track.focus, track.focus)} programs only"
    return ""


def merge_windows(blocks: Iterable[Block]) -> dict[int, list[tuple[int, int]]]:
    """Availability per weekday as sorted, merged minute ranges (back-to-back windows count as one)."""
    by_day: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for b in sorted(blocks):
        ranges = by_day[b.weekday]
        if ranges and b.start_minute <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], b.end_minute))
        else:
            ranges.append((b.start_minute, b.end_minute))
    return by_day


def first_meeting_outside(group: GroupSpec | TrackSpec, windows: dict[int, list[tuple[int, int]]]) -> Block | None:
    meetings = group.meetings if isinstance(group, GroupSpec) else group.required_meetings
    for m in sorted(meetings):
        if not any(s <= m.start_minute and m.end_minute <= e for s, e in windows.get(m.weekday, ())):
            return m
    return None


def best_hours(groups: Sequence[GroupSpec], overlapping: set[frozenset[str]]) -> int:
    """Most weekly minutes a person could attend from ``groups`` without overlaps (ignores seats)."""
    if len(groups) <= 14:
        best = 0
        for size in range(len(groups), 0, -1):
            for combo in itertools.combinations(groups, size):
                if any(frozenset((a.id, b.id)) in overlapping for a, b in itertools.combinations(combo, 2)):
                    continue
                best = max(best, sum(g.minutes for g in combo))
        return best
    return sum(g.minutes for g in groups)  # an upper bound; enough to explain a shortfall


class _Problem:
    """The filtered instance: which (person, track) and (person, group) pairs are worth a variable."""

    def __init__(self, admissions: Sequence[Admission], tracks: Sequence[TrackSpec], groups: Sequence[GroupSpec]):
        self.admissions = list(admissions)
        self.tracks = {t.id: t for t in tracks}
        self.groups = {g.id: g for g in groups}
        self.groups_of: dict[str, list[GroupSpec]] = defaultdict(list)
        for g in groups:
            if g.track_id in self.tracks:
                self.groups_of[g.track_id].append(g)
        self.overlapping: set[frozenset[str]] = set()
        for track_groups in self.groups_of.values():
            for first, second in itertools.combinations(track_groups, 2):
                if first.overlaps(second):
                    self.overlapping.add(frozenset((first.id, second.id)))
        self.windows = {a.id: merge_windows(a.availability) for a in self.admissions}
        self._outside: dict[tuple[str, str], Block | None] = {}
        # Seats left after the chosen placements; set before explaining who was left out.
        self.remaining: dict[str, int] = {}
        # candidates[admission id][track id] = groups inside availability with a free seat
        self.candidates: dict[str, dict[str, list[GroupSpec]]] = {}
        for a in self.admissions:
            options: dict[str, list[GroupSpec]] = {}
            for t in self.tracks.values():
                if clinical_mismatch(a, t) or self.outside(a, t) is not None:
                    continue
                fitting = [
                    g
                    for g in self.groups_of[t.id]
                    if g.free_seats > 0 and g.minutes > 0 and not t.clashes_with(g) and self.outside(a, g) is None
                ]
                if t.required_minutes + sum(g.minutes for g in fitting) >= t.dose_minutes and (
                    fitting or t.required_minutes
                ):
                    options[t.id] = fitting
            self.candidates[a.id] = options

    def outside(self, a: Admission, item: GroupSpec | TrackSpec) -> Block | None:
        """The first meeting of a group (or of a track's whole-track sessions) outside the person's availability."""
        key = (a.id, f"{type(item).__name__}:{item.id}")
        if key not in self._outside:
            self._outside[key] = first_meeting_outside(item, self.windows[a.id])
        return self._outside[key]

    def patterns(self, a: Admission, tid: str) -> list[frozenset[str]]:
        """The sets of the track's fitting groups the person could take: no overlaps, the dose reached, and no
        group that is neither needed for the dose nor preferred (it would only take someone else's seat)."""
        t = self.tracks[tid]
        needed = t.dose_minutes - t.required_minutes
        wanted = {gid for gid, w in a.preferred_groups if w > 0}
        fitting = sorted(self.candidates[a.id][tid], key=lambda g: (-(g.id in wanted), -g.minutes, g.id))
        fitting = fitting[:MAX_PATTERN_GROUPS]
        found: list[frozenset[str]] = []
        for size in range(0 if needed <= 0 else 1, len(fitting) + 1):
            for combo in itertools.combinations(fitting, size):
                total = sum(g.minutes for g in combo)
                if total < needed:
                    continue
                if any(g.id not in wanted and total - g.minutes >= needed for g in combo):
                    continue
                if any(frozenset((p.id, q.id)) in self.overlapping for p, q in itertools.combinations(combo, 2)):
                    continue
                found.append(frozenset(g.id for g in combo))
        return found

    def use_seats(self, chosen: dict[str, tuple[str, list[str]]]) -> None:
        self.remaining = {g.id: g.free_seats for g in self.groups.values()}
        for _track, group_ids in chosen.values():
            for gid in group_ids:
                self.remaining[gid] -= 1

    def preference(self, a: Admission, t: TrackSpec) -> int:
        return a.kind_weight if a.preferred_kind and a.preferred_kind == t.kind else 0

    def explain_unplaced(self, a: Admission) -> tuple[str, tuple[str, ...]]:
        """Check each track to say why nothing fits; the summary names the closest miss."""
        if not self.tracks:
            return "no tracks to place into", ()
        details: list[str] = []
        clinical: list[str] = []
        short: list[int] = []
        full = stopped = False
        for t in self.tracks.values():
            mismatch = clinical_mismatch(a, t)
            if mismatch:
                clinical.append(mismatch)
                details.append(f"{t.name}: {mismatch}")
                continue
            required_outside = self.outside(a, t)
            if required_outside is not None:
                short.append(t.dose_minutes)
                details.append(
                    f"{t.name}: meets {WEEKDAY_NAMES[required_outside.weekday]} "
                    f"{required_outside.start:%H:%M} outside availability"
                )
                continue
            inside = [g for g in self.groups_of[t.id] if self.outside(a, g) is None and not t.clashes_with(g)]
            outside = [m for g in self.groups_of[t.id] if (m := self.outside(a, g))]
            reachable = t.required_minutes + best_hours(inside, self.overlapping)
            if reachable < t.dose_minutes:
                short.append(t.dose_minutes)
                if not inside and outside and not t.required_minutes:
                    first = min(outside)
                    details.append(
                        f"{t.name}: meets {WEEKDAY_NAMES[first.weekday]} {first.start:%H:%M} outside availability"
                    )
                elif not self.groups_of[t.id] and not t.required_minutes:
                    details.append(f"{t.name}: has no open groups")
                else:
                    details.append(
                        f"{t.name}: only {_hours_label(reachable)} h of {_hours_label(t.dose_minutes)} h "
                        "within availability"
                    )
                continue
            if t.id in self.candidates[a.id] and any(
                all(self.remaining.get(g, 0) > 0 for g in combo) for combo in self.patterns(a, t.id)
            ):
                # Only possible when the solver stopped at its time limit: an optimal answer would have placed them.
                stopped = True
                details.append(f"{t.name}: has seats, but the search stopped before placing them")
                continue
            full = True
            details.append(f"{t.name}: all fitting groups are full")
        if stopped:
            summary = "the search stopped before placing them; find placements again"
        elif full:
            summary = "all fitting groups are full"
        elif short:
            doses = set(short)
            dose = _dose_label(doses.pop()) if len(doses) == 1 else "its dose"
            summary = f"no track reaches {dose} within availability"
        else:
            summary = sorted(set(clinical))[0]
        return summary, tuple(details)

    def explain_placed(self, a: Admission, t: TrackSpec, chosen: Sequence[GroupSpec]) -> str:
        minutes = t.required_minutes + sum(g.minutes for g in chosen)
        parts = [f"{t.name}: {_hours_label(minutes)} h/week within your availability"]
        if a.preferred_kind:
            if a.preferred_kind == t.kind:
                parts.append(f"preferred {t.kind}")
            else:
                parts.append(f"preferred {a.preferred_kind}, but no {a.preferred_kind} track could take them")
        wanted = {gid for gid, w in a.preferred_groups if w > 0}
        got = [g.name for g in chosen if g.id in wanted]
        if got:
            parts.append("preferred group " + ", ".join(got))
        return "; ".join(parts)

    def placement(self, a: Admission, track_id: str | None, group_ids: Iterable[str]) -> Placement:
        if track_id is None:
            reason, details = self.explain_unplaced(a)
            return Placement(a.id, None, (), 0.0, reason, details)
        chosen = sorted((self.groups[g] for g in group_ids), key=lambda g: (min(g.meetings), g.name, g.id))
        t = self.tracks[track_id]
        minutes = t.required_minutes + sum(g.minutes for g in chosen)
        return Placement(
            a.id, track_id, tuple(g.id for g in chosen), round(minutes / 60, 2), self.explain_placed(a, t, chosen)
        )


def _greedy(problem: _Problem) -> dict[str, tuple[str, list[str]]]:
    """First come, first served: each person in order takes the best track they still fit, preferred groups and
    longest groups first. The baseline the solver is measured against, and its starting hint."""
    seats = {g.id: g.free_seats for g in problem.groups.values()}
    chosen: dict[str, tuple[str, list[str]]] = {}
    for a in problem.admissions:
        options = problem.candidates[a.id]
        group_pref = dict(a.preferred_groups)
        order = sorted(options, key=lambda tid: (-problem.preference(a, problem.tracks[tid]), tid))
        for tid in order:
            t = problem.tracks[tid]
            picked: list[GroupSpec] = []
            total = t.required_minutes
            ranked = sorted(options[tid], key=lambda g: (-group_pref.get(g.id, 0), -g.minutes, g.id))
            for g in ranked:
                if total >= t.dose_minutes:
                    break
                if seats[g.id] <= 0 or any(frozenset((g.id, p.id)) in problem.overlapping for p in picked):
                    continue
                picked.append(g)
                total += g.minutes
            if total >= t.dose_minutes:
                for g in sorted(picked, key=lambda g: (g.minutes, g.id)):
                    if group_pref.get(g.id, 0) <= 0 and total - g.minutes >= t.dose_minutes:
                        picked.remove(g)
                        total -= g.minutes
                for g in picked:
                    seats[g.id] -= 1
                chosen[a.id] = (tid, [g.id for g in picked])
                break
    return chosen


def greedy_place(admissions: Sequence[Admission], tracks: Sequence[TrackSpec], groups: Sequence[GroupSpec]) -> Result:
    began = clock.perf_counter()
    problem = _Problem(admissions, tracks, groups)
    chosen = _greedy(problem)
    problem.use_seats(chosen)
    placements = [problem.placement(a, *chosen.get(a.id, (None, []))) for a in problem.admissions]
    elapsed = clock.perf_counter() - began
    placed = sum(1 for p in placements if p.placed)
    return Result("GREEDY", True, placed, len(admissions), 0.0, elapsed, elapsed, placements, len(admissions))


def place(
    admissions: Sequence[Admission],
    tracks: Sequence[TrackSpec],
    groups: Sequence[GroupSpec],
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    workers: int = DEFAULT_WORKERS,
    seed: int = 0,
    deterministic: bool | None = None,
) -> Result:
    """Place as many admissions as possible, then as they prefer. Input order is waitlist order.

    ``deterministic`` interleaves the workers' searches in fixed batches, so the same input gives the same
    placement among equally good ones whatever the machine's load (when the solver finishes within the limit).
    It searches less widely than letting the workers race, so by default (None) it is used only for models of
    up to DETERMINISTIC_MAX_CHOICES choices: a program's waiting list, which it solves to proven optimality.
    """
    # Imported here, not at module load: OR-Tools is most of a web worker's memory, and only placement needs it.
    from ortools.sat.python import cp_model

    began = clock.perf_counter()
    problem = _Problem(admissions, tracks, groups)
    model = cp_model.CpModel()
    n = len(problem.admissions)

    # One variable per (person, track, set of groups): a set-packing model, whose LP bound is far tighter than
    # choosing groups one by one under a dose constraint.
    choices: list[tuple[str, str, frozenset[str]]] = []
    variables: list[cp_model.IntVar] = []
    pref_points: list[int] = []
    seniority: list[int] = []
    by_group: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    pref_max = 0
    size_max = 0
    for index, a in enumerate(problem.admissions):
        person: list[cp_model.IntVar] = []
        group_pref = dict(a.preferred_groups)
        best_pref = 0
        best_size = 0
        for tid in problem.candidates[a.id]:
            track_pref = problem.preference(a, problem.tracks[tid])
            for combo in problem.patterns(a, tid):
                v = model.new_bool_var(f"z_{index}_{tid}_{len(person)}")
                points = track_pref + sum(max(group_pref.get(g, 0), 0) for g in combo)
                choices.append((a.id, tid, combo))
                variables.append(v)
                pref_points.append(points)
                seniority.append(n - index)
                person.append(v)
                for g in combo:
                    by_group[g].append(v)
                best_pref = max(best_pref, points)
                best_size = max(best_size, len(combo))
        if person:
            model.add_at_most_one(person)
        pref_max += best_pref
        size_max += best_size
    for gid, members in by_group.items():
        if len(members) > problem.groups[gid].free_seats:
            model.add(cp_model.LinearExpr.sum(members) <= problem.groups[gid].free_seats)

    # Weights make the tiers strict: each tier's whole range is smaller than one unit of the tier above.
    seniority_scale = size_max + 1
    pref_scale = seniority_scale * (n * (n + 1) // 2 + 1)
    place_weight = pref_scale * (pref_max + 1)
    weights = [
        place_weight + pref_scale * points + seniority_scale * rank - len(combo)
        for points, rank, (_, _, combo) in zip(pref_points, seniority, choices, strict=True)
    ]
    model.maximize(cp_model.LinearExpr.weighted_sum(variables, weights))

    hint = _greedy(problem)
    for v, (aid, tid, combo) in zip(variables, choices, strict=True):
        picked = hint.get(aid)
        model.add_hint(v, picked is not None and picked[0] == tid and frozenset(picked[1]) == combo)
    build_seconds = clock.perf_counter() - began

    solver = cp_model.CpSolver()
    # The limit covers the whole call: keep back time for explaining each result afterwards.
    reserve = 0.02 + 0.0005 * n
    solver.parameters.max_time_in_seconds = max(time_limit - build_seconds - reserve, 0.05)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    if deterministic is None:
        deterministic = len(variables) <= DETERMINISTIC_MAX_CHOICES
    solver.parameters.interleave_search = deterministic
    code = solver.solve(model)
    proto = model.proto
    model_size = len(proto.variables), len(proto.constraints)

    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        status = "OPTIMAL" if code == cp_model.OPTIMAL else "FEASIBLE"
        chosen: dict[str, tuple[str, list[str]]] = {}
        for v, (aid, tid, combo) in zip(variables, choices, strict=True):
            if solver.boolean_value(v):
                chosen[aid] = (tid, sorted(combo))
        value, bound = solver.objective_value, solver.best_objective_bound
    else:
        # No solution in time (only on huge inputs): keep the greedy answer rather than placing nobody.
        status, chosen = "GREEDY", hint
        value, bound = float("nan"), float("nan")
    problem.use_seats(chosen)
    placements = [problem.placement(a, *chosen.get(a.id, (None, []))) for a in problem.admissions]
    if status == "OPTIMAL":
        gap = 0.0
    elif status == "FEASIBLE":
        gap = (bound - value) / max(abs(value), 1.0)
    else:
        gap = float("nan")
    placeable = n if status == "GREEDY" else min(n, int(bound // place_weight)) if place_weight else 0
    return Result(
        status=status,
        deterministic=deterministic,
        objective=value,
        bound=bound,
        gap=gap,
        wall_seconds=clock.perf_counter() - began,
        build_seconds=build_seconds,
        placements=placements,
        placeable_bound=placeable,
        variables=model_size[0],
        constraints=model_size[1],
    )
