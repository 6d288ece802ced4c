"""The demo clinic's treatment plans: an active plan for most active episodes (problems linked to the intake
diagnosis where there is one, goals aimed at a PHQ-9 or GAD-7 score for some, objectives, interventions with the
clinic's staff), one plan overdue with only a draft, one written by the supervised intern and waiting for the
co-signature, and one already reviewed with "modify plan" and in force as version 2, so the diff page has
something to show. Built through the real actions, deterministic, and idempotent: a clinic that already has a
plan version is left alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction

from openiop.accounts.models import User
from openiop.core.roles import Cap
from openiop.intake.models import Diagnosis
from openiop.patients.models import EpisodeOfCare
from openiop.plans import actions, content_actions, policy
from openiop.plans.models import Objective, PlanVersion
from openiop.programs.models import Organization, Program


@dataclass(frozen=True)
class DemoProblem:
    problem: str
    goal: str
    objectives: tuple[tuple[str, str, str], ...]  # statement, modality, frequency
    measure: tuple[str, str, int | None] | None = None  # instrument code, comparator, target


MOOD = DemoProblem(
    "Depressed mood most days, withdrawing from family and work.",
    "Mood lifts enough to return to work and family routines.",
    (
        ("Uses two coping skills from group on at least 5 of 7 days, by diary card.", "cbt_skills", "3x weekly"),
        ("Schedules and completes one pleasant activity a day, by activity log.", "individual_counseling", "weekly"),
    ),
    ("phq9", "lt", 10),
)
ANXIETY = DemoProblem(
    "Worry and panic symptoms that keep the patient from driving and shopping alone.",
    "Worry no longer limits daily errands.",
    (("Practises paced breathing twice a day and drives to the store alone twice a week.", "dbt_skills", "3x weekly"),),
    ("gad7", "lt", 8),
)
COPING = DemoProblem(
    "Few ways to manage stress without shutting down.",
    "Builds a reliable set of coping skills.",
    (("Names three warning signs and one response to each, in the safety plan.", "psychoeducation", "2x weekly"),),
)
ALCOHOL = DemoProblem(
    "Daily drinking despite health and work consequences.",
    "Stays abstinent from alcohol and builds a recovery network.",
    (
        ("Attends two community support meetings a week, by attendance slips.", "relapse_prevention", "3x weekly"),
        ("Negative breath tests at every group session.", "case_management", "weekly"),
    ),
)
STRENGTHS = (
    "Supportive sister nearby; has kept the same job for six years; likes to walk.",
    "Motivated for change after a hard year; good insight; steady housing.",
    "Strong faith community; sense of humour; cares for a dog every day.",
)
PATIENT_WORDS = ("I want to feel like myself again.", "I want my kids to trust me again.", "I want to sleep at night.")


def _problems_for(program: Program, index: int) -> tuple[DemoProblem, ...]:
    if program.is_substance_use:
        return (ALCOHOL,)
    return ((MOOD,), (MOOD, ANXIETY), (COPING,))[index % 3]


def _staff(program: Program) -> list[User]:
    """The program's clinical writers, by username (the order the interventions name them)."""
    users = User.objects.filter(memberships__program=program, is_active=True).order_by("username").distinct()
    return [u for u in users if u.can(Cap.EDIT_CLINICAL)]


def _author(episode: EpisodeOfCare, staff: list[User]) -> User | None:
    """The primary clinician, or for one under supervision their supervisor (the intern writes one plan only)."""
    primary = episode.primary_clinician
    if primary is not None and primary in staff:
        if actions.needs_cosignature(primary) and primary.supervisor in staff:
            return primary.supervisor
        if not actions.needs_cosignature(primary):
            return primary
    unsupervised = [u for u in staff if not actions.needs_cosignature(u)]
    return unsupervised[0] if unsupervised else None


def _supervised(episode: EpisodeOfCare) -> bool:
    return episode.primary_clinician is not None and actions.needs_cosignature(episode.primary_clinician)


def _fill(version: PlanVersion, author: User, staff: list[User], index: int, today: date) -> None:
    episode = version.plan.episode
    diagnosis = (
        Diagnosis.objects.filter(assessment__patient_id=episode.patient_id, is_active=True)
        .order_by("-is_primary", "pk")
        .first()
    )
    actions.do_update_version_text(
        version,
        acting_user=author,
        strengths=STRENGTHS[index % len(STRENGTHS)],
        barriers="Transport on group days depends on a friend." if index % 2 else "",
        patient_words=PATIENT_WORDS[index % len(PATIENT_WORDS)],
    )
    for n, spec in enumerate(_problems_for(episode.program, index)):
        problem = content_actions.do_add_problem(
            version, acting_user=author, statement=spec.problem, diagnosis=diagnosis if n == 0 else None
        )
        code, comparator, target = spec.measure or ("", "", None)
        goal = content_actions.do_add_goal(
            problem,
            acting_user=author,
            statement=spec.goal,
            measure_code=code,
            measure_comparator=comparator,
            measure_target=target,
        )
        for k, (statement, modality, frequency) in enumerate(spec.objectives):
            objective = content_actions.do_add_objective(
                goal, acting_user=author, statement=statement, target_date=today + timedelta(days=28 + 14 * k)
            )
            content_actions.do_add_intervention(
                objective,
                acting_user=author,
                modality=modality,
                frequency=frequency,
                responsible=staff[(index + k) % len(staff)],
            )


def _activate(version: PlanVersion, author: User, name: str, index: int) -> PlanVersion:
    version = actions.do_sign_version(version, acting_user=author)
    method = ("typed", "checkbox")[index % 2]
    return actions.do_patient_sign(version, acting_user=author, name=name, method=method, agreed=True)


def _review_and_revise(version: PlanVersion, author: User, today: date) -> None:
    """Hold the scheduled review early with "modify plan": the first objective is met and a harder one replaces it."""
    plan = version.plan
    review = plan.reviews.get(status="due", trigger="scheduled")
    first = Objective.objects.filter(goal__problem__version=version).order_by("goal__problem__order", "order").first()
    if first is not None:
        content_actions.do_set_objective_status(first, acting_user=author, status=Objective.Status.MET)
    review = actions.do_complete_review(
        review,
        acting_user=author,
        outcome="modify_plan",
        held_on=today,
        summary="Attending every group; PHQ-9 falling. First objective met; raise the bar on activity.",
    )
    draft = review.next_version
    if draft is None:  # the episode closed meanwhile; nothing to revise
        return
    objective = Objective.objects.filter(goal__problem__version=draft).order_by("goal__problem__order", "order")[0]
    content_actions.do_update_objective(
        objective,
        acting_user=author,
        statement="Uses two coping skills daily and teaches one to a family member, by diary card.",
        target_date=today + timedelta(days=42),
        status=Objective.Status.IN_PROGRESS,
    )
    actions.do_update_version_text(draft, acting_user=author, barriers="Evening shifts start next month.")
    _activate(draft, author, plan.patient.display_name, 0)


def ensure_demo_plans(organization: Organization, today: date) -> int:
    """Build the plans once; returns how many plans were written (0 when the clinic already has plan versions)."""
    if PlanVersion.objects.filter(plan__patient__organization=organization).exists():
        return 0
    return _build(organization, today)


@transaction.atomic
def _build(organization: Organization, today: date) -> int:
    episodes = list(
        EpisodeOfCare.objects.filter(
            patient__organization=organization, status=EpisodeOfCare.Status.ACTIVE, admitted_on__isnull=False
        )
        .select_related("program__site", "patient", "primary_clinician__supervisor")
        .order_by("admitted_on", "patient__mrn")
    )
    if not episodes:
        return 0
    # The latest admission keeps only its plan row: the chart shows it due, with the days left.
    actions.do_ensure_plan(episodes[-1], acting_user=None)
    programs = {e.program_id: e.program for e in episodes}
    staff_by_program = {pk: _staff(program) for pk, program in programs.items()}
    # The special cases come from the latest admissions: the notes demo writes notes against the plans of the
    # earliest ones, so those must be in force.
    later = [e for e in reversed(episodes[:-1]) if not e.program.is_substance_use]
    overdue = next((e for e in later if policy.plan_due_on(e) < today and not _supervised(e)), None)
    cosign = next((e for e in later if _supervised(e) and e.primary_clinician in staff_by_program[e.program_id]), None)
    made = 0
    revised = False
    for index, episode in enumerate(episodes[:-1]):
        staff = staff_by_program[episode.program_id]
        author = _author(episode, staff)
        if author is None or not staff:
            continue
        plan, _ = actions.do_ensure_plan(episode, acting_user=None)
        if episode == overdue:
            # Past its due days with only a half-written draft: the due queue's overdue row.
            version = actions.do_start_version(plan, acting_user=author)
            actions.do_update_version_text(version, acting_user=author, strengths=STRENGTHS[0])
            content_actions.do_add_problem(version, acting_user=author, statement=MOOD.problem)
        elif episode == cosign and episode.primary_clinician is not None:
            version = actions.do_start_version(plan, acting_user=episode.primary_clinician)
            _fill(version, episode.primary_clinician, staff, index, today)
            actions.do_sign_version(version, acting_user=episode.primary_clinician)
        else:
            version = actions.do_start_version(plan, acting_user=author)
            _fill(version, author, staff, index, today)
            version = _activate(version, author, episode.patient.display_name, index)
            if not revised and not episode.program.is_substance_use and index % 3 == 0:
                _review_and_revise(version, author, today)
                revised = True
        made += 1
    return made
