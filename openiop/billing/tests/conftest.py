"""Hand-worked days: one person, a day of 55-minute sessions, payer rules made through the real actions.

A check-in's billable day is decided after its commit (a queued task); a test's own transaction never commits, so
``committed()`` runs what the check-ins arranged for after the commit, as a real one would (the tests' task backend
runs the queued decision inline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.test import TestCase
from django.utils import timezone

from openiop.attendance.actions import do_check_in, do_correct_attendance
from openiop.attendance.models import AttendanceRecord
from openiop.billing.actions import do_create_payer_rule
from openiop.billing.models import BillableDay, PayerRule
from openiop.patients.actions import do_add_coverage, do_open_episode
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program
from openiop.scheduling.models import Session
from openiop.testing.fixtures import Clinic, make_patient
from openiop.testing.scheduling import make_booking, make_session, make_session_type

PRESENT = AttendanceRecord.Status.PRESENT
LATE = AttendanceRecord.Status.LATE
UNEXCUSED = AttendanceRecord.Status.ABSENT_UNEXCUSED


@dataclass
class Day:
    clinic: Clinic
    episode: EpisodeOfCare
    date: date
    sessions: list[Session] = field(default_factory=list)

    @property
    def patient(self) -> Any:
        return self.episode.patient

    def add_session(
        self, hour: int, minutes: int = 55, type_name: str = "Process group", **type_fields: Any
    ) -> Session:
        program = self.episode.program
        kind = make_session_type(program, type_name, **type_fields)
        start = datetime.combine(self.date, time(hour), tzinfo=program.tz())
        session = make_session(program, start, minutes=minutes, session_type=kind)
        make_booking(session, self.patient, episode=self.episode)
        self.sessions.append(session)
        return session

    def attend(self, count: int, **fields: Any) -> None:
        for session in self.sessions[:count]:
            with committed():
                do_check_in(session, self.patient, acting_user=self.clinic.clinician, status=PRESENT, **fields)

    def correct(self, index: int, status: str, **fields: Any) -> AttendanceRecord:
        record = AttendanceRecord.objects.get(session=self.sessions[index], patient=self.patient)
        with committed():
            return do_correct_attendance(
                record, acting_user=self.clinic.clinician, reason="Left before the group began", status=status, **fields
            )

    def billable(self) -> BillableDay:
        return BillableDay.objects.get(episode=self.episode, date=self.date)


def committed() -> Any:
    """Run the block's on-commit callbacks at its end (and those they arrange), as the commit of a real check-in
    would: here, the queued decision of its billable day."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def local_day(program: Program, days_ago: int) -> date:
    return timezone.localdate(timezone=program.tz()) - timedelta(days=days_ago)


def make_day(
    clinic: Clinic, program: Program | None = None, *, sessions: int = 4, days_ago: int = 3, **patient: Any
) -> Day:
    program = program or clinic.mh
    person = make_patient(clinic, program, admit=False, **patient)
    admitted = local_day(program, 30)
    episode = do_open_episode(person, acting_user=None, program=program, admitted_on=admitted)
    day = Day(clinic, episode, local_day(program, days_ago))
    for hour in range(9, 9 + sessions):
        day.add_session(hour)
    return day


def add_coverage(patient: Any, payer_kind: str) -> None:
    do_add_coverage(
        patient,
        acting_user=None,
        priority=1,
        payer_kind=payer_kind,
        payer_name="Medicare Part A" if payer_kind == "medicare" else "Blue Shield",
        member_id="1EG4-TE5-MK73",
        effective_from=date(2020, 1, 1),
    )


def rule(clinic: Clinic, **fields: Any) -> PayerRule:
    return do_create_payer_rule(acting_user=None, organization=clinic.org, **fields)


@pytest.fixture
def rules(clinic) -> dict[str, PayerRule]:
    """The demo's three rules, as a billing office would enter them."""
    return {
        "medicare": rule(
            clinic,
            name="Medicare IOP (CMHC)",
            payer_kind="medicare",
            code="APC 5851/5852",
            min_services_per_day=3,
            high_tier_services=4,
        ),
        "default": rule(
            clinic, name="Commercial psychiatric IOP", code="S9480", min_services_per_day=3, min_minutes_per_day=180
        ),
        "sud": rule(
            clinic, name="SUD IOP", code="H0015", program=clinic.su, min_services_per_day=1, min_minutes_per_day=180
        ),
    }
