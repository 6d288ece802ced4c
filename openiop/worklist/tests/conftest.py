"""A patient of the Adult MH program with a run of past sessions booked, checked in through the real actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from openiop.attendance.actions import do_check_in, do_correct_attendance
from openiop.attendance.models import AttendanceRecord
from openiop.patients.actions import do_open_episode
from openiop.patients.models import EpisodeOfCare
from openiop.scheduling.models import Session
from openiop.testing.fixtures import Clinic, make_patient
from openiop.testing.scheduling import make_booking, make_session, make_session_type

PRESENT = AttendanceRecord.Status.PRESENT
EXCUSED = AttendanceRecord.Status.ABSENT_EXCUSED
UNEXCUSED = AttendanceRecord.Status.ABSENT_UNEXCUSED


@dataclass
class Person:
    clinic: Clinic
    episode: EpisodeOfCare
    sessions: list[Session]

    @property
    def patient(self) -> Any:
        return self.episode.patient

    def mark(self, index: int, status: str, *, by: Any = None) -> AttendanceRecord:
        """Check in (or back-enter) session ``index``; an existing record is corrected with a reason."""
        user = by or self.clinic.clinician
        session = self.sessions[index]
        existing = AttendanceRecord.objects.filter(session=session, patient=self.patient).first()
        if existing is None or existing.status == status:
            return do_check_in(session, self.patient, acting_user=user, status=status)
        return do_correct_attendance(existing, acting_user=user, reason="Entered on the wrong row", status=status)


def local_day(program: Any, days_ago: int) -> date:
    return timezone.localdate(timezone=program.tz()) - timedelta(days=days_ago)


def past_sessions(clinic: Clinic, days_ago: list[int], hour: int = 9, **fields: Any) -> list[Session]:
    program = clinic.mh
    kind = make_session_type(program, "Process group")
    return [
        make_session(
            program,
            datetime.combine(local_day(program, d), time(hour), tzinfo=program.tz()),
            session_type=kind,
            **fields,
        )
        for d in days_ago
    ]


_UNSET: Any = object()


def person_with_sessions(
    clinic: Clinic, days_ago: list[int], name: str = "Robin", *, primary_clinician: Any = _UNSET, **fields: Any
) -> Person:
    patient = make_patient(clinic, clinic.mh, admit=False, legal_first_name=name, **fields)
    admitted = local_day(clinic.mh, 40)
    episode = do_open_episode(
        patient,
        acting_user=None,
        program=clinic.mh,
        admitted_on=admitted,
        expected_discharge_on=admitted + timedelta(weeks=12),
        primary_clinician=clinic.clinician if primary_clinician is _UNSET else primary_clinician,
    )
    sessions = past_sessions(clinic, days_ago)
    for session in sessions:
        make_booking(session, patient, episode=episode)
    return Person(clinic, episode, sessions)


@pytest.fixture
def robin(clinic) -> Person:
    """Six past sessions, Mon/Wed/Fri-like spacing: 20, 18, 16, 13, 11, 9 days ago."""
    return person_with_sessions(clinic, [20, 18, 16, 13, 11, 9])
