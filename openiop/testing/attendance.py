"""Factories for the dose, make-up and report tests: track days of 55-minute blocks, people admitted to a track,
check-ins through the real action. Dates are relative to today so the check-in and booking actions accept them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from django.utils import timezone

from openiop.attendance.actions import do_check_in
from openiop.attendance.dose import week_start_for
from openiop.attendance.models import AttendanceRecord
from openiop.patients.actions import do_open_episode
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program, Track
from openiop.scheduling.models import Booking, Session
from openiop.testing.fixtures import make_patient
from openiop.testing.scheduling import make_booking, make_session

PRESENT = AttendanceRecord.Status.PRESENT
LATE = AttendanceRecord.Status.LATE
LEFT_EARLY = AttendanceRecord.Status.LEFT_EARLY
EXCUSED = AttendanceRecord.Status.ABSENT_EXCUSED
UNEXCUSED = AttendanceRecord.Status.ABSENT_UNEXCUSED


def today(program: Program) -> date:
    return timezone.now().astimezone(program.tz()).date()


def this_monday(program: Program) -> date:
    return week_start_for(today(program), 0)


def at(program: Program, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=program.tz())


def admit_to_track(
    clinic: Any,
    first_name: str,
    *,
    admitted_on: date,
    track: Track | None = None,
    program: Program | None = None,
    last_name: str = "Dose",
    **episode: Any,
) -> EpisodeOfCare:
    program = program or (track.program if track is not None else clinic.mh)
    patient = make_patient(clinic, program, admit=False, legal_first_name=first_name, legal_last_name=last_name)
    return do_open_episode(patient, acting_user=None, program=program, track=track, admitted_on=admitted_on, **episode)


def track_day(
    program: Program,
    day: date,
    *,
    hours: Iterable[int] = (9, 10, 11),
    minutes: int = 55,
    track: Track | None = None,
    **fields: Any,
) -> list[Session]:
    """One day of a track: 55-minute blocks at the given hours (09:00-12:00 with breaks = 3 clinical hours)."""
    return [make_session(program, at(program, day, hour), minutes=minutes, track=track, **fields) for hour in hours]


def book(sessions: Iterable[Session], episode: EpisodeOfCare, **fields: Any) -> list[Booking]:
    return [make_booking(s, episode.patient, episode=episode, **fields) for s in sessions]


def check_in(session: Session, episode: EpisodeOfCare, status: str, by: Any, **fields: Any) -> AttendanceRecord:
    return do_check_in(session, episode.patient, acting_user=by, status=status, **fields)


def check_in_all(sessions: Iterable[Session], episode: EpisodeOfCare, status: str, by: Any) -> None:
    for s in sessions:
        check_in(s, episode, status, by)
