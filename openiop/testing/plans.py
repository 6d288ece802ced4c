"""Test factories: plans built through the real actions, up to an active version."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from openiop.accounts.models import User
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.plans import actions, content_actions
from openiop.plans.models import Goal, Intervention, Objective, PlanVersion, Problem, TreatmentPlan


def episode_of(patient: Patient) -> EpisodeOfCare:
    return patient.episodes.exclude(status=EpisodeOfCare.Status.DISCHARGED).order_by("-admitted_on").first()  # type: ignore[return-value]


def plan_for(patient: Patient) -> TreatmentPlan:
    plan, _ = actions.do_ensure_plan(episode_of(patient), acting_user=None)
    return plan


def draft(patient: Patient, user: User) -> PlanVersion:
    plan = plan_for(patient)
    existing = plan.versions.filter(status=PlanVersion.Status.DRAFT).first()
    return existing or actions.do_start_version(plan, acting_user=user)


def fill(version: PlanVersion, user: User, *, measure: bool = False) -> tuple[Problem, Goal, Objective, Intervention]:
    """One problem with a goal, an objective (target date four weeks after admission) and an intervention."""
    admitted = version.plan.episode.admitted_on or date(2026, 11, 2)
    actions.do_update_version_text(
        version, acting_user=user, strengths="Supportive sister; keeps a job.", patient_words="I want my life back."
    )
    problem = content_actions.do_add_problem(version, acting_user=user, statement="Depressed mood most days.")
    extra: dict[str, Any] = (
        {"measure_code": "phq9", "measure_comparator": "lt", "measure_target": 10} if measure else {}
    )
    goal = content_actions.do_add_goal(problem, acting_user=user, statement="Mood improves.", **extra)
    objective = content_actions.do_add_objective(
        goal,
        acting_user=user,
        statement="Uses two coping skills daily, by self-report, 5 of 7 days.",
        target_date=admitted + timedelta(days=28),
    )
    intervention = content_actions.do_add_intervention(
        objective, acting_user=user, modality="cbt_skills", frequency="3x weekly", responsible=user
    )
    return problem, goal, objective, intervention


def signed_by_clinician(patient: Patient, user: User) -> PlanVersion:
    version = draft(patient, user)
    fill(version, user)
    return actions.do_sign_version(version, acting_user=user)


def active(patient: Patient, user: User) -> PlanVersion:
    version = signed_by_clinician(patient, user)
    return actions.do_patient_sign(version, acting_user=user, name="Jordan Rivera", method="typed", agreed=True)
