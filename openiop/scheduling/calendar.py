"""Access-checked reads for the calendar pages, the session page and the chart's schedule tab.

Role first (403), then the lookup is scoped to the user's programs (404 outside them). Each list here costs a
fixed number of queries whatever its length: related rows come with select_related, facilitators with one
prefetch.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core.permissions import program_ids_for
from openiop.patients.models import Patient
from openiop.patients.queries import chart_program_ids
from openiop.programs.models import Site, Track
from openiop.scheduling.models import Booking, Enrollment, Room, Session, WaitlistEntry

# The grid shows at least these hours and grows to fit sessions outside them.
DEFAULT_FIRST_HOUR = 8
DEFAULT_LAST_HOUR = 21


def sessions_for_user(user: User) -> QuerySet[Session]:
    """Sessions of the user's own programs."""
    ids = program_ids_for(user)
    if not ids:
        return Session.objects.none()
    return Session.objects.filter(program_id__in=ids)


# What a calendar block shows (calendar_body.html) and places (starts and ends): the full rows of the session and
# its five related tables are 109 columns, which cost more to compile and load than the query takes to run.
BLOCK_FIELDS = (
    "public_id",
    "starts_at",
    "ends_at",
    "title",
    "status",
    "mode",
    "capacity",
    "booked_count",
    "session_type__name",
    "session_type__kind",
    "room__name",
    "track__name",
)


def _with_related(qs: QuerySet[Session]) -> QuerySet[Session]:
    return (
        qs.select_related("session_type", "room", "track")
        .only(*BLOCK_FIELDS)
        .prefetch_related(
            Prefetch(
                "facilitators",
                queryset=User.objects.only("username", "first_name", "last_name").order_by("last_name", "first_name"),
            )
        )
    )


def sites_for_user(user: User) -> QuerySet[Site]:
    return Site.objects.filter(programs__id__in=program_ids_for(user), is_active=True).distinct().order_by("name")


def rooms_for_user(user: User, site: Site | None = None) -> QuerySet[Room]:
    qs = Room.objects.filter(site__in=sites_for_user(user), is_active=True).select_related("site")
    return qs.filter(site=site) if site is not None else qs


def tracks_for_user(user: User) -> QuerySet[Track]:
    return (
        Track.objects.filter(program_id__in=program_ids_for(user), is_active=True)
        .select_related("program")
        .order_by("program__name", "start_time", "name")
    )


def facilitators_for_user(user: User) -> QuerySet[User]:
    """Staff who share a program with the user (the people a calendar can be filtered by)."""
    return (
        User.objects.filter(is_active=True, memberships__program_id__in=program_ids_for(user))
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


@dataclass(frozen=True)
class CalendarFilter:
    site: Site
    room: Room | None = None
    facilitator: User | None = None
    track: Track | None = None


def calendar_sessions(user: User, start: datetime, end: datetime, filters: CalendarFilter) -> list[Session]:
    """Sessions at the filter's site overlapping [start, end), with everything a calendar block shows."""
    qs = sessions_for_user(user).filter(starts_at__lt=end, ends_at__gt=start, program__site=filters.site)
    if filters.room is not None:
        qs = qs.filter(room=filters.room)
    if filters.track is not None:
        qs = qs.filter(track=filters.track)
    if filters.facilitator is not None:
        qs = qs.filter(facilitators=filters.facilitator)
    return list(_with_related(qs).order_by("starts_at", "pk"))


def roster(session: Session) -> list[Booking]:
    """Everyone booked (then the cancelled bookings), with patient and episode for the row."""
    return list(
        session.bookings.select_related("patient", "episode").order_by(
            "status", "patient__legal_last_name", "patient__legal_first_name", "pk"
        )
    )


def session_waitlist(session: Session) -> list[WaitlistEntry]:
    return list(
        WaitlistEntry.objects.filter(
            session=session, status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED]
        )
        .select_related("episode__patient")
        .order_by("created_at", "pk")
    )


def patient_bookings(user: User, patient: Patient) -> list[Booking]:
    """The patient's bookings in the user's programs, or in all of the patient's under emergency access (newest
    session first)."""
    return list(
        Booking.objects.filter(patient=patient, session__program_id__in=chart_program_ids(user, patient))
        .select_related("session__program__site", "session__session_type", "session__room", "session__track")
        .order_by("-session__starts_at", "pk")
    )


def patient_enrollments(user: User, patient: Patient) -> list[Enrollment]:
    return list(
        Enrollment.objects.filter(episode__patient=patient, episode__program_id__in=chart_program_ids(user, patient))
        .select_related("track__program", "episode__program")
        .prefetch_related("groups")
        .order_by("-starts_on", "-pk")
    )


# --- Laying sessions out on the grid ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    session: Session
    local_start: datetime
    local_end: datetime
    top: float  # percent of the day column
    height: float
    left: float  # percent, side by side when sessions overlap
    width: float


@dataclass(frozen=True)
class DayColumn:
    day: date
    blocks: list[Block]
    is_today: bool


@dataclass(frozen=True)
class Grid:
    days: list[DayColumn]
    first_hour: int
    last_hour: int

    @property
    def hours(self) -> list[time]:
        return [time(h) for h in range(self.first_hour, self.last_hour)]

    @property
    def hour_count(self) -> int:
        return self.last_hour - self.first_hour


def _lanes(items: list[tuple[datetime, datetime, Session]]) -> list[tuple[int, int]]:
    """Side-by-side positions for overlapping sessions: (lane, lanes in its cluster) for each item, in order."""
    result: list[tuple[int, int]] = [(0, 1)] * len(items)
    cluster: list[int] = []
    lane_ends: list[datetime] = []
    cluster_end: datetime | None = None

    def close() -> None:
        for index in cluster:
            result[index] = (result[index][0], len(lane_ends))

    for index, (start, end, _) in enumerate(items):
        if cluster_end is not None and start >= cluster_end:
            close()
            cluster, lane_ends, cluster_end = [], [], None
        lane = next((i for i, lane_end in enumerate(lane_ends) if lane_end <= start), None)
        if lane is None:
            lane = len(lane_ends)
            lane_ends.append(end)
        else:
            lane_ends[lane] = end
        result[index] = (lane, 0)
        cluster.append(index)
        cluster_end = end if cluster_end is None else max(cluster_end, end)
    close()
    return result


def build_grid(sessions: list[Session], days: list[date], tz: zoneinfo.ZoneInfo, today: date) -> Grid:
    """Place each session in its local day's column, sized by its local start and end."""
    by_day: dict[date, list[tuple[datetime, datetime, Session]]] = {d: [] for d in days}
    first_hour, last_hour = DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR
    for session in sessions:
        start = session.starts_at.astimezone(tz)
        end = session.ends_at.astimezone(tz)
        if start.date() not in by_day:
            continue
        # A session running past midnight is drawn to the end of its first day.
        if end.date() != start.date():
            end = datetime.combine(start.date(), time(23, 59), tzinfo=tz)
        by_day[start.date()].append((start, end, session))
        first_hour = min(first_hour, start.hour)
        last_hour = max(last_hour, end.hour + (1 if end.minute else 0))
    span = (last_hour - first_hour) * 60
    columns = []
    for day in days:
        items = by_day[day]
        blocks = []
        for (start, end, session), (lane, lanes) in zip(items, _lanes(items), strict=True):
            top = (start.hour - first_hour) * 60 + start.minute
            length = max((end - start).total_seconds() / 60, 15)
            blocks.append(
                Block(
                    session=session,
                    local_start=start,
                    local_end=end,
                    top=round(top * 100 / span, 3),
                    height=round(length * 100 / span, 3),
                    left=round(lane * 100 / lanes, 3),
                    width=round(100 / lanes, 3),
                )
            )
        columns.append(DayColumn(day=day, blocks=blocks, is_today=day == today))
    return Grid(days=columns, first_hour=first_hour, last_hour=last_hour)


def local_today(tz: zoneinfo.ZoneInfo) -> date:
    """Today in the zone: the calendar's anchor and its highlighted column (tests replace it to pin the date)."""
    return timezone.now().astimezone(tz).date()


def local_range(days: list[date], tz: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    """The aware instants bounding whole local days (DST-safe: midnight is built in the zone each time)."""
    start = datetime.combine(days[0], time(0), tzinfo=tz)
    end = datetime.combine(days[-1] + timedelta(days=1), time(0), tzinfo=tz)
    return start, end
