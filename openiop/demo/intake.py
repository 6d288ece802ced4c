"""Demo intake assessments: a few signed ones for admitted demo patients, built through the real actions.

Called once from core.demo when the demo clinic is built; invented text only.
"""

from __future__ import annotations

from datetime import date, timedelta

from openiop.accounts.models import User
from openiop.core.roles import Role
from openiop.intake.actions import (
    do_add_diagnosis,
    do_rate_level_of_care,
    do_save_section,
    do_sign_assessment,
    do_start_assessment,
)
from openiop.intake.models import RISK_QUESTIONS, IntakeAssessment
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Organization, Program

# Every admitted adult had an intake: each active episode gets a signed assessment with a primary diagnosis, which
# the plans and notes demos then link (None: no limit).
PER_PROGRAM: int | None = None

_MH = {
    "presenting_problem": "Referred by their therapist after three months of low mood, poor sleep and missed work.",
    "mental_health_history": "One prior episode of depression in college, treated with outpatient therapy.",
    "strengths": "Motivated, employed, supportive sibling nearby.",
    "support_system": "Sibling and two close friends; attends a weekly faith group.",
    "living_situation": "Rents an apartment alone; stable housing.",
}
_SU = {
    "presenting_problem": "Daily drinking since a divorce last year; two failed attempts to cut down alone.",
    "substance_use_history": "Alcohol since age 16, daily for the past year; occasional cannabis.",
    "substances": [
        {"substance": "Alcohol", "route": "oral", "frequency": "daily", "last_use": "", "age_first_use": 16},
        {"substance": "Cannabis", "route": "smoked", "frequency": "monthly", "last_use": "", "age_first_use": 19},
    ],
    "strengths": "Wants to keep their job; has a sponsor from a previous attempt.",
    "living_situation": "Lives with a partner who does not drink.",
}


def _assessor(program: Program) -> User | None:
    staff = User.objects.filter(memberships__program=program, is_active=True)
    for role in (Role.CLINICIAN, Role.DIRECTOR):
        found = staff.filter(role=role).order_by("username").first()
        if found is not None:
            return found
    return None


def seed_demo_intake(organization: Organization, today: date) -> int:
    """Sign an intake assessment for the admitted patients of each adult program; returns how many (0 when the
    clinic already has assessments, so a second `openiop demo` changes nothing)."""
    if IntakeAssessment.objects.filter(patient__organization=organization).exists():
        return 0
    made = 0
    for program in Program.objects.filter(site__organization=organization, population="adult").select_related("site"):
        assessor = _assessor(program)
        if assessor is None:
            continue
        episodes = (
            EpisodeOfCare.objects.filter(program=program, status=EpisodeOfCare.Status.ACTIVE)
            .select_related("patient", "track")
            .order_by("patient__mrn")[:PER_PROGRAM]
        )
        for episode in episodes:
            assessed_on = (episode.admitted_on or today) - timedelta(days=3)
            assessment = do_start_assessment(
                episode.patient, acting_user=assessor, program=program, episode=episode, assessed_on=assessed_on
            )
            text = _SU if program.is_substance_use else _MH
            do_save_section(
                assessment,
                acting_user=assessor,
                **text,
                **{name: False for name, _ in RISK_QUESTIONS},
                risk_narrative="Denies current ideation; safety plan reviewed.",
                recommendation="admit_iop",
                recommended_program=program,
                recommended_track=episode.track,
            )
            if program.is_substance_use:
                do_rate_level_of_care(
                    assessment,
                    acting_user=assessor,
                    framework="asam4",
                    ratings={"d1": "0", "d2": "0", "d3": "2", "d4": "3A", "d5": "2"},
                    notes={"d6": "Prefers evening groups around work."},
                    chosen_level="2.1",
                    rationale="Clinician's determination from the interview.",
                )
                do_add_diagnosis(
                    assessment, acting_user=assessor, code="F10.20", description="Alcohol use disorder, moderate",
                    is_primary=True,
                )  # fmt: skip
            else:
                do_rate_level_of_care(
                    assessment,
                    acting_user=assessor,
                    framework="locus",
                    ratings={
                        "risk_of_harm": "2",
                        "functional_status": "3",
                        "comorbidity": "2",
                        "environment_stress": "3",
                        "environment_support": "2",
                        "treatment_history": "2",
                        "engagement": "2",
                    },
                    chosen_level="3",
                    rationale="Clinician's determination from the interview.",
                )
                do_add_diagnosis(
                    assessment, acting_user=assessor, code="F33.1",
                    description="Major depressive disorder, recurrent, moderate", is_primary=True,
                )  # fmt: skip
            do_sign_assessment(assessment, acting_user=assessor)
            made += 1
    return made
