"""The demo clinic's calendar: session types, rooms, curriculum, one group per track with its weekly blocks from
the replayed history's first week (the earliest admission's week, at most ``HISTORY_WEEKS`` back) to twelve weeks
ahead, and every active episode enrolled from its admission (or the history's first day). Built through the real
actions on the demo's timeline (``core.clock``), so enrollments are made at their dates; idempotent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction

from openiop.accounts.models import User
from openiop.core.clock import Timeline
from openiop.demo.clinic import PlannedPatient, local_moment
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Organization, Program, Track
from openiop.scheduling.actions.enrollment import do_enroll
from openiop.scheduling.actions.groups import do_create_group, do_create_topic
from openiop.scheduling.actions.series import do_create_series
from openiop.scheduling.actions.setup import do_create_room, do_create_session_type
from openiop.scheduling.models import Group, Room, Session, SessionSeries, SessionType

WEEKS = 12  # ahead, from this Monday
HISTORY_WEEKS = 12  # back, at most: the active admissions' whole window (core.demo.ACTIVE_WINDOW_DAYS)
CALENDAR_BUILT_DAYS_BEFORE = 3  # the calendar is set up the Friday before its first week
ENROLLED_AT = time(7, 45)  # local: after the admission (core.demo.ADMITTED_AT), before the day's first group
CHECKED_IN_AFTER = timedelta(minutes=5)  # past sessions' rosters are taken a few minutes after they end
BYDAY = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
Kind = SessionType.Kind
Service = SessionType.ServiceKind

# The track's hour blocks are full hours, so a day attended in full is the 180 minutes the demo's commercial and SUD
# payer rules ask for (billing.demo); ten minutes late still earns the clinical hour (50 minutes), not the payer day.
SESSION_TYPES = [
    # name, kind, service kind, minutes, capacity, required credentials
    ("Process group", Kind.PROCESS_GROUP, Service.GROUP_PSYCHOTHERAPY, 60, None, []),
    ("Skills group", Kind.SKILLS_GROUP, Service.GROUP_PSYCHOTHERAPY, 60, None, []),
    ("Education workshop", Kind.EDUCATION, Service.PSYCHOEDUCATION, 60, None, []),
    ("Individual counseling", Kind.INDIVIDUAL, Service.INDIVIDUAL_PSYCHOTHERAPY, 50, 1, []),
    ("Family session", Kind.FAMILY, Service.FAMILY_PSYCHOTHERAPY, 60, 8, []),
    ("Intake assessment", Kind.INTAKE_ASSESSMENT, Service.ASSESSMENT, 90, 1, []),
    ("Medication visit", Kind.PSYCHIATRIC, Service.MEDICATION_MANAGEMENT, 30, 1, ["MD", "DO", "NP"]),
]
# What the two services without a code of their own are billed as when a payer is billed per service: education as
# Medicare's HCPCS for patient training and education (revenue code 0942), a medication visit as an established
# patient's E/M visit of low complexity. The others follow from their service kind and minutes (billing.services).
BILLING_CODES = {"Education workshop": ("G0177", "0942"), "Medication visit": ("99213", "")}
# The seed's education topics; mental-health programs learn about their conditions instead of substances.
TOPICS = {
    "mental_health": ["Understanding depression and anxiety"],
    "substance_use": ["Effects of substances"],
}
COMMON_TOPICS = [
    "Relapse prevention",
    "Coping skills",
    "Stress management",
    "Communication",
    "Healthy habits",
    "Family education",
]
ROOMS = [("Group Room A", 14), ("Group Room B", 14), ("Counseling Room 1", 2), ("Counseling Room 2", 2)]


@dataclass(frozen=True)
class TrackPlan:
    track_name: str
    room: str
    facilitator: str
    blocks: tuple[str, ...]  # session type names, one per hour of the track


PLANS = [
    TrackPlan("MH Day", "Group Room A", "clinician", ("Process group", "Skills group", "Education workshop")),
    TrackPlan("MH Evening", "Group Room A", "therapist", ("Process group", "Skills group", "Education workshop")),
    TrackPlan("SU Day", "Group Room B", "counselor", ("Process group", "Skills group", "Education workshop")),
    TrackPlan("SU Evening", "Group Room B", "counselor", ("Process group", "Skills group", "Education workshop")),
    # Hillcrest runs on Chicago time, so its after-school hours overlap Riverside's evening groups: the
    # director (a member of every program) leads them rather than an evening-track therapist.
    TrackPlan("Adolescent After-school", "Group Room A", "director", ("Process group", "Education workshop")),
]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def calendar_start(today: date, patients: list[PlannedPatient], history_weeks: int) -> date:
    """The Monday of the earliest active admission's week, but no more than ``history_weeks`` before this week."""
    monday = monday_of(today)
    admitted = [p.admitted_on for p in patients if p.status == EpisodeOfCare.Status.ACTIVE and p.admitted_on]
    earliest = monday_of(min(admitted)) if admitted else monday
    return max(earliest, monday - timedelta(weeks=max(history_weeks, 0)))


class DemoCalendar:
    """Puts the calendar and the enrollments on the demo's timeline.

    ``on_session_over`` is called with each session of the history (a program-local day before today) a few
    minutes after it ends, in time order (the attendance history checks people in then).
    """

    def __init__(
        self,
        timeline: Timeline,
        today: date,
        history_weeks: int = HISTORY_WEEKS,
        on_session_over: Callable[[Session], None] | None = None,
        weeks: int = WEEKS,
    ) -> None:
        self.timeline = timeline
        self.today = today
        self.history_weeks = history_weeks
        self.weeks = weeks
        self.on_session_over = on_session_over
        self.start = monday_of(today)
        self.organization: Organization | None = None

    def plan(self, organization: Organization, patients: list[PlannedPatient]) -> None:
        self.organization = organization
        self.start = calendar_start(self.today, patients, self.history_weeks)
        zone = organization.sites.order_by("pk").first()
        built_at = local_moment(
            self.start - timedelta(days=CALENDAR_BUILT_DAYS_BEFORE), time(12), zone.time_zone if zone else "UTC"
        )
        self.timeline.at(built_at, self._build)

    def admitted(self, episode: EpisodeOfCare) -> None:
        """Enroll an episode just opened, on its admission morning (or the calendar's first day)."""
        if episode.track_id is None:
            return
        starts_on = max(self.start, episode.admitted_on or self.start)
        when = local_moment(starts_on, ENROLLED_AT, episode.program.time_zone)
        self.timeline.at(when, lambda: self._enroll(episode, starts_on))

    def _build(self) -> None:
        assert self.organization is not None
        build_calendar(self.organization, self.start, monday_of(self.today) + timedelta(weeks=self.weeks, days=-1))
        if self.on_session_over is None:
            return
        callback = self.on_session_over
        for session in past_sessions(self.organization, self.start, self.today):
            self.timeline.at(session.ends_at + CHECKED_IN_AFTER, lambda s=session: callback(s))  # type: ignore[misc]

    def _enroll(self, episode: EpisodeOfCare, starts_on: date) -> None:
        assert self.organization is not None
        episode.refresh_from_db()
        if episode.status != EpisodeOfCare.Status.ACTIVE:
            return
        enroll(self.organization, episode, starts_on)


def past_sessions(organization: Organization, start: date, today: date) -> list[Session]:
    """The calendar's sessions on a program-local day from ``start`` to the day before ``today``, by start."""
    sessions = Session.objects.filter(
        program__site__organization=organization,
        starts_at__gte=local_moment(start, time(0), "UTC") - timedelta(days=1),
        starts_at__lt=local_moment(today, time(0), "UTC") + timedelta(days=1),
    ).select_related("program", "track", "session_type")
    past = []
    for session in sessions.order_by("starts_at", "pk"):
        local_day = session.starts_at.astimezone(session.program.tz()).date()
        if start <= local_day < today:
            past.append(session)
    return past


def ensure_demo_schedule(organization: Organization, today: date, *, weeks: int = WEEKS) -> bool:
    """Build the calendar once for a clinic built without one (``openiop demo --skip-schedule``): ``weeks`` weeks
    from this Monday, enrolled from today, with no history (a history replayed now would be written after the
    clinic's own rows). Returns False (changing nothing) when the demo already has a calendar. Tests pass fewer
    weeks: every week is built the same way, and each one costs seconds of bookings."""
    if SessionSeries.objects.filter(program__site__organization=organization).exists():
        return False
    _build_now(organization, today, weeks)
    return True


@transaction.atomic
def _build_now(organization: Organization, today: date, weeks: int) -> None:
    monday = monday_of(today)
    build_calendar(organization, monday, monday + timedelta(weeks=weeks, days=-1))
    active = EpisodeOfCare.objects.filter(
        program__site__organization=organization, status=EpisodeOfCare.Status.ACTIVE, track__isnull=False
    ).select_related("track", "program")
    for episode in active.order_by("pk"):
        enroll(organization, episode, max(today, episode.admitted_on or today))


def build_calendar(organization: Organization, first: date, horizon: date) -> None:
    """Rooms, session types, topics, and each track's group and weekly blocks from ``first`` to ``horizon``."""
    staff = {u.username: u for u in User.objects.filter(organization=organization)}
    admin = staff.get("sysadmin")
    rooms: dict[tuple[int, str], Room] = {}
    for site in organization.sites.all():
        for name, capacity in ROOMS:
            rooms[(site.pk, name)] = do_create_room(site, acting_user=admin, name=name, capacity=capacity)
    types: dict[tuple[int, str], SessionType] = {}
    for program in Program.objects.filter(site__organization=organization).select_related("site"):
        for name, kind, service, minutes, seats, credentials in SESSION_TYPES:
            types[(program.pk, name)] = do_create_session_type(
                program,
                acting_user=admin,
                name=name,
                kind=kind,
                service_kind=service,
                default_duration_minutes=minutes,
                capacity=seats,
                required_credentials=credentials,
                procedure_code=BILLING_CODES.get(name, ("", ""))[0],
                revenue_code=BILLING_CODES.get(name, ("", ""))[1],
            )
        focus = "mental_health" if program.focus == Program.Focus.MENTAL_HEALTH else "substance_use"
        for sequence, topic in enumerate(TOPICS[focus] + COMMON_TOPICS, start=1):
            do_create_topic(program, acting_user=admin, name=topic, sequence=sequence)
    tracks = {t.name: t for t in Track.objects.filter(program__site__organization=organization)}
    for plan in PLANS:
        track = tracks[plan.track_name]
        program = track.program
        group = do_create_group(track, acting_user=admin, name=f"{track.name} group")
        rule = "FREQ=WEEKLY;BYDAY=" + ",".join(BYDAY[d] for d in sorted(track.weekdays))
        for hour, type_name in enumerate(plan.blocks):
            start = (datetime.combine(first, track.start_time) + timedelta(hours=hour)).time()
            do_create_series(
                program,
                acting_user=admin,
                session_type=types[(program.pk, type_name)],
                rrule=rule,
                starts_on=first,
                start_time=start,
                track=track,
                group=group,
                room=rooms[(program.site_id, plan.room)],
                facilitators=[staff[plan.facilitator]],
                rotates_curriculum=type_name == "Education workshop",
                title=f"{track.name}: {type_name}",
                horizon=horizon,
            )


def enroll(organization: Organization, episode: EpisodeOfCare, starts_on: date) -> None:
    director = User.objects.filter(organization=organization, username="director").first()
    assert episode.track_id is not None  # only episodes with a track are enrolled
    track = Track.objects.get(pk=episode.track_id)
    do_enroll(
        episode,
        acting_user=director,
        track=track,
        groups=list(Group.objects.filter(track=track).order_by("pk")[:1]),
        starts_on=starts_on,
    )


def horizon_label(first: date, today: date) -> str:
    last = monday_of(today) + timedelta(weeks=WEEKS, days=-1)
    return f"{first:%b %d, %Y} to {last:%b %d, %Y}"
