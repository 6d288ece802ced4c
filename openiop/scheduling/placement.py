"""Placement for one program: the people waiting for a track, their availability, the optimizer's input built
from the program's tracks and groups, and applying chosen placements through enrollment.

The optimizer itself (``optimizer.py``) knows nothing of the database; this module is the bridge.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program, Track
from openiop.scheduling import optimizer
from openiop.scheduling.actions.enrollment import do_enroll, group_with_a_seat
from openiop.scheduling.models import Enrollment, Group, PlacementRequest, SessionSeries

if TYPE_CHECKING:
    from openiop.accounts.models import User

RRULE_DAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
ADOLESCENT_UNTIL_AGE = 18


def waiting_episodes(program: Program) -> QuerySet[EpisodeOfCare]:
    """Waitlisted or active episodes with no current enrollment, in waitlist order (who came first)."""
    enrolled = Enrollment.objects.filter(episode=OuterRef("pk"), ends_on__isnull=True)
    return (
        EpisodeOfCare.objects.filter(
            program=program, status__in=[EpisodeOfCare.Status.WAITLIST, EpisodeOfCare.Status.ACTIVE]
        )
        .exclude(Exists(enrolled))
        .select_related("patient", "placement_request")
        .order_by("waitlisted_on", "admitted_on", "created_at", "pk")
    )


def windows_of(request: PlacementRequest | None) -> list[tuple[int, time, time]]:
    if request is None:
        return []
    return [(int(d), time.fromisoformat(s), time.fromisoformat(e)) for d, s, e in request.availability]


def request_for(episode: EpisodeOfCare) -> PlacementRequest | None:
    try:
        return episode.placement_request
    except PlacementRequest.DoesNotExist:
        return None


@transaction.atomic
def do_save_placement_request(
    episode: EpisodeOfCare,
    *,
    acting_user: User | None,
    availability: Iterable[tuple[int, time, time]],
    preferred_kind: str = "",
) -> PlacementRequest:
    """Store when the person can attend; windows on one day must not overlap (an overlap is a typing slip)."""
    windows = sorted(availability)
    errors: dict[str, str] = {}
    for day, start, end in windows:
        if not 0 <= day <= 6:
            errors["availability"] = "Weekdays run from 0 (Monday) to 6 (Sunday)."
        elif end <= start:
            errors[f"day_{day}"] = "The window must end after it starts."
    for (d1, _s1, e1), (d2, s2, _e2) in itertools.pairwise(windows):
        if d1 == d2 and s2 < e1:
            errors[f"day_{d1}"] = "Windows on the same day overlap."
    if preferred_kind and preferred_kind not in Track.Kind.values:
        errors["preferred_kind"] = "Pick a track kind from the list."
    if errors:
        raise ValidationError(errors)
    stored = [[d, f"{s:%H:%M}", f"{e:%H:%M}"] for d, s, e in windows]
    request, created = PlacementRequest.objects.select_for_update().get_or_create(
        episode=episode, defaults={"availability": stored, "preferred_kind": preferred_kind}
    )
    changed = ["availability", "preferred_kind"]
    if not created:
        changed = [
            name
            for name, value in (("availability", stored), ("preferred_kind", preferred_kind))
            if getattr(request, name) != value
        ]
        if not changed:
            return request
        request.availability = stored
        request.preferred_kind = preferred_kind
        request.save(update_fields=[*changed, "updated_at"])
    audit.record(
        action=AuditAction.CREATED if created else AuditAction.UPDATED,
        acting_user=acting_user,
        patient=episode.patient,
        obj=request,
        changed_fields=changed,
    )
    return request


def weekly_blocks(series: SessionSeries) -> list[optimizer.Block]:
    """The week days and times of a weekly series (the BYDAY list, or the first day when it has none)."""
    parts = dict(part.split("=", 1) for part in series.rrule.upper().split(";") if "=" in part)
    if parts.get("FREQ") == "DAILY":
        days = list(range(7))
    elif parts.get("FREQ") == "WEEKLY":
        byday = [code[-2:] for code in parts.get("BYDAY", "").split(",") if code]
        days = [RRULE_DAYS[c] for c in byday if c in RRULE_DAYS] or [series.starts_on.weekday()]
    else:
        return []  # monthly and rarer rhythms add nothing to a typical week
    start = datetime.combine(date(2000, 1, 3), series.start_time)
    end = start + timedelta(minutes=series.duration_minutes)
    if end.date() != start.date():
        end = datetime.combine(start.date(), time(23, 59))
    return [optimizer.Block(d, start.time(), end.time()) for d in sorted(set(days))]


def groups_for_admission(episode: EpisodeOfCare, track: Track) -> tuple[list[Group], bool]:
    """The group to admit ``episode`` to in ``track`` (see ``enrollment.group_with_a_seat``). When the person has a
    placement request with availability, the optimizer's hard rule applies: a group whose weekly meetings all fall
    within those hours comes first; otherwise (or without a request) the group with the most free seats."""
    windows = optimizer.merge_windows(optimizer.Block(d, s, e) for d, s, e in windows_of(request_for(episode)))
    fitting: set[int] = set()
    if windows:
        blocks: dict[int, list[optimizer.Block]] = defaultdict(list)
        for series in SessionSeries.objects.filter(group__track=track, is_active=True):
            blocks[series.group_id].extend(weekly_blocks(series))  # type: ignore[index]
        for group_id, meetings in blocks.items():
            spec = optimizer.GroupSpec(id=str(group_id), track_id="", name="", meetings=tuple(meetings), free_seats=0)
            if optimizer.first_meeting_outside(spec, windows) is None:
                fitting.add(group_id)
    return group_with_a_seat(track, prefer=fitting)


def person_population(episode: EpisodeOfCare, today: date) -> str:
    return optimizer.ADOLESCENT if episode.patient.age_on(today) < ADOLESCENT_UNTIL_AGE else optimizer.ADULT


@dataclass
class PlacementRun:
    program: Program
    result: optimizer.Result
    episodes: list[EpisodeOfCare]
    tracks: dict[str, Track]
    groups: dict[str, Group]
    requests: dict[str, PlacementRequest | None] = field(default_factory=dict)

    def rows(self) -> list[dict]:
        out = []
        for episode in self.episodes:
            p = self.result.by_id[str(episode.public_id)]
            out.append({
                "episode": episode,
                "placement": p,
                "track": self.tracks.get(p.track_id or ""),
                "groups": [self.groups[g] for g in p.group_ids],
                "has_availability": bool(self.requests.get(str(episode.public_id))),
                "can_enroll": p.placed and episode.status == EpisodeOfCare.Status.ACTIVE,
            })  # fmt: skip
        return out


def build_input(
    program: Program, episodes: Sequence[EpisodeOfCare], today: date
) -> tuple[list[optimizer.Admission], list[optimizer.TrackSpec], list[optimizer.GroupSpec], dict, dict]:
    """Optimizer input for the program: free seats are a group's capacity minus its current members."""
    tracks = list(program.tracks.filter(is_active=True))
    groups = list(
        Group.objects.filter(track__in=tracks, is_active=True, is_open=True)
        .annotate(members=Count("enrollments", filter=Q(enrollments__ends_on__isnull=True), distinct=True))
        .order_by("track_id", "name")
    )
    series = SessionSeries.objects.filter(program=program, is_active=True, track__in=tracks).filter(
        Q(until__isnull=True) | Q(until__gte=today)
    )
    track_blocks: dict[int, list[optimizer.Block]] = defaultdict(list)
    group_blocks: dict[int, list[optimizer.Block]] = defaultdict(list)
    for s in series:
        if s.group_id is not None:
            group_blocks[s.group_id].extend(weekly_blocks(s))
        elif s.track_id is not None:
            track_blocks[s.track_id].extend(weekly_blocks(s))
    track_specs = [
        optimizer.TrackSpec(
            id=str(t.public_id),
            name=t.name if t.name.lower().endswith("track") else f"{t.name} track",
            kind=t.kind,
            population=program.population,
            focus=program.focus,
            dose_hours=program.weekly_dose_hours,
            required_meetings=tuple(sorted(track_blocks[t.pk])),
        )
        for t in tracks
    ]
    track_ids = {t.pk: str(t.public_id) for t in tracks}
    group_specs = [
        optimizer.GroupSpec(
            id=str(g.public_id),
            track_id=track_ids[g.track_id],
            name=g.name,
            meetings=tuple(sorted(group_blocks[g.pk])),
            free_seats=max(g.capacity - g.members, 0),
        )
        for g in groups
    ]
    admissions = []
    for e in episodes:
        request = request_for(e)
        admissions.append(
            optimizer.Admission(
                id=str(e.public_id),
                population=person_population(e, today),
                focus=program.focus,
                availability=tuple(optimizer.Block(d, s, t) for d, s, t in windows_of(request)),
                preferred_kind=request.preferred_kind if request else "",
            )
        )
    return (
        admissions,
        track_specs,
        group_specs,
        {str(t.public_id): t for t in tracks},
        {str(g.public_id): g for g in groups},
    )


def run_placement(program: Program, *, time_limit: float = optimizer.DEFAULT_TIME_LIMIT) -> PlacementRun:
    today = program.now().date()
    episodes = list(waiting_episodes(program))
    admissions, track_specs, group_specs, tracks, groups = build_input(program, episodes, today)
    result = optimizer.place(admissions, track_specs, group_specs, time_limit=time_limit)
    requests = {str(e.public_id): request_for(e) for e in episodes}
    return PlacementRun(program, result, episodes, tracks, groups, requests)


@dataclass
class Applied:
    episode: EpisodeOfCare
    track: Track | None = None
    groups: list[Group] = field(default_factory=list)
    booked: int = 0
    waitlisted: int = 0
    error: str = ""


@dataclass(frozen=True)
class Choice:
    """One proposed placement as staff saw and ticked it: public ids of the episode, track and groups."""

    episode_id: str
    track_id: str
    group_ids: tuple[str, ...] = ()


def do_apply_placements(
    program: Program, *, acting_user: User, choices: Iterable[Choice], starts_on: date
) -> list[Applied]:
    """Enroll each ticked person in the track and groups shown to staff (not a fresh run, which could differ
    if seats changed meanwhile: enrollment re-checks the track and groups, and full sessions go to a waitlist).

    Each enrollment is its own transaction (do_enroll), so one refusal (e.g. the person was enrolled elsewhere
    meanwhile) does not undo the others; the refusal is reported for that person.
    """
    choices = list(choices)
    episodes = {str(e.public_id): e for e in waiting_episodes(program).filter(
        public_id__in=[c.episode_id for c in choices])}  # fmt: skip
    tracks = {str(t.public_id): t for t in program.tracks.filter(public_id__in=[c.track_id for c in choices])}
    wanted_groups = [g for c in choices for g in c.group_ids]
    groups = {str(g.public_id): g for g in Group.objects.filter(track__program=program, public_id__in=wanted_groups)}
    applied: list[Applied] = []
    for choice in choices:
        episode = episodes.get(choice.episode_id)
        if episode is None:
            continue  # no longer waiting (enrolled or discharged meanwhile), or never in this program
        outcome = Applied(
            episode=episode,
            track=tracks.get(choice.track_id),
            groups=[groups[g] for g in choice.group_ids if g in groups],
        )
        applied.append(outcome)
        if outcome.track is None or len(outcome.groups) != len(choice.group_ids):
            outcome.error = "The proposed track or groups no longer exist; find placements again."
            continue
        if episode.status != EpisodeOfCare.Status.ACTIVE:
            outcome.error = "Admit the episode before enrolling it."
            continue
        try:
            result = do_enroll(
                episode,
                acting_user=acting_user,
                track=outcome.track,
                groups=outcome.groups,
                starts_on=max(starts_on, episode.admitted_on or starts_on),
            )
        except ValidationError as exc:
            outcome.error = " ".join(exc.messages)
        else:
            outcome.booked = len(result.booked)
            outcome.waitlisted = len(result.waitlisted)
    return applied
