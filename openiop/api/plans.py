"""Treatment plan API: read plans and versions, edit a draft's items, sign, co-sign, list and complete reviews.

Access as in the HTML views (plans.queries): VIEW_CLINICAL reads, EDIT_CLINICAL writes, 404 outside the user's
programs. Every write goes through plans.actions, so a signed version refuses changes here too; errors are problem
bodies naming the field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.api.schemas import ApiIn, HandOverIn, HandoverOut, Int32, SignerOut, api_field_errors, signer_for
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.roles import Cap
from openiop.intake.models import Diagnosis
from openiop.plans import actions, content_actions, queries
from openiop.plans.models import Goal, Intervention, Objective, PlanVersion, Problem, ProgressReview, TreatmentPlan
from openiop.programs.queries import get_program_for_user
from openiop.worklist import handover

router = Router(tags=["plans"])
KINDS: dict[str, Any] = {"problem": Problem, "goal": Goal, "objective": Objective, "intervention": Intervention}


class InterventionOut(Schema):
    id: UUID = Field(alias="public_id")
    lineage: UUID
    modality: str
    description: str
    frequency: str
    responsible: UUID | None = None

    @staticmethod
    def resolve_responsible(obj: Intervention) -> UUID | None:
        return obj.responsible.public_id if obj.responsible_id else None  # type: ignore[union-attr]


class ObjectiveOut(Schema):
    id: UUID = Field(alias="public_id")
    lineage: UUID
    statement: str
    target_date: date | None
    status: str
    interventions: list[InterventionOut]

    @staticmethod
    def resolve_interventions(obj: Objective) -> list[Any]:
        return list(obj.interventions.all())


class GoalOut(Schema):
    id: UUID = Field(alias="public_id")
    lineage: UUID
    statement: str
    measure_code: str
    measure_comparator: str
    measure_target: int | None
    objectives: list[ObjectiveOut]

    @staticmethod
    def resolve_objectives(obj: Goal) -> list[Any]:
        return list(obj.objectives.all())


class ProblemOut(Schema):
    id: UUID = Field(alias="public_id")
    lineage: UUID
    statement: str
    diagnosis: UUID | None = None
    goals: list[GoalOut]

    @staticmethod
    def resolve_diagnosis(obj: Problem) -> UUID | None:
        return obj.diagnosis.public_id if obj.diagnosis_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_goals(obj: Problem) -> list[Any]:
        return list(obj.goals.all())


class VersionSummary(Schema):
    id: UUID = Field(alias="public_id")
    number: int
    status: str
    reason: str
    clinician_signed_at: datetime | None
    cosigned_at: datetime | None
    patient_signed_at: datetime | None
    activated_at: datetime | None
    superseded_at: datetime | None


class VersionOut(VersionSummary):
    plan: UUID = Field(alias="plan.public_id")
    strengths: str
    barriers: str
    patient_words: str
    problems: list[ProblemOut]
    # A draft's open hand-over for signing (scope of practice), or null.
    handed_over: HandoverOut | None = None

    @staticmethod
    def resolve_problems(obj: PlanVersion) -> list[Any]:
        return list(obj.problems.all())

    @staticmethod
    def resolve_handed_over(obj: PlanVersion) -> Any:
        if obj.status != PlanVersion.Status.DRAFT:
            return None
        return handover.current_handover(actions.HANDOVER_KIND, obj.public_id)


class PlanOut(Schema):
    id: UUID = Field(alias="public_id")
    patient: UUID = Field(alias="patient.public_id")
    episode: UUID = Field(alias="episode.public_id")
    due_on: date
    next_review_on: date | None
    current_version: UUID | None = None
    versions: list[VersionSummary]

    @staticmethod
    def resolve_current_version(obj: TreatmentPlan) -> UUID | None:
        return obj.current_version.public_id if obj.current_version_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_versions(obj: TreatmentPlan) -> list[Any]:
        return queries.versions_of(obj)


class ReviewOut(Schema):
    id: UUID = Field(alias="public_id")
    trigger: str
    due_on: date
    held_on: date | None
    status: str
    outcome: str
    version_reviewed: UUID = Field(alias="version_reviewed.public_id")
    next_version: UUID | None = None

    @staticmethod
    def resolve_next_version(obj: ProgressReview) -> UUID | None:
        return obj.next_version.public_id if obj.next_version_id else None  # type: ignore[union-attr]


class ItemIn(ApiIn):
    """The fields of one problem, goal, objective or intervention; send those the kind has."""

    statement: str | None = None
    diagnosis: UUID | None = None
    measure_code: str | None = None
    measure_comparator: str | None = None
    measure_target: Int32 | None = None
    target_date: date | None = None
    status: str | None = None
    modality: str | None = None
    description: str | None = None
    frequency: str | None = None
    responsible: UUID | None = None


class TextIn(ApiIn):
    strengths: str | None = None
    barriers: str | None = None
    patient_words: str | None = None


class CompleteIn(ApiIn):
    outcome: str
    summary: str
    held_on: date | None = None


ALLOWED = {
    "problem": ("statement", "diagnosis"),
    "goal": ("statement", "measure_code", "measure_comparator", "measure_target"),
    "objective": ("statement", "target_date", "status"),
    "intervention": ("modality", "description", "frequency", "responsible"),
}
CHILD = {"version": "problem", "problem": "goal", "goal": "objective", "objective": "intervention"}


def _fields(kind: str, payload: ItemIn, version: PlanVersion) -> dict[str, Any]:
    given = payload.dict(exclude_unset=True)
    extra = set(given) - set(ALLOWED[kind])
    if extra:
        raise ValidationError({name: f"A {kind} has no {name}." for name in sorted(extra)})
    plan = version.plan
    if given.get("diagnosis") is not None:
        diagnosis = Diagnosis.objects.filter(public_id=given["diagnosis"]).select_related("assessment").first()
        if diagnosis is None:
            raise ValidationError({"diagnosis": "Unknown diagnosis."})
        given["diagnosis"] = diagnosis
    if given.get("responsible") is not None:
        person = User.objects.filter(public_id=given["responsible"], organization_id=plan.patient.organization_id)
        if not person.exists():
            raise ValidationError({"responsible": "Unknown staff member."})
        given["responsible"] = person.get()
    for text in ("statement", "measure_code", "measure_comparator", "description", "frequency", "modality"):
        if text in given and given[text] is None:
            given[text] = ""
    return given


def _version(user: User, public_id: UUID, cap: Cap = Cap.VIEW_CLINICAL) -> PlanVersion:
    return queries.get_version_for_user(user, public_id, cap)


@router.get("/plans/{plan_id}", response=PlanOut)
def get_plan(request: HttpRequest, plan_id: UUID) -> TreatmentPlan:
    user = request_user(request)
    plan = queries.get_plan_for_user(user, plan_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=plan.patient, obj=plan)
    return plan


@router.get("/plan-versions/{version_id}", response=VersionOut)
def get_version(request: HttpRequest, version_id: UUID) -> PlanVersion:
    user = request_user(request)
    version = _version(user, version_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=version.plan.patient, obj=version)
    return version


@router.patch("/plan-versions/{version_id}", response=VersionOut)
def update_text(request: HttpRequest, version_id: UUID, payload: TextIn) -> PlanVersion:
    user = request_user(request)
    version = _version(user, version_id, Cap.EDIT_CLINICAL)
    actions.do_update_version_text(version, acting_user=user, **payload.dict(exclude_unset=True))
    return _version(user, version_id)


@router.post("/plan-{parent}s/{parent_id}/items", response={201: dict})
def add_item(request: HttpRequest, parent: str, parent_id: UUID, payload: ItemIn) -> Any:
    """Add a child: a problem to a version, a goal to a problem, an objective to a goal, an intervention to an
    objective (``/plan-versions/{id}/items``, ``/plan-problems/{id}/items``, ...)."""
    user = request_user(request)
    kind = CHILD.get(parent)
    if kind is None:
        raise Http404
    if parent == "version":
        version = _version(user, parent_id, Cap.EDIT_CLINICAL)
        owner: Any = version
    else:
        owner = queries.get_item_for_user(user, KINDS[parent], parent_id)
        version = _version(user, content_actions.item_version(owner).public_id, Cap.EDIT_CLINICAL)
    add: Any = {
        "problem": content_actions.do_add_problem,
        "goal": content_actions.do_add_goal,
        "objective": content_actions.do_add_objective,
        "intervention": content_actions.do_add_intervention,
    }[kind]
    fields = _fields(kind, payload, version)
    if kind == "intervention":
        fields.setdefault("modality", "")
        fields.setdefault("frequency", "")
    else:
        fields.setdefault("statement", "")
    item = add(owner, acting_user=user, **fields)
    return Status(201, {"id": str(item.public_id), "kind": kind, "lineage": str(item.lineage)})


@router.patch("/plan-items/{kind}/{item_id}", response=VersionOut)
def edit_item(request: HttpRequest, kind: str, item_id: UUID, payload: ItemIn) -> PlanVersion:
    user = request_user(request)
    if kind not in KINDS:
        raise Http404
    item = queries.get_item_for_user(user, KINDS[kind], item_id)
    version = _version(user, content_actions.item_version(item).public_id, Cap.EDIT_CLINICAL)
    update: Any = {
        "problem": content_actions.do_update_problem,
        "goal": content_actions.do_update_goal,
        "objective": content_actions.do_update_objective,
        "intervention": content_actions.do_update_intervention,
    }[kind]
    update(item, acting_user=user, **_fields(kind, payload, version))
    return _version(user, version.public_id)


@router.delete("/plan-items/{kind}/{item_id}", response={204: None})
def remove_item(request: HttpRequest, kind: str, item_id: UUID) -> Any:
    user = request_user(request)
    if kind not in KINDS:
        raise Http404
    item = queries.get_item_for_user(user, KINDS[kind], item_id)
    _version(user, content_actions.item_version(item).public_id, Cap.EDIT_CLINICAL)
    content_actions.do_remove_item(item, acting_user=user)
    return Status(204, None)


@router.post("/plan-versions/{version_id}/sign", response=VersionOut)
def sign(request: HttpRequest, version_id: UUID) -> PlanVersion:
    user = request_user(request)
    actions.do_sign_version(_version(user, version_id, Cap.EDIT_CLINICAL), acting_user=user)
    return _version(user, version_id)


@router.get("/plan-versions/{version_id}/signers", response=list[SignerOut])
def signers(request: HttpRequest, version_id: UUID) -> list[User]:
    """Who may sign the version: the program's active staff within scope of practice."""
    user = request_user(request)
    return actions.version_signers(_version(user, version_id, Cap.EDIT_CLINICAL))


@router.post("/plan-versions/{version_id}/hand-over", response=VersionOut)
def hand_over(request: HttpRequest, version_id: UUID, payload: HandOverIn) -> PlanVersion:
    """Hand a draft to a clinician who may sign it: a work task for them, closed when they sign."""
    user = request_user(request)
    version = _version(user, version_id, Cap.EDIT_CLINICAL)
    try:
        actions.do_hand_over_version(version, acting_user=user, to=signer_for(user, payload.to))
    except ValidationError as exc:
        raise api_field_errors(exc, handed_to="to") from None
    return _version(user, version_id)


@router.post("/plan-versions/{version_id}/cosign", response=VersionOut)
def cosign(request: HttpRequest, version_id: UUID) -> PlanVersion:
    user = request_user(request)
    actions.do_cosign_version(_version(user, version_id, Cap.EDIT_CLINICAL), acting_user=user)
    return _version(user, version_id)


@router.get("/plans/{plan_id}/reviews", response=list[ReviewOut])
def list_reviews(request: HttpRequest, plan_id: UUID) -> Any:
    user = request_user(request)
    plan = queries.get_plan_for_user(user, plan_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=plan.patient, object_type="progressreview")
    return list(plan.reviews.select_related("version_reviewed", "next_version").order_by("due_on", "id"))


@router.post("/plan-reviews/{review_id}/complete", response=ReviewOut)
def complete_review(request: HttpRequest, review_id: UUID, payload: CompleteIn) -> ProgressReview:
    user = request_user(request)
    review = queries.get_review_for_user(user, review_id, Cap.EDIT_CLINICAL)
    actions.do_complete_review(review, acting_user=user, **payload.dict())
    return queries.get_review_for_user(user, review_id)


class PlanPolicyOut(Schema):
    """When a signed plan comes into force, the patient's signature deadline and the review interval of a program
    (its own, or the organization's defaults while ``is_default``)."""

    program: UUID = Field(alias="program.public_id")
    in_force_at: str
    patient_signature_due_days: int
    plan_review_interval_days: int
    is_default: bool

    @staticmethod
    def resolve_is_default(obj: Any) -> bool:
        return obj.pk is None


class PlanPolicyIn(ApiIn):
    in_force_at: str | None = None
    patient_signature_due_days: Int32 | None = None
    plan_review_interval_days: Int32 | None = None


@router.get("/programs/{program_id}/plan-policy", response=PlanPolicyOut, tags=["programs"])
def get_plan_policy(request: HttpRequest, program_id: UUID) -> Any:
    """Program admins (MANAGE_PROGRAMS) of the programs they configure."""
    program = get_program_for_user(request_user(request), program_id, Cap.MANAGE_PROGRAMS)
    return actions.policy_or_default(program)


@router.put("/programs/{program_id}/plan-policy", response=PlanPolicyOut, tags=["programs"])
def set_plan_policy(request: HttpRequest, program_id: UUID, payload: PlanPolicyIn) -> Any:
    """Change any of the three (a field left out is kept); audited as a configuration change."""
    user = request_user(request)
    program = get_program_for_user(user, program_id, Cap.MANAGE_PROGRAMS)
    fields = {name: value for name, value in payload.dict().items() if value is not None}
    actions.do_set_plan_policy(program, acting_user=user, **fields)
    return actions.policy_or_default(program)
