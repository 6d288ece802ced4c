"""Today's census of the user's programs, in a fixed number of queries however many programs and patients.

"Today" is the program's own date (its time zone), so a program in Honolulu and one in New York can be on
different days at the same instant. Counts only, no names: showing the census writes no audit row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.patients.models import EpisodeOfCare
from openiop.patients.queries import caseload_for
from openiop.programs.models import Program, Track

WINDOW_DAYS = 7

_Status = EpisodeOfCare.Status
_IN_CARE = (_Status.ACTIVE, _Status.ON_HOLD)


@dataclass
class TrackCensus:
    name: str
    active: int = 0
    on_hold: int = 0


@dataclass
class ProgramCensus:
    program: Program
    today: date
    active: int = 0
    on_hold: int = 0
    waitlist: int = 0
    admitted_recently: int = 0  # admitted in the last WINDOW_DAYS days, today included, whatever happened since
    discharges_due: int = 0  # in care, expected discharge today or in the next WINDOW_DAYS - 1 days
    past_expected_discharge: int = 0  # in care, expected discharge before today
    tracks: list[TrackCensus] = field(default_factory=list)

    @property
    def in_care(self) -> int:
        return self.active + self.on_hold


def _per_day(today: dict[int, date]) -> dict[date, list[int]]:
    days: dict[date, list[int]] = defaultdict(list)
    for program_id, day in today.items():
        days[day].append(program_id)
    return days


def census_for(user: User) -> list[ProgramCensus]:
    """One entry per active program the user belongs to, in program order."""
    require(user, Cap.VIEW_CENSUS)
    programs = list(
        Program.objects.filter(pk__in=program_ids_for(user), is_active=True)
        .select_related("site")
        .prefetch_related(Prefetch("tracks", queryset=Track.objects.order_by("start_time", "name")))
        .order_by("site__name", "name")
    )
    if not programs:
        return []
    today = {p.pk: p.now().date() for p in programs}
    # Programs sharing a local date share one condition, so the query grows with the number of distinct
    # dates (two or three across all time zones), not with the number of programs.
    recent = Q(pk__in=[])
    due = Q(pk__in=[])
    overdue = Q(pk__in=[])
    for day, ids in _per_day(today).items():
        recent |= Q(program_id__in=ids, admitted_on__gt=day - timedelta(days=WINDOW_DAYS), admitted_on__lte=day)
        due |= Q(
            program_id__in=ids,
            expected_discharge_on__gte=day,
            expected_discharge_on__lt=day + timedelta(days=WINDOW_DAYS),
        )
        overdue |= Q(program_id__in=ids, expected_discharge_on__lt=day)
    earliest = min(today.values()) - timedelta(days=WINDOW_DAYS)
    rows = (
        EpisodeOfCare.objects.filter(program_id__in=today)
        .filter(~Q(status=_Status.DISCHARGED) | Q(admitted_on__gt=earliest))
        .values("program_id", "track_id")
        .annotate(
            active=Count("pk", filter=Q(status=_Status.ACTIVE)),
            on_hold=Count("pk", filter=Q(status=_Status.ON_HOLD)),
            waitlist=Count("pk", filter=Q(status=_Status.WAITLIST)),
            recent=Count("pk", filter=recent),
            due=Count("pk", filter=due & Q(status__in=_IN_CARE)),
            overdue=Count("pk", filter=overdue & Q(status__in=_IN_CARE)),
        )
        .order_by()
    )
    by_program: dict[int, list[dict[str, int]]] = defaultdict(list)
    for row in rows:
        by_program[row["program_id"]].append(row)

    result = []
    for program in programs:
        entry = ProgramCensus(program=program, today=today[program.pk])
        per_track: dict[int | None, dict[str, int]] = {}
        for row in by_program[program.pk]:
            entry.active += row["active"]
            entry.on_hold += row["on_hold"]
            entry.waitlist += row["waitlist"]
            entry.admitted_recently += row["recent"]
            entry.discharges_due += row["due"]
            entry.past_expected_discharge += row["overdue"]
            per_track[row["track_id"]] = row
        for track in program.tracks.all():
            counts = per_track.get(track.pk, {"active": 0, "on_hold": 0})
            # An inactive track is only listed while patients are still on it.
            if track.is_active or counts["active"] + counts["on_hold"]:
                entry.tracks.append(TrackCensus(track.name, counts["active"], counts["on_hold"]))
        unassigned = per_track.get(None)
        if unassigned and unassigned["active"] + unassigned["on_hold"]:
            entry.tracks.append(TrackCensus("No track yet", unassigned["active"], unassigned["on_hold"]))
        result.append(entry)
    return result


@dataclass
class CaseloadRow:
    """One open episode on the home page's caseload, with its week of care counted in the program's time zone."""

    episode: EpisodeOfCare
    today: date

    @property
    def week(self) -> int | None:
        """Week of care (the admission day starts week 1); None before admission."""
        admitted = self.episode.admitted_on
        if admitted is None or admitted > self.today:
            return None
        return (self.today - admitted).days // 7 + 1

    @property
    def discharge_due_soon(self) -> bool:
        expected = self.episode.expected_discharge_on
        return expected is not None and self.today <= expected < self.today + timedelta(days=WINDOW_DAYS)

    @property
    def past_expected_discharge(self) -> bool:
        expected = self.episode.expected_discharge_on
        return expected is not None and expected < self.today and self.episode.status in _IN_CARE


def caseload_rows(episodes: list[EpisodeOfCare]) -> list[CaseloadRow]:
    """Episodes must come with their program (select_related): "today" is read from it without a query."""
    today: dict[int, date] = {}
    rows = []
    for episode in episodes:
        if episode.program_id not in today:
            today[episode.program_id] = episode.program.now().date()
        rows.append(CaseloadRow(episode, today[episode.program_id]))
    return rows


# --- Home panels (registered in patients/apps.py) ------------------------------------------------------------------


def census_panel(request: HttpRequest) -> dict[str, Any]:
    return {"census": census_for(request.user)}  # type: ignore[arg-type]


def caseload_panel(request: HttpRequest) -> dict[str, Any] | None:
    user: User = request.user  # type: ignore[assignment]
    caseload = caseload_rows(list(caseload_for(user)))
    if caseload:
        # The caseload names patients: one audit row per page view (never the names themselves).
        audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="caseload")
    elif not user.can(Cap.EDIT_CLINICAL):
        return None  # nothing to list, and the user could not be on a care team
    return {"caseload": caseload, "show_caseload": True}
