"""A stay with a coverage and billable days made through the real actions: sessions, check-ins, billing's decision.

Dates are program-local and relative to today (the check-in action refuses far-off sessions). ``attend`` runs the
check-ins' on-commit callbacks (the billable day is decided then, as after a real commit); ``correct`` does not, so
the day stays pending and only the utilization read can decide it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.test import TestCase
from django.utils import timezone

from openiop.attendance.actions import do_check_in, do_correct_attendance
from openiop.attendance.models import AttendanceRecord
from openiop.billing.actions import do_create_payer_rule
from openiop.patients.actions import do_add_coverage, do_open_episode
from openiop.patients.models import Coverage, EpisodeOfCare, Payer
from openiop.scheduling.models import Session
from openiop.testing.fixtures import Clinic, make_patient
from openiop.testing.scheduling import make_booking, make_session, make_session_type
from openiop.utilization.actions import do_create_authorization
from openiop.utilization.models import Authorization

PRESENT = AttendanceRecord.Status.PRESENT
UNEXCUSED = AttendanceRecord.Status.ABSENT_UNEXCUSED


def committed() -> Any:
    return TestCase.captureOnCommitCallbacks(execute=True)


@dataclass
class Stay:
    clinic: Clinic
    episode: EpisodeOfCare
    coverage: Coverage

    @property
    def today(self) -> date:
        return timezone.localdate(timezone=self.episode.program.tz())

    def ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    def day(self, days_ago: int, *, sessions: int = 3, attend: int | None = None) -> list[Session]:
        """A day of ``sessions`` one-hour groups, ``attend`` of them attended (all by default), decided."""
        program = self.episode.program
        kind = make_session_type(program)
        day = self.ago(days_ago)
        made = []
        for hour in range(9, 9 + sessions):
            start = datetime.combine(day, time(hour), tzinfo=program.tz())
            session = make_session(program, start, minutes=55, session_type=kind)
            make_booking(session, self.episode.patient, episode=self.episode)
            made.append(session)
        for session in made[: sessions if attend is None else attend]:
            with committed():
                do_check_in(session, self.episode.patient, acting_user=self.clinic.clinician, status=PRESENT)
        return made

    def correct(self, session: Session, status: str) -> None:
        """A correction whose billable day is left pending (its queued decision never runs here)."""
        record = AttendanceRecord.objects.get(session=session, patient=self.episode.patient)
        do_correct_attendance(
            record, acting_user=self.clinic.clinician, reason="Entered on the wrong person", status=status
        )

    def authorize(self, start_ago: int, end_ahead: int, units: int, **fields: Any) -> Authorization:
        values: dict[str, Any] = {
            "coverage": self.coverage,
            "number": "A-100",
            "level_of_care": "iop",
            "start_date": self.ago(start_ago),
            "end_date": self.today + timedelta(days=end_ahead),
            "unit_kind": Authorization.UnitKind.DAYS,
            "units_authorized": units,
            "status": Authorization.Status.APPROVED,
        }
        values.update(fields)
        return do_create_authorization(acting_user=self.clinic.billing, episode=self.episode, **values)


def make_stay(
    clinic: Clinic, first_name: str = "Avery", *, payer_kind: str = "commercial", payer: Payer | None = None
) -> Stay:
    patient = make_patient(clinic, admit=False, legal_first_name=first_name, legal_last_name="Auth")
    episode = do_open_episode(
        patient,
        acting_user=None,
        program=clinic.mh,
        admitted_on=timezone.localdate(timezone=clinic.mh.tz()) - timedelta(days=30),
        primary_clinician=clinic.clinician,
        track=clinic.day,
    )
    coverage = do_add_coverage(
        patient,
        acting_user=None,
        priority=1,
        payer=payer,
        payer_kind=payer.kind if payer else payer_kind,
        payer_name=payer.name if payer else "Blue Shield",
        member_id="XYZ123",
        effective_from=date(2020, 1, 1),
    )
    return Stay(clinic, episode, coverage)


@pytest.fixture
def payer_rule(clinic):
    """Three services make a billable day, for every payer (the organization's default)."""
    return do_create_payer_rule(
        acting_user=None, organization=clinic.org, name="Commercial IOP", code="S9480", min_services_per_day=3
    )


@pytest.fixture
def stay(clinic, payer_rule) -> Stay:
    return make_stay(clinic)
