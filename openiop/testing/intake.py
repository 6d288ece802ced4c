"""Test factories: assessments built through the real actions, up to a complete signed one."""

from __future__ import annotations

from typing import Any

from openiop.accounts.models import User
from openiop.intake.actions import (
    do_add_diagnosis,
    do_rate_level_of_care,
    do_save_section,
    do_sign_assessment,
    do_start_assessment,
)
from openiop.intake.models import RISK_QUESTIONS, IntakeAssessment
from openiop.patients.models import Patient
from openiop.programs.models import Program

ASAM3_RATINGS = {"d1": "0", "d2": "1", "d3": "2", "d4": "2", "d5": "3", "d6": "2"}


def start(patient: Patient, user: User, program: Program | None = None, **fields: Any) -> IntakeAssessment:
    return do_start_assessment(patient, acting_user=user, program=program or patient.home_program, **fields)


def complete(assessment: IntakeAssessment, user: User, **overrides: Any) -> IntakeAssessment:
    """Fill everything signing needs: narrative, risk answers, an ASAM rating, a primary diagnosis, a plan."""
    fields: dict[str, Any] = {
        "presenting_problem": "Worsening depression and daily drinking after a job loss.",
        "substances": [{"substance": "Alcohol", "route": "oral", "frequency": "daily", "last_use": "2026-01-02"}],
        **{name: False for name, _ in RISK_QUESTIONS},
        "recommendation": IntakeAssessment.Recommendation.ADMIT_IOP,
        "recommended_program": assessment.program,
    }
    fields.update(overrides)
    do_save_section(assessment, acting_user=user, **fields)
    do_rate_level_of_care(
        assessment,
        acting_user=user,
        framework="asam3",
        ratings=ASAM3_RATINGS,
        chosen_level="2.1",
        rationale="Needs structure several days a week; safe at home.",
    )
    do_add_diagnosis(
        assessment,
        acting_user=user,
        code="F33.1",
        description="Major depressive disorder, recurrent, moderate",
        is_primary=True,
    )
    assessment.refresh_from_db()
    return assessment


def signed(patient: Patient, user: User, **fields: Any) -> IntakeAssessment:
    assessment = complete(start(patient, user, **fields), user)
    return do_sign_assessment(assessment, acting_user=user)
