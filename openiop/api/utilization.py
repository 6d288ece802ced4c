"""Utilization API: payer authorizations with their units used and remaining (live), flags and reviews. Access as on
the pages: VIEW_BILLING to read, MANAGE_BILLING to write (403), then the user's programs (404, or a 422 naming the
field for an id in a body)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.api.schemas import MAX_OFFSET, ApiIn
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for
from openiop.core.roles import Cap
from openiop.patients.models import Coverage
from openiop.programs.models import Program
from openiop.utilization import actions, flags, queries, units
from openiop.utilization.models import Authorization

router = Router(tags=["utilization"])
MAX_LIMIT = 200


class ReviewOut(Schema):
    id: UUID = Field(alias="public_id")
    kind: str
    requested_on: date
    decided_on: date | None
    outcome: str
    units_granted: int | None
    new_end_date: date | None
    level_of_care: str
    reviewer: str
    reference: str
    notes: str


class AuthorizationOut(Schema):
    id: UUID = Field(alias="public_id")
    episode: UUID = Field(alias="episode.public_id")
    patient: UUID = Field(alias="episode.patient.public_id")
    program: UUID = Field(alias="episode.program.public_id")
    coverage: UUID = Field(alias="coverage.public_id")
    payer_name: str = Field(alias="coverage.payer_name")
    number: str
    level_of_care: str
    status: str
    start_date: date
    end_date: date
    unit_kind: str
    units_authorized: int
    units_used: int = Field(alias="used")
    units_remaining: int = Field(alias="remaining")
    review_due_on: date | None
    review_at_units_left: int | None
    next_review_on: date | None = None
    expired: bool = False
    flags: list[str] = []
    notes: str

    @staticmethod
    def resolve_next_review_on(obj: Authorization) -> date | None:
        return obj.flags.review_on  # type: ignore[attr-defined]

    @staticmethod
    def resolve_expired(obj: Authorization) -> bool:
        return bool(obj.flags.expired)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_flags(obj: Authorization) -> list[str]:
        return list(obj.flags.codes)  # type: ignore[attr-defined]


class AuthorizationDetailOut(AuthorizationOut):
    reviews: list[ReviewOut] = []

    @staticmethod
    def resolve_reviews(obj: Authorization) -> list[Any]:
        return list(obj.reviews.order_by("-requested_on", "-created_at"))


class AuthorizationPage(Schema):
    count: int
    results: list[AuthorizationOut]


class AuthorizationFilter(ApiIn):
    program: UUID | None = None
    episode: UUID | None = None
    flag: str = ""
    status: str = ""
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class AuthorizationPatch(ApiIn):
    coverage: UUID | None = None
    number: str = Field("", max_length=60)
    level_of_care: str = Field("", max_length=20)
    status: str = Field("", max_length=10)
    start_date: date | None = None
    end_date: date | None = None
    unit_kind: str = Field("", max_length=10)
    units_authorized: int | None = Field(None, ge=0, le=1000)
    review_due_on: date | None = None
    review_at_units_left: int | None = Field(None, ge=0, le=100)
    notes: str = Field("", max_length=2000)


class AuthorizationIn(AuthorizationPatch):
    episode: UUID
    coverage: UUID
    level_of_care: str = Field(min_length=1, max_length=20)
    status: str = Field("requested", max_length=10)
    start_date: date
    end_date: date
    unit_kind: str = Field("days", max_length=10)
    units_authorized: int = Field(ge=0, le=1000)


class ReviewIn(ApiIn):
    kind: str = Field(max_length=12)
    requested_on: date
    outcome: str = Field("pending", max_length=14)
    decided_on: date | None = None
    units_granted: int | None = Field(None, ge=0, le=1000)
    new_end_date: date | None = None
    next_review_on: date | None = None
    level_of_care: str = Field("", max_length=20)
    reviewer: str = Field("", max_length=120)
    reference: str = Field("", max_length=60)
    notes: str = Field("", max_length=2000)


class DecisionIn(ApiIn):
    outcome: str = Field(max_length=14)
    decided_on: date
    units_granted: int | None = Field(None, ge=0, le=1000)
    new_end_date: date | None = None
    next_review_on: date | None = None
    level_of_care: str = Field("", max_length=20)
    reviewer: str = Field("", max_length=120)
    reference: str = Field("", max_length=60)


def _shown(user: User, auth: Authorization) -> Authorization:
    (fresh,) = queries.with_flags([units.refreshed(auth)])
    return fresh


def _coverage(user: User, public_id: UUID) -> Coverage:
    """The coverage named in a body: unknown (or another organization's) and another patient's are both a 422
    naming ``coverage``; the action says which."""
    coverage = Coverage.objects.filter(public_id=public_id, patient__organization=user.organization).first()
    if user.organization_id is None or coverage is None:
        raise ValidationError({"coverage": "Unknown coverage."})
    return coverage


@router.get("/authorizations", response=AuthorizationPage)
def list_authorizations(request: HttpRequest, filters: Query[AuthorizationFilter]) -> dict[str, Any]:
    """The user's programs' authorizations (requested and approved unless ``status`` says otherwise: one status or
    ``all``), by end date; ``flag`` (expiring, units_low, over, review_due) keeps the approved ones with it."""
    user = request_user(request)
    queries.authorizations_for_user(user)  # the role first: 403
    if filters.flag and filters.flag not in flags.AUTHORIZATION_FLAGS:
        raise ValidationError({"flag": f"Use one of: {', '.join(flags.AUTHORIZATION_FLAGS)}."})
    statuses = [*Authorization.Status.values, "all"]
    if filters.status and filters.status not in statuses:
        raise ValidationError({"status": f"Use one of: {', '.join(statuses)}."})
    if not 1 <= filters.limit <= MAX_LIMIT:
        raise ValidationError({"limit": f"Use a limit from 1 to {MAX_LIMIT}."})
    if filters.offset < 0:
        raise ValidationError({"offset": "Offset cannot be negative."})
    program = episode = None
    if filters.program is not None:
        program = Program.objects.filter(pk__in=program_ids_for(user), public_id=filters.program).first()
        if program is None:
            raise ValidationError({"program": "Unknown program, or not one of yours."})
    if filters.episode is not None:
        episode = queries.episodes_in_programs(user).filter(public_id=filters.episode).first()
        if episode is None:
            raise ValidationError({"episode": "Unknown episode, or not in one of your programs."})
    found = queries.list_authorizations(
        user, queries.ListFilter(program=program, episode=episode, flag=filters.flag, status=filters.status)
    )
    results = found[filters.offset : filters.offset + filters.limit]
    if results:
        audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="authorization")
    return {"count": len(found), "results": results}


@router.get("/authorizations/{authorization_id}", response=AuthorizationDetailOut)
def get_authorization(request: HttpRequest, authorization_id: UUID) -> Authorization:
    user = request_user(request)
    auth = queries.get_authorization_for_user(user, authorization_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=auth.episode.patient, obj=auth)
    return _shown(user, auth)


@router.post("/authorizations", response={201: AuthorizationDetailOut})
def create_authorization(request: HttpRequest, payload: AuthorizationIn) -> Any:
    """A new authorization of an episode in one of the user's programs (MANAGE_BILLING)."""
    user = request_user(request)
    queries.authorizations_for_user(user, Cap.MANAGE_BILLING)  # the role first: 403
    episode = queries.episodes_in_programs(user).filter(public_id=payload.episode).first()
    if episode is None:
        raise ValidationError({"episode": "Unknown episode, or not in one of your programs."})
    data = payload.dict(exclude={"episode"})
    data["coverage"] = _coverage(user, payload.coverage)
    auth = actions.do_create_authorization(acting_user=user, episode=episode, **data)
    return Status(201, _shown(user, auth))


@router.patch("/authorizations/{authorization_id}", response=AuthorizationDetailOut)
def update_authorization(request: HttpRequest, authorization_id: UUID, payload: AuthorizationPatch) -> Authorization:
    """Change the fields sent (a field left out is kept)."""
    user = request_user(request)
    auth = queries.get_authorization_for_user(user, authorization_id, Cap.MANAGE_BILLING)
    data = payload.dict(exclude_unset=True)
    if data.get("coverage") is not None:
        data["coverage"] = _coverage(user, data["coverage"])
    actions.do_update_authorization(auth, acting_user=user, **data)
    return _shown(user, auth)


@router.post("/authorizations/{authorization_id}/reviews", response={201: AuthorizationDetailOut})
def add_review(request: HttpRequest, authorization_id: UUID, payload: ReviewIn) -> Any:
    """Record a review; a decided approval or extension changes the authorization in the same transaction. Answers
    with the authorization as it is now, its reviews included."""
    user = request_user(request)
    auth = queries.get_authorization_for_user(user, authorization_id, Cap.MANAGE_BILLING)
    data = payload.dict()
    next_review_on = data.pop("next_review_on")
    actions.do_add_review(auth, acting_user=user, next_review_on=next_review_on, **data)
    return Status(201, _shown(user, auth))


@router.post("/utilization-reviews/{review_id}/decision", response=AuthorizationDetailOut)
def decide_review(request: HttpRequest, review_id: UUID, payload: DecisionIn) -> Authorization:
    """The payer's answer to a pending review (422 naming ``outcome`` once decided); answers with the authorization
    as the decision left it."""
    user = request_user(request)
    review = queries.get_review_for_user(user, review_id)
    data = payload.dict()
    next_review_on = data.pop("next_review_on")
    actions.do_decide_review(review, acting_user=user, next_review_on=next_review_on, **data)
    return _shown(user, review.authorization)
