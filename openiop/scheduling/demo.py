"""Twelve weeks of the demo clinic's calendar: session types, rooms, curriculum, one group per track with its
weekly blocks, and every active episode enrolled. Built through the real actions; idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction

from openiop.accounts.models import User
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Organization, Program, Track
from openiop.scheduling.enrollment import do_enroll
from openiop.scheduling.models import Group, Room, SessionSeries, SessionType
from openiop.scheduling.series import (
    do_create_group,
    do_create_room,
    do_create_series,
    do_create_session_type,
    do_create_topic,
)

WEEKS = 12
BYDAY = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
Kind = SessionType.Kind
Service = SessionType.ServiceKind

SESSION_TYPES = [
    # name, kind, service kind, minutes, capacity, required credentials
    ("Process group", Kind.PROCESS_GROUP, Service.GROUP_PSYCHOTHERAPY, 55, None, []),
    ("Skills group", Kind.SKILLS_GROUP, Service.GROUP_PSYCHOTHERAPY, 55, None, []),
    ("Education workshop", Kind.EDUCATION, Service.PSYCHOEDUCATION, 55, None, []),
    ("Individual counseling", Kind.INDIVIDUAL, Service.INDIVIDUAL_PSYCHOTHERAPY, 50, 1, []),
    ("Family session", Kind.FAMILY, Service.FAMILY_PSYCHOTHERAPY, 60, 8, []),
    ("Intake assessment", Kind.INTAKE_ASSESSMENT, Service.ASSESSMENT, 90, 1, []),
    ("Medication visit", Kind.PSYCHIATRIC, Service.MEDICATION_MANAGEMENT, 30, 1, ["MD", "DO", "NP"]),
]
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


def ensure_demo_schedule(organization: Organization, today: date) -> bool:
    """Build the calendar once; returns False (changing nothing) when the demo already has one."""
    if SessionSeries.objects.filter(program__site__organization=organization).exists():
        return False
    _build(organization, today)
    return True


@transaction.atomic
def _build(organization: Organization, today: date) -> None:
    staff = {u.username: u for u in User.objects.filter(organization=organization)}
    admin = staff.get("sysadmin")
    director = staff.get("director")
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
            )
        focus = "mental_health" if program.focus == Program.Focus.MENTAL_HEALTH else "substance_use"
        for sequence, topic in enumerate(TOPICS[focus] + COMMON_TOPICS, start=1):
            do_create_topic(program, acting_user=admin, name=topic, sequence=sequence)
    monday = today - timedelta(days=today.weekday())
    horizon = monday + timedelta(weeks=WEEKS, days=-1)  # inclusive: exactly twelve whole weeks
    tracks = {t.name: t for t in Track.objects.filter(program__site__organization=organization)}
    tracks_by_id = {t.pk: t for t in tracks.values()}
    for plan in PLANS:
        track = tracks[plan.track_name]
        program = track.program
        group = do_create_group(track, acting_user=admin, name=f"{track.name} group")
        rule = "FREQ=WEEKLY;BYDAY=" + ",".join(BYDAY[d] for d in sorted(track.weekdays))
        for hour, type_name in enumerate(plan.blocks):
            start = (datetime.combine(monday, track.start_time) + timedelta(hours=hour)).time()
            do_create_series(
                program,
                acting_user=admin,
                session_type=types[(program.pk, type_name)],
                rrule=rule,
                starts_on=monday,
                start_time=start,
                track=track,
                group=group,
                room=rooms[(program.site_id, plan.room)],
                facilitators=[staff[plan.facilitator]],
                rotates_curriculum=type_name == "Education workshop",
                title=f"{track.name}: {type_name}",
                horizon=horizon,
            )
    active = EpisodeOfCare.objects.filter(
        program__site__organization=organization, status=EpisodeOfCare.Status.ACTIVE, track__isnull=False
    ).select_related("track", "program")
    groups = {g.track_id: g for g in Group.objects.filter(track__program__site__organization=organization)}
    for episode in active.order_by("pk"):
        if episode.track_id is None:  # filtered out above; keeps the type checker honest
            continue
        starts_on = max(today, episode.admitted_on or today)
        do_enroll(
            episode,
            acting_user=director,
            track=tracks_by_id[episode.track_id],
            groups=[groups[episode.track_id]],
            starts_on=starts_on,
        )


def horizon_label(today: date) -> str:
    monday = today - timedelta(days=today.weekday())
    return f"{monday:%b %d} to {monday + timedelta(weeks=WEEKS) - timedelta(days=1):%b %d, %Y}"
