"""The dose engine: clinical hours per patient-week against the weekly minimum, computed live (nothing stored).

A week is seven program-local calendar days from the policy's ``week_starts_on``; sessions are bucketed by their
local start date, never by adding 168 hours, so a daylight-saving week (167 or 169 hours) still holds exactly its
seven days. All sums are in *credited* minutes (``credited_minutes``: the policy's clinical-hour rounding).

Per patient-week (``evaluate_week``):
- scheduled: every counting slot of the week (see ``Slot``);
- attended: what the attendance records credit so far;
- remaining: slots whose session has not ended and that have no record yet;
- reachable: attended + remaining >= minimum;
- at risk (open weeks only): not reachable, or reachable only if every remaining session is attended in full,
  i.e. attended + remaining - smallest remaining slot < minimum, *once something has been lost* (lost = scheduled -
  attended - remaining: a miss, a late arrival, a session over and not yet recorded). A week that needs every
  session only because its schedule has no margin (a 3 x 3 h track against a 9 h minimum) and where nothing has
  been lost yet is "tight", not at risk: otherwise every patient on a standard track would be flagged on Monday.

The first and last week of an episode get a prorated minimum (``prorated_minimum``): the full minimum times the
track's meeting days inside the episode over the track's meeting days in the week (calendar days without a track).

The top half of this module is pure (plain values in, plain values out) so the hand-worked tests need no database;
the bottom half loads what it needs for many episodes in a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.db.models import Q

from openiop.attendance.models import AttendancePolicy, AttendanceRecord
from openiop.attendance.policy import default_policy
from openiop.core.registry import Provider
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program
from openiop.scheduling.models import Booking, Session

DAYS_PER_WEEK = 7
MINUTES_PER_HOUR = 60


# --- Pure: clinical hours, weeks, proration ----------------------------------------------------------------------


def credited_minutes(minutes: int, clinical_hour_minutes: int) -> int:
    """Clinical-hour rounding: each whole hour counts, and a last part of at least ``clinical_hour_minutes``
    counts as a full hour (with 50, a 55-minute group is 1 h; with 60 this is clock time)."""
    if minutes <= 0:
        return 0
    whole, part = divmod(minutes, MINUTES_PER_HOUR)
    return MINUTES_PER_HOUR * whole + (MINUTES_PER_HOUR if part >= clinical_hour_minutes else part)


def week_start_for(day: date, week_starts_on: int) -> date:
    """The first day of the dose week holding ``day`` (``week_starts_on``: Monday = 0 ... Sunday = 6)."""
    return day - timedelta(days=(day.weekday() - week_starts_on) % DAYS_PER_WEEK)


def week_bounds(start: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight of ``start`` and of seven days later, in UTC: 167 or 168 or 169 hours apart."""
    begin = datetime.combine(start, time.min, tzinfo=tz)
    end = datetime.combine(start + timedelta(days=DAYS_PER_WEEK), time.min, tzinfo=tz)
    # Converted at once: Python compares two datetimes sharing one tzinfo by wall clock, which is wrong across DST.
    return begin.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True)
class Proration:
    minimum: int  # credited minutes due this week
    due_days: int  # meeting days inside the episode this week
    week_days: int  # meeting days in the whole week

    @property
    def is_partial(self) -> bool:
        return self.due_days < self.week_days


def prorated_minimum(
    full_minimum: int,
    week_start: date,
    *,
    first_day: date | None,
    last_day: date | None,
    meeting_days: Iterable[int] = (),
    off_days: Collection[date] = (),
) -> Proration:
    """The minimum for a week the episode covers only in part (admission or discharge inside it, or a hold).

    full minimum x (meeting days from ``first_day`` to ``last_day`` in the week, less the ``off_days`` on hold) /
    (meeting days in the week), rounded half up to a minute. Meeting days are the track's weekdays; none given means
    every calendar day. A week wholly on hold owes nothing (``DoseStatus.NOT_DUE``).
    """
    weekdays = set(meeting_days) or set(range(DAYS_PER_WEEK))
    days = [week_start + timedelta(days=i) for i in range(DAYS_PER_WEEK)]
    meeting = [d for d in days if d.weekday() in weekdays]
    due = [
        d
        for d in meeting
        if (first_day is None or d >= first_day) and (last_day is None or d <= last_day) and d not in off_days
    ]
    if len(due) == len(meeting):
        return Proration(full_minimum, len(due), len(meeting))
    share = (Decimal(full_minimum) * len(due) / len(meeting)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Proration(int(share), len(due), len(meeting))


def minutes_from_hours(hours: Decimal | int | float) -> int:
    return int((Decimal(str(hours)) * MINUTES_PER_HOUR).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def hours_label(minutes: int) -> str:
    """Minutes as hours for people: 540 -> "9", 525 -> "8.75", 45 -> "0.75"."""
    value = (Decimal(minutes) / MINUTES_PER_HOUR).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value.normalize():f}"


# --- Pure: one patient-week ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One counting session for one person in a week: a booked seat, or a walk-in the records show attended.

    ``scheduled`` and ``attended`` are credited minutes; ``attended`` is None while there is no record.
    ``session`` and ``record`` ride along for display only; the engine never reads them.
    """

    session_id: int
    starts_at: datetime
    ends_at: datetime
    local_day: date
    scheduled: int
    attended: int | None = None
    status: str = ""  # the record's status, "" without one
    session: Any = field(default=None, compare=False, repr=False)
    record: Any = field(default=None, compare=False, repr=False)

    @property
    def recorded(self) -> bool:
        return self.attended is not None

    def is_remaining(self, now: datetime) -> bool:
        return not self.recorded and self.ends_at > now


class DoseStatus(StrEnum):
    NOT_DUE = "not_due"  # prorated to nothing (joined after the track's last meeting day)
    MET = "met"  # attended reaches the minimum (open or closed week)
    MISSED = "missed"  # closed week below the minimum
    UNREACHABLE = "unreachable"  # open week: even attending everything left cannot reach it
    AT_RISK = "at_risk"  # open week: something lost, and now every remaining session is needed in full
    TIGHT = "tight"  # open week: nothing lost, but the schedule has no margin (every session is needed)
    ON_TRACK = "on_track"  # open week: reachable with at least one session to spare


STATUS_LABELS = {
    DoseStatus.NOT_DUE: "No dose due",
    DoseStatus.MET: "Minimum met",
    DoseStatus.MISSED: "Minimum missed",
    DoseStatus.UNREACHABLE: "At risk: minimum out of reach",
    DoseStatus.AT_RISK: "At risk: needs every remaining session",
    DoseStatus.TIGHT: "On plan, no margin",
    DoseStatus.ON_TRACK: "On track",
}


class DayState(StrEnum):
    OUTSIDE = "outside"  # before admission or after discharge
    NONE = "none"  # nothing scheduled
    UPCOMING = "upcoming"  # scheduled, not yet over
    UNRECORDED = "unrecorded"  # over, no record yet
    ATTENDED = "attended"  # every recorded minute attended
    PARTIAL = "partial"  # some attended, some missed or cut short
    MISSED = "missed"  # recorded and nothing attended


@dataclass(frozen=True)
class DayCell:
    day: date
    state: DayState
    scheduled: int
    attended: int


def _day_state(slots: Sequence[Slot], now: datetime) -> DayState:
    recorded = [s for s in slots if s.recorded]
    if not recorded:
        return DayState.UPCOMING if any(s.ends_at > now for s in slots) else DayState.UNRECORDED
    attended = sum(s.attended or 0 for s in recorded)
    if attended == 0:
        return DayState.MISSED
    full = attended >= sum(s.scheduled for s in recorded) and len(recorded) == len(slots)
    return DayState.ATTENDED if full else DayState.PARTIAL


@dataclass(frozen=True)
class WeekDose:
    start: date
    ends_at: datetime  # local midnight after the last day, in UTC
    full_minimum: int
    proration: Proration
    slots: tuple[Slot, ...]
    now: datetime
    first_day: date | None = None
    last_day: date | None = None
    minimum_source: str = ""  # the payer rule's name when it set the minimum, "" for the program's own

    @property
    def minimum(self) -> int:
        return self.proration.minimum

    @property
    def end(self) -> date:
        return self.start + timedelta(days=DAYS_PER_WEEK - 1)

    @property
    def closed(self) -> bool:
        return self.now >= self.ends_at

    @property
    def scheduled(self) -> int:
        return sum(s.scheduled for s in self.slots)

    @property
    def attended(self) -> int:
        return sum(s.attended or 0 for s in self.slots)

    @property
    def remaining_slots(self) -> list[Slot]:
        return [s for s in self.slots if s.is_remaining(self.now)]

    @property
    def remaining(self) -> int:
        return sum(s.scheduled for s in self.remaining_slots)

    @property
    def unrecorded(self) -> int:
        """Ended without a record: neither attended nor remaining until someone records it."""
        return sum(s.scheduled for s in self.slots if not s.recorded and s.ends_at <= self.now)

    @property
    def smallest_remaining(self) -> int:
        return min((s.scheduled for s in self.remaining_slots), default=0)

    @property
    def lost(self) -> int:
        """Scheduled minutes already gone: missed, cut short, or over without a record."""
        return self.scheduled - self.attended - self.remaining

    @property
    def reachable(self) -> bool:
        return self.attended + self.remaining >= self.minimum

    @property
    def shortfall(self) -> int:
        """Credited minutes missing even if everything left is attended (0 when reachable)."""
        return max(self.minimum - self.attended - self.remaining, 0)

    @property
    def status(self) -> DoseStatus:
        if self.minimum == 0:
            return DoseStatus.NOT_DUE
        if self.attended >= self.minimum:
            return DoseStatus.MET
        if self.closed:
            return DoseStatus.MISSED
        if not self.reachable:
            return DoseStatus.UNREACHABLE
        if self.attended + self.remaining - self.smallest_remaining < self.minimum:
            return DoseStatus.AT_RISK if self.lost > 0 else DoseStatus.TIGHT
        return DoseStatus.ON_TRACK

    @property
    def at_risk(self) -> bool:
        return self.status in (DoseStatus.UNREACHABLE, DoseStatus.AT_RISK)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def is_due(self) -> bool:
        return self.minimum > 0

    @property
    def met(self) -> bool:
        return self.is_due and self.attended >= self.minimum

    def days(self) -> list[DayCell]:
        by_day: dict[date, list[Slot]] = defaultdict(list)
        for slot in self.slots:
            by_day[slot.local_day].append(slot)
        cells = []
        for i in range(DAYS_PER_WEEK):
            day = self.start + timedelta(days=i)
            slots = by_day.get(day, [])
            outside = (self.first_day is not None and day < self.first_day) or (
                self.last_day is not None and day > self.last_day
            )
            state = _day_state(slots, self.now) if slots else (DayState.OUTSIDE if outside else DayState.NONE)
            cells.append(
                DayCell(
                    day=day,
                    state=state,
                    scheduled=sum(s.scheduled for s in slots),
                    attended=sum(s.attended or 0 for s in slots),
                )
            )
        return cells

    # Hours for templates.
    @property
    def minimum_hours(self) -> str:
        return hours_label(self.minimum)

    @property
    def full_minimum_hours(self) -> str:
        return hours_label(self.full_minimum)

    @property
    def scheduled_hours(self) -> str:
        return hours_label(self.scheduled)

    @property
    def attended_hours(self) -> str:
        return hours_label(self.attended)

    @property
    def remaining_hours(self) -> str:
        return hours_label(self.remaining)

    @property
    def unrecorded_hours(self) -> str:
        return hours_label(self.unrecorded)

    @property
    def lost_hours(self) -> str:
        return hours_label(self.lost)

    @property
    def shortfall_hours(self) -> str:
        return hours_label(self.shortfall)


def evaluate_week(
    slots: Iterable[Slot],
    *,
    start: date,
    tz: ZoneInfo,
    full_minimum: int,
    now: datetime,
    first_day: date | None = None,
    last_day: date | None = None,
    meeting_days: Iterable[int] = (),
    minimum_source: str = "",
    off_days: Collection[date] = (),
) -> WeekDose:
    """One patient-week from its slots (those outside the week's local days are ignored)."""
    end = start + timedelta(days=DAYS_PER_WEEK)
    inside = tuple(sorted((s for s in slots if start <= s.local_day < end), key=lambda s: (s.starts_at, s.session_id)))
    return WeekDose(
        start=start,
        ends_at=week_bounds(start, tz)[1],
        full_minimum=full_minimum,
        proration=prorated_minimum(
            full_minimum, start, first_day=first_day, last_day=last_day, meeting_days=meeting_days, off_days=off_days
        ),
        slots=inside,
        now=now.astimezone(UTC),
        first_day=first_day,
        last_day=last_day,
        minimum_source=minimum_source,
    )


def make_slot(
    session_id: int,
    starts_at: datetime,
    ends_at: datetime,
    *,
    tz: ZoneInfo,
    clinical_hour_minutes: int,
    record_status: str = "",
    minutes_attended: int = 0,
    session: Any = None,
    record: Any = None,
) -> Slot:
    """A slot from raw times and an optional record: absences credit 0, attendance its rounded minutes."""
    # In UTC: two datetimes sharing a zone subtract and compare by wall clock, which is wrong across DST.
    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    scheduled = credited_minutes(int((ends_at - starts_at).total_seconds() // 60), clinical_hour_minutes)
    attended: int | None = None
    if record_status in AttendanceRecord.ATTENDED:
        attended = min(credited_minutes(minutes_attended, clinical_hour_minutes), scheduled)
    elif record_status in AttendanceRecord.MISSED:
        attended = 0
    return Slot(
        session_id=session_id,
        starts_at=starts_at,
        ends_at=ends_at,
        local_day=starts_at.astimezone(tz).date(),
        scheduled=scheduled,
        attended=attended,
        status=record_status,
        session=session,
        record=record,
    )


def episode_last_day(episode: EpisodeOfCare, week_start: date) -> date | None:
    """The last day the episode owes a dose in the week starting ``week_start``: its discharge date, or its
    expected discharge while open, when that falls in or before the week; an overdue expected discharge does
    not shorten later weeks (the person is still in care)."""
    if episode.discharged_on is not None:
        return episode.discharged_on
    expected = episode.expected_discharge_on
    if expected is not None and week_start <= expected < week_start + timedelta(days=DAYS_PER_WEEK):
        return expected
    return None


def episode_week_starts(
    episode: EpisodeOfCare, slots: Sequence[Slot], *, today: date, week_starts_on: int
) -> list[date]:
    """The episode's weeks, oldest first: from the admission week (or an earlier week that has sessions) to the
    discharge week, or to the current week while the episode is open."""
    if episode.admitted_on is None and not slots:
        return []
    starts = [d for d in (episode.admitted_on, min((s.local_day for s in slots), default=None)) if d is not None]
    first = week_start_for(min(starts), week_starts_on)
    last_day = episode.discharged_on or max(today, episode.admitted_on or today)
    last = week_start_for(last_day, week_starts_on)
    weeks = []
    week = first
    while week <= last:
        weeks.append(week)
        week += timedelta(days=DAYS_PER_WEEK)
    return weeks


# --- Database: many episodes in a fixed number of queries -------------------------------------------------------


def policies_for(programs: Iterable[Program]) -> dict[int, AttendancePolicy]:
    """Each program's policy (its row, else the defaults), in one query."""
    programs = list({p.pk: p for p in programs}.values())
    rows = {p.program_id: p for p in AttendancePolicy.objects.filter(program__in=[p.pk for p in programs])}
    return {p.pk: rows.get(p.pk) or default_policy(p) for p in programs}


class WeeklyMinimums(Protocol):
    """The weekly minimum of many episodes, loaded up front so a report asks no query per episode."""

    def hours(self, episode: EpisodeOfCare, day: date) -> Decimal: ...

    def with_source(self, episode: EpisodeOfCare, day: date) -> tuple[Decimal, str]:
        """The minimum and where it came from: a payer rule's name, or "" for the program's own."""
        ...


class ProgramMinimums:
    """The weekly minimum of the episode's level of care that day (``EpisodeOfCare.dose_hours_on``: the program's,
    or the earlier program's before a step down or up): the fallback until billing provides its payer rules
    (billing/apps.py)."""

    def __init__(self, episodes: Sequence[EpisodeOfCare]) -> None:
        pass

    def hours(self, episode: EpisodeOfCare, day: date) -> Decimal:
        return self.with_source(episode, day)[0]

    def with_source(self, episode: EpisodeOfCare, day: date) -> tuple[Decimal, str]:
        # The level of care in force that day: weeks before a step down or up keep the old level's minimum.
        return episode.dose_hours_on(day), ""


# Payers may set their own weekly minimum; billing (above attendance) owns the payer rules and provides them here.
minimums_source: Provider[Callable[[Sequence[EpisodeOfCare]], WeeklyMinimums]] = Provider(
    "The weekly dose minimums", ProgramMinimums
)


def load_slots(
    episodes: Sequence[EpisodeOfCare],
    policies: dict[int, AttendancePolicy],
    *,
    starts_after: datetime,
    starts_before: datetime,
) -> dict[int, list[Slot]]:
    """Every counting slot of the episodes whose session starts in [starts_after, starts_before): two queries.

    Counting: a scheduled session whose type counts toward the dose, booked (not cancelled) by the episode, or
    not booked but with an attended record (a walk-in). A record cancelled by the program counts as nothing.
    """
    by_id = {e.pk: e for e in episodes}
    if not by_id:
        return {}
    counting = Q(
        session__status=Session.Status.SCHEDULED,
        session__session_type__counts_toward_dose=True,
        session__starts_at__gte=starts_after,
        session__starts_at__lt=starts_before,
        episode_id__in=list(by_id),
    )
    bookings = list(
        Booking.objects.filter(counting, status=Booking.Status.BOOKED).select_related(
            "session__session_type", "session__track"
        )
    )
    records = {
        (r.episode_id, r.session_id): r
        for r in AttendanceRecord.objects.filter(counting).select_related("session__session_type", "session__track")
    }
    slots: dict[int, list[Slot]] = defaultdict(list)

    def add(episode_id: int, session: Session, record: AttendanceRecord | None) -> None:
        episode = by_id[episode_id]
        status = record.status if record is not None else ""
        if status == AttendanceRecord.Status.CANCELLED:
            return
        slots[episode_id].append(
            make_slot(
                session.pk,
                session.starts_at,
                session.ends_at,
                tz=episode.program.tz(),
                clinical_hour_minutes=policies[episode.program_id].clinical_hour_minutes,
                record_status=status,
                minutes_attended=record.minutes_attended if record is not None else 0,
                session=session,
                record=record,
            )
        )

    booked = set()
    for b in bookings:
        booked.add((b.episode_id, b.session_id))
        add(b.episode_id, b.session, records.get((b.episode_id, b.session_id)))
    for key, record in records.items():
        if key not in booked and record.status in AttendanceRecord.ATTENDED:
            add(record.episode_id, record.session, record)
    return slots


def _week_dose(
    episode: EpisodeOfCare,
    start: date,
    slots: Sequence[Slot],
    minimums: WeeklyMinimums,
    *,
    now: datetime,
) -> WeekDose:
    first_day = episode.admitted_on if episode.admitted_on and episode.admitted_on >= start else None
    last_day = episode_last_day(episode, start)
    minimum_day = max(start, episode.admitted_on) if episode.admitted_on else start
    track = episode.track
    # The week a level of care changes owes the lower minimum of its first and last day
    # (docs/clinical-rules.md#level-of-care): never hours the schedule did not offer that week.
    week_end = last_day if last_day is not None else start + timedelta(days=DAYS_PER_WEEK - 1)
    hours, source = min(
        minimums.with_source(episode, minimum_day),
        minimums.with_source(episode, max(week_end, minimum_day)),
        key=lambda found: found[0],
    )
    return evaluate_week(
        slots,
        start=start,
        tz=episode.program.tz(),
        full_minimum=minutes_from_hours(hours),
        now=now,
        first_day=first_day,
        last_day=last_day,
        meeting_days=(track.weekdays or []) if track is not None else (),
        minimum_source=source,
        off_days=hold_days(episode, start),
    )


def hold_days(episode: EpisodeOfCare, week_start: date) -> frozenset[date]:
    """The days of the week starting ``week_start`` the episode spent on hold (``EpisodeOfCare.holds``)."""
    if not episode.holds:
        return frozenset()
    days = (week_start + timedelta(days=i) for i in range(DAYS_PER_WEEK))
    return frozenset(d for d in days if episode.on_hold_on(d))


@dataclass
class EpisodeDose:
    episode: EpisodeOfCare
    weeks: list[WeekDose]  # oldest first
    today: date

    @property
    def current(self) -> WeekDose | None:
        return next((w for w in self.weeks if w.start <= self.today <= w.end), None)

    @property
    def weeks_due(self) -> list[WeekDose]:
        return [w for w in self.weeks if w.is_due and w.closed]

    @property
    def weeks_met(self) -> list[WeekDose]:
        return [w for w in self.weeks_due if w.met]


def _episodes_with_related(episodes: Iterable[EpisodeOfCare]) -> list[EpisodeOfCare]:
    """The engine reads episode.program.site and episode.track; load them once for every episode."""
    episodes = list(episodes)
    missing = [e.pk for e in episodes if not _has_related(e)]
    if missing:
        loaded = EpisodeOfCare.objects.select_related("program__site", "track", "patient").in_bulk(missing)
        episodes = [loaded.get(e.pk, e) for e in episodes]
    return episodes


def _has_related(episode: EpisodeOfCare) -> bool:
    state = episode._state.fields_cache
    if "program" not in state or "track" not in state:
        return False
    return "site" in episode.program._state.fields_cache


def episode_doses(
    episodes: Iterable[EpisodeOfCare],
    *,
    now: datetime,
    between: tuple[date, date] | None = None,
) -> list[EpisodeDose]:
    """Every week of each episode (the chart), or only the weeks overlapping ``between`` (the report): policies,
    coverages, payer rules, bookings and records, five queries however many episodes."""
    episodes = [e for e in _episodes_with_related(episodes) if e.admitted_on is not None]
    if not episodes:
        return []
    policies = policies_for(e.program for e in episodes)
    minimums = minimums_source.get()(episodes)
    if between is None:
        earliest = min(e.admitted_on for e in episodes if e.admitted_on)
        latest = max(e.discharged_on or now.date() for e in episodes)
    else:
        earliest, latest = between
    # Padded a week and more each side in UTC terms; bucketing by local day decides what belongs where.
    earliest -= timedelta(days=DAYS_PER_WEEK)
    latest += timedelta(days=2 * DAYS_PER_WEEK)
    slots = load_slots(
        episodes,
        policies,
        starts_after=datetime.combine(earliest, time.min, tzinfo=UTC),
        starts_before=datetime.combine(latest, time.min, tzinfo=UTC),
    )
    result = []
    for episode in episodes:
        tz = episode.program.tz()
        today = now.astimezone(tz).date()
        week_starts_on = policies[episode.program_id].week_starts_on
        own = slots.get(episode.pk, [])
        starts = episode_week_starts(episode, own, today=today, week_starts_on=week_starts_on)
        if between is not None:
            first = week_start_for(between[0], week_starts_on)
            starts = [w for w in starts if first <= w <= between[1]]
        weeks = [_week_dose(episode, start, own, minimums, now=now) for start in starts]
        result.append(EpisodeDose(episode=episode, weeks=weeks, today=today))
    return result


@dataclass(frozen=True)
class CurrentDose:
    episode: EpisodeOfCare
    week: WeekDose


def current_week_doses(episodes: Iterable[EpisodeOfCare], *, now: datetime) -> list[CurrentDose]:
    """This week (each program's own week and zone) for many episodes: policies, coverages, rules, bookings and
    records, five queries however many episodes and programs."""
    episodes = [e for e in _episodes_with_related(episodes) if e.admitted_on is not None]
    if not episodes:
        return []
    policies = policies_for(e.program for e in episodes)
    minimums = minimums_source.get()(episodes)
    weeks: dict[int, date] = {}
    for episode in episodes:
        today = now.astimezone(episode.program.tz()).date()
        weeks[episode.pk] = week_start_for(today, policies[episode.program_id].week_starts_on)
    bounds = [week_bounds(weeks[e.pk], e.program.tz()) for e in episodes]
    slots = load_slots(
        episodes,
        policies,
        starts_after=min(b[0] for b in bounds),
        starts_before=max(b[1] for b in bounds),
    )
    result = []
    for episode in episodes:
        start = weeks[episode.pk]
        if episode.admitted_on is None or episode.admitted_on > start + timedelta(days=DAYS_PER_WEEK - 1):
            continue
        result.append(CurrentDose(episode, _week_dose(episode, start, slots.get(episode.pk, []), minimums, now=now)))
    return result
