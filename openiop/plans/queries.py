"""Access-checked reads of treatment plans: the role first (403), then the user's programs (404 outside them).

A plan is scoped by its episode's program, so the plan of an episode in a substance-use program (42 CFR Part 2) is
visible only to that program's staff, even to colleagues who see the same patient through another program.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap, Role
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import chart_program_ids
from openiop.plans import policy
from openiop.plans.models import (
    Goal,
    Intervention,
    Objective,
    PlanVersion,
    Problem,
    ProgressReview,
    TreatmentPlan,
)

OPEN_VERSION = (PlanVersion.Status.DRAFT, PlanVersion.Status.AWAITING_COSIGN, PlanVersion.Status.AWAITING_PATIENT)


def awaiting_patient_q() -> Q:
    """Versions waiting for the patient to sign or decline, as a filter (``actions.awaits_patient``): signed by the
    clinician and not yet in force (patient-signature rule), or in force already (clinician-signature rule)."""
    V = PlanVersion.Status
    return (Q(status=V.AWAITING_PATIENT) | Q(status=V.ACTIVE, clinician_signed_at__isnull=False)) & Q(
        patient_signed_at__isnull=True, patient_declined_at__isnull=True
    )


def plans_for_user(user: User) -> QuerySet[TreatmentPlan]:
    if user.organization_id is None:
        return TreatmentPlan.objects.none()
    return TreatmentPlan.objects.filter(
        episode__program_id__in=program_ids_for(user), patient__organization_id=user.organization_id
    )


def with_content(qs: QuerySet[PlanVersion]) -> QuerySet[PlanVersion]:
    """A version with everything the plan page, the PDF and the diff show, in a fixed number of queries."""
    interventions = Intervention.objects.select_related("responsible").order_by("order", "id")
    objectives = Objective.objects.order_by("order", "id").prefetch_related(
        Prefetch("interventions", queryset=interventions)
    )
    goals = Goal.objects.order_by("order", "id").prefetch_related(Prefetch("objectives", queryset=objectives))
    problems = (
        Problem.objects.select_related("diagnosis")
        .order_by("order", "id")
        .prefetch_related(Prefetch("goals", queryset=goals))
    )
    return qs.select_related(
        "plan__patient", "plan__episode__program__site", "author", "cosigned_by", "review"
    ).prefetch_related(Prefetch("problems", queryset=problems))


def get_plan_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_CLINICAL) -> TreatmentPlan:
    require(user, cap)
    return get_object_or_404(
        plans_for_user(user).select_related("patient", "episode__program__site", "current_version"),
        public_id=public_id,
    )


def get_version_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_CLINICAL) -> PlanVersion:
    require(user, cap)
    return get_object_or_404(
        with_content(PlanVersion.objects.filter(plan__in=plans_for_user(user))), public_id=public_id
    )


def get_review_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_CLINICAL) -> ProgressReview:
    require(user, cap)
    return get_object_or_404(
        ProgressReview.objects.filter(plan__in=plans_for_user(user)).select_related(
            "plan__patient", "plan__episode__program__site", "version_reviewed", "reviewer", "next_version"
        ),
        public_id=public_id,
    )


def get_item_for_user(user: User, model: Any, public_id: UUID | str, cap: Cap = Cap.EDIT_CLINICAL) -> Any:
    """A problem, goal, objective or intervention of a plan in the user's programs."""
    require(user, cap)
    path = {
        Problem: "version__plan",
        Goal: "problem__version__plan",
        Objective: "goal__problem__version__plan",
        Intervention: "objective__goal__problem__version__plan",
    }[model]
    qs = model.objects.filter(**{f"{path}__in": plans_for_user(user)})
    return get_object_or_404(qs.select_related(path.replace("__plan", "")), public_id=public_id)


def versions_of(plan: TreatmentPlan) -> list[PlanVersion]:
    return list(plan.versions.select_related("author", "cosigned_by").order_by("-number"))


def episodes_for_plans(user: User, patient: Patient) -> list[EpisodeOfCare]:
    """The patient's admitted episodes in the user's programs (all under emergency access), open ones first (each
    may have a plan)."""
    episodes = EpisodeOfCare.objects.filter(
        patient=patient, program_id__in=chart_program_ids(user, patient), admitted_on__isnull=False
    ).select_related("program__site", "treatment_plan__current_version")
    return sorted(episodes, key=lambda e: (not e.is_open, -(e.admitted_on.toordinal() if e.admitted_on else 0)))


@dataclass(frozen=True)
class SignatureState:
    """Where a version stands between the clinician's signature and being in force, in words for the plan page
    and the notes' signing checks (docs/clinical-rules.md#treatment-plans-and-reviews)."""

    in_force: bool
    text: str
    patient_due_on: date | None = None


def signature_due_words(due_on: date | None, today: date) -> str:
    """ "(due 12 Dec)", or "(overdue: due 12 Dec)" once the day has passed; "" without a date."""
    if due_on is None:
        return ""
    day = f"{due_on.day} {due_on:%b}"
    return f"(overdue: due {day})" if today > due_on else f"(due {day})"


def signature_state(version: PlanVersion, today: date | None = None) -> SignatureState:
    V = PlanVersion.Status
    program = version.plan.episode.program
    due_on = policy.patient_signature_due_on(program, version.clinician_signed_at)
    due = signature_due_words(due_on, today or policy.local_today(program))
    if version.status == V.DRAFT:
        return SignatureState(False, "Draft: not signed, not in force")
    if version.status == V.AWAITING_COSIGN:
        return SignatureState(False, "Signed by the clinician; waiting for the supervisor's co-signature")
    if version.status == V.AWAITING_PATIENT:
        return SignatureState(
            False,
            f"Signed by clinician; waiting for the patient's signature {due} — in force once the patient signs",
            due_on,
        )
    if version.status == V.SUPERSEDED:
        return SignatureState(False, "Superseded by a later version")
    if version.patient_declined_at is not None:
        return SignatureState(True, "In force; the patient declined to sign (reason recorded)")
    if version.patient_signed_at is None and version.clinician_signed_at is not None:
        return SignatureState(
            True, f"In force since the clinician's signature; awaiting the patient's signature {due}", due_on
        )
    return SignatureState(True, "In force")


def plan_state_for_episode(episode: EpisodeOfCare) -> SignatureState | None:
    """The state of the episode's plan for the notes' signing checks: the version in force, else the one in
    progress; None without a plan or a version."""
    plan = TreatmentPlan.objects.filter(episode=episode).select_related("episode__program__site").first()
    if plan is None:
        return None
    version = (
        plan.versions.filter(status=PlanVersion.Status.ACTIVE).first()
        or plan.versions.exclude(status=PlanVersion.Status.SUPERSEDED).order_by("-number").first()
    )
    if version is None:
        return None
    version.plan = plan
    return signature_state(version)


@dataclass(frozen=True)
class PlanStatus:
    """What the badge says about one plan: the first plan's due date until a version is active, then the review."""

    state: str  # "overdue", "due_today", "due" or ""
    label: str
    due_on: date | None


def plan_status(plan: TreatmentPlan, today: date, next_review: ProgressReview | None = None) -> PlanStatus:
    if plan.current_version_id is None:
        waiting = plan.versions.filter(status=PlanVersion.Status.AWAITING_PATIENT).first()
        if waiting is not None:
            # Signed, but not in force until the patient signs: say so rather than "Plan due".
            due_on = policy.patient_signature_due_on(plan.episode.program, waiting.clinician_signed_at)
            state = policy.due_state(due_on, today) or "due"
            return PlanStatus(state, "Plan awaiting patient signature", due_on)
        state = policy.due_state(plan.due_on, today)
        words = {"overdue": "Plan overdue", "due_today": "Plan due today", "due": "Plan due"}[state]
        return PlanStatus(state, words, plan.due_on)
    if next_review is None:
        return PlanStatus("", "Plan in force", None)
    state = policy.due_state(next_review.due_on, today)
    words = {"overdue": "Review overdue", "due_today": "Review due today", "due": "Next review"}.get(state, "")
    return PlanStatus(state, words, next_review.due_on)


def next_due_review(plan: TreatmentPlan) -> ProgressReview | None:
    return plan.reviews.filter(status=ProgressReview.Status.DUE).order_by("due_on", "id").first()


def cosign_queue(user: User) -> QuerySet[PlanVersion]:
    """Versions waiting for this user's co-signature: their supervisees', or, for a director, those of authors
    without a supervisor in the director's programs."""
    require(user, Cap.EDIT_CLINICAL)
    mine = Q(author__supervisor=user)
    if user.role == Role.DIRECTOR:
        mine |= Q(author__supervisor__isnull=True)
    return (
        PlanVersion.objects.filter(plan__in=plans_for_user(user), status=PlanVersion.Status.AWAITING_COSIGN)
        .filter(mine)
        .exclude(author=user)
        .select_related("plan__patient", "plan__episode__program", "author")
        .order_by("clinician_signed_at")
    )


@dataclass(frozen=True)
class DueRow:
    plan: TreatmentPlan
    what: str  # "plan" or "review"
    due_on: date
    state: str
    review: ProgressReview | None = None


def due_rows(user: User, *, within_days: int = 7) -> list[DueRow]:
    """The work queue: first plans not yet in force and reviews still due, for open episodes in the user's
    programs, due within ``within_days`` or overdue; two queries whatever the number of rows."""
    require(user, Cap.VIEW_CLINICAL)
    plans = plans_for_user(user).filter(episode__status__in=["active", "on_hold"])
    today = timezone.localdate()
    horizon = date.fromordinal(today.toordinal() + within_days)
    rows: list[DueRow] = []
    first = plans.filter(current_version__isnull=True, due_on__lte=horizon).select_related(
        "patient", "episode__program__site"
    )
    for plan in first:
        local = policy.local_today(plan.episode.program)
        rows.append(DueRow(plan, "plan", plan.due_on, policy.due_state(plan.due_on, local)))
    reviews = ProgressReview.objects.filter(
        plan__in=plans, status=ProgressReview.Status.DUE, due_on__lte=horizon
    ).select_related("plan__patient", "plan__episode__program__site")
    for review in reviews:
        local = policy.local_today(review.plan.episode.program)
        rows.append(DueRow(review.plan, "review", review.due_on, policy.due_state(review.due_on, local), review))
    rows.sort(key=lambda r: (r.due_on, r.plan.patient.legal_last_name))
    return rows
