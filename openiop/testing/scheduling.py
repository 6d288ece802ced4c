"""Test factories for scheduling rows (shared by the four scheduling test suites: add, do not change others').

Sessions and bookings are normally made by the series expansion and booking actions; these factories let a test
build exactly the rows it needs before (or without) those actions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import F

from openiop.patients.models import EpisodeOfCare, Patient
from openiop.programs.models import Program, Site
from openiop.scheduling.models import Booking, CurriculumTopic, Group, Room, Session, SessionType


def make_session_type(program: Program, name: str = "Process group", **fields: Any) -> SessionType:
    values: dict[str, Any] = {
        "kind": SessionType.Kind.PROCESS_GROUP,
        "service_kind": SessionType.ServiceKind.GROUP_PSYCHOTHERAPY,
        "default_duration_minutes": 55,
    }
    values.update(fields)
    return SessionType.objects.get_or_create(program=program, name=name, defaults=values)[0]


def make_room(site: Site, name: str = "Room 1", capacity: int = 12) -> Room:
    return Room.objects.get_or_create(site=site, name=name, defaults={"capacity": capacity})[0]


def make_topic(program: Program, name: str, sequence: int = 0) -> CurriculumTopic:
    return CurriculumTopic.objects.get_or_create(program=program, name=name, defaults={"sequence": sequence})[0]


def make_session(
    program: Program,
    starts_at: datetime,
    *,
    minutes: int = 55,
    session_type: SessionType | None = None,
    facilitators: tuple[Any, ...] = (),
    capacity: int = 10,
    **fields: Any,
) -> Session:
    session = Session.objects.create(
        program=program,
        session_type=session_type or make_session_type(program),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        capacity=capacity,
        **fields,
    )
    if facilitators:
        session.facilitators.set(facilitators)
    return session


def make_booking(session: Session, patient: Patient, *, episode: EpisodeOfCare | None = None, **fields: Any) -> Booking:
    """A booked seat, counted on the session the way the booking action counts it."""
    if episode is None:
        episode = EpisodeOfCare.objects.filter(patient=patient, program=session.program).latest("created_at")
    booking = Booking.objects.create(session=session, episode=episode, patient=patient, **fields)
    if booking.status == Booking.Status.BOOKED:
        Session.objects.filter(pk=session.pk).update(booked_count=F("booked_count") + 1)
        session.refresh_from_db(fields=["booked_count"])
    return booking


def admit(
    clinic: Any,
    first_name: str,
    *,
    program: Program | None = None,
    admitted_days_ago: int = 7,
    weeks: int = 12,
    **fields: Any,
) -> EpisodeOfCare:
    """A patient admitted a week ago (relative to today, so booking tests never age out), returning the episode."""
    from datetime import date

    from django.utils import timezone

    from openiop.patients.actions import do_open_episode
    from openiop.testing.fixtures import make_patient

    program = program or clinic.mh
    patient = make_patient(clinic, program, admit=False, legal_first_name=first_name, **fields)
    admitted: date = timezone.localdate() - timedelta(days=admitted_days_ago)
    return do_open_episode(
        patient,
        acting_user=None,
        program=program,
        admitted_on=admitted,
        expected_discharge_on=admitted + timedelta(weeks=weeks),
    )


def local_at(program: Program, days_ahead: int, hour: int, minute: int = 0) -> datetime:
    """An aware datetime ``days_ahead`` days from today at the given program-local wall-clock time."""
    from datetime import time

    from django.utils import timezone

    day = timezone.localdate(timezone=program.tz()) + timedelta(days=days_ahead)
    return datetime.combine(day, time(hour, minute), tzinfo=program.tz())


def make_group(track: Any, name: str = "Group A", capacity: int = 8, **fields: Any) -> Group:
    return Group.objects.create(track=track, name=name, capacity=capacity, **fields)


def make_group_sessions(group: Group, days_ahead: tuple[int, ...] = (1, 3, 5), hour: int = 9) -> list[Session]:
    """Upcoming sessions of ``group`` (program-local ``hour`` on each day ahead), for admissions to book."""
    program = group.track.program
    return [
        make_session(program, local_at(program, day, hour), track=group.track, group=group, capacity=group.capacity)
        for day in days_ahead
    ]


def admit_enrolled(clinic: Any, first_name: str, group: Group, **fields: Any) -> EpisodeOfCare:
    """A patient admitted a week ago and enrolled today in ``group``'s track and group (booked into its upcoming
    sessions by the enrollment action), as an admission from a referral leaves them."""
    from django.utils import timezone

    from openiop.scheduling.actions.enrollment import do_enroll

    episode = admit(clinic, first_name, program=group.track.program, **fields)
    today = timezone.localdate(timezone=group.track.program.tz())
    do_enroll(episode, acting_user=None, track=group.track, groups=[group], starts_on=today)
    episode.refresh_from_db()
    return episode
