"""Factories for the notes tests: an active treatment plan with objectives, a group session with attendance.

The plan rows are built directly (as ``scheduling.testing`` builds sessions): a note only needs a version in force
and its objectives, and the plans app's own tests cover how a version becomes active.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from openiop.accounts.models import User
from openiop.attendance.actions import do_check_in
from openiop.intake.actions import do_add_diagnosis, do_start_assessment
from openiop.intake.models import Diagnosis
from openiop.patients.models import EpisodeOfCare
from openiop.plans.models import Goal, Objective, PlanVersion, Problem, TreatmentPlan
from openiop.programs.models import Program
from openiop.scheduling.models import Session, SessionType
from openiop.testing.scheduling import admit, make_booking, make_session, make_session_type


def active_plan(episode: EpisodeOfCare, author: User, objectives: int = 2) -> list[Objective]:
    """An active plan version for the episode with one problem, one goal and ``objectives`` objectives."""
    plan = TreatmentPlan.objects.create(episode=episode, patient=episode.patient, due_on=timezone.localdate())
    version = PlanVersion.objects.create(
        plan=plan, number=1, status=PlanVersion.Status.ACTIVE, author=author, activated_at=timezone.now()
    )
    TreatmentPlan.objects.filter(pk=plan.pk).update(current_version=version)
    problem = Problem.objects.create(version=version, statement="Low mood most days")
    goal = Goal.objects.create(problem=problem, statement="Feel well enough to return to work")
    return [
        Objective.objects.create(goal=goal, order=i, statement=f"Use one coping skill daily ({i + 1})")
        for i in range(objectives)
    ]


DIAGNOSES = (("F33.1", "Major depressive disorder, recurrent, moderate"), ("F41.1", "Generalized anxiety disorder"),
             ("F10.20", "Alcohol use disorder, moderate"))  # fmt: skip


def diagnose(episode: EpisodeOfCare, user: User, *codes: str) -> list[Diagnosis]:
    """An intake assessment of the episode naming these diagnoses (the first primary), through the real actions."""
    assessment = do_start_assessment(episode.patient, acting_user=user, program=episode.program, episode=episode)
    words = dict(DIAGNOSES)
    return [
        do_add_diagnosis(assessment, acting_user=user, code=code, description=words.get(code, code), is_primary=i == 0)
        for i, code in enumerate(codes or ("F33.1",))
    ]


def group_session(
    program: Program, *, days_ago: int = 1, facilitators: tuple[User, ...] = (), **fields: Any
) -> Session:
    """A 90-minute process group that ended ``days_ago`` days ago."""
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(days=days_ago, hours=2)
    kind = make_session_type(program, "Process group", kind=SessionType.Kind.PROCESS_GROUP)
    return make_session(program, start, minutes=90, session_type=kind, facilitators=facilitators, capacity=16, **fields)


def individual_session(program: Program, *, days_ago: int = 1, facilitators: tuple[User, ...] = ()) -> Session:
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(days=days_ago, hours=2)
    kind = make_session_type(
        program,
        "Individual counseling",
        kind=SessionType.Kind.INDIVIDUAL,
        service_kind=SessionType.ServiceKind.INDIVIDUAL_PSYCHOTHERAPY,
    )
    return make_session(program, start, minutes=50, session_type=kind, facilitators=facilitators, capacity=1)


FIRST_NAMES = ["Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Indigo", "Jules", "Kendall",
               "Logan", "Marlowe"]  # fmt: skip
LAST_NAMES = ["Abbott", "Barros", "Castillo", "Dunmore", "Ellery", "Fairweather", "Galloway", "Hollis", "Ingram",
              "Jacobsen", "Kowalczyk", "Lindqvist"]  # fmt: skip


def attend(session: Session, episode: EpisodeOfCare, user: User, status: str = "present", **fields: Any) -> None:
    make_booking(session, episode.patient, episode=episode)
    do_check_in(session, episode.patient, acting_user=user, status=status, **fields)


def participants(clinic: Any, session: Session, count: int, *, author: User | None = None) -> list[EpisodeOfCare]:
    """``count`` people admitted, each with an active plan, checked in as present and engaged."""
    author = author or clinic.clinician
    episodes = []
    for i in range(count):
        episode = admit(
            clinic,
            FIRST_NAMES[i],
            program=session.program,
            legal_last_name=LAST_NAMES[i],
            preferred_name="",
            admitted_days_ago=20,
        )
        active_plan(episode, author)
        diagnose(episode, author, DIAGNOSES[i % len(DIAGNOSES)][0])
        attend(session, episode, clinic.frontdesk, participation="engaged")
        episodes.append(episode)
    return episodes
