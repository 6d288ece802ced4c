"""Emergency access (break-the-glass) API: request a grant by exact MRN or name and birth date, list grants to
review, sign one off. The rules are ``patients.emergency``'s: requesting needs VIEW_PATIENTS and
REQUEST_EMERGENCY_ACCESS, reviewing REVIEW_EMERGENCY_ACCESS (403 otherwise); a grant opens the patient to the
existing read endpoints (``GET /patients/<id>`` ...) until it expires, and every such read is audited as
EMERGENCY_VIEWED."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.api.problems import Conflict
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import require
from openiop.core.roles import Cap
from openiop.patients import emergency
from openiop.patients.models import EmergencyAccessGrant

router = Router(tags=["emergency access"])
MAX_LIMIT = 200
STATUSES = ("open", "reviewed", "all")


class GrantIn(Schema):
    mrn: str = ""
    last_name: str = ""
    first_name: str = ""
    date_of_birth: date | None = None
    reason_category: str
    reason: str
    part2_recipient_name: str = ""
    part2_recipient_affiliation: str = ""
    part2_emergency_nature: str = ""


class GrantOut(Schema):
    id: UUID = Field(alias="public_id")
    patient: UUID = Field(alias="patient.public_id")
    user: UUID = Field(alias="user.public_id")
    granted_at: datetime
    expires_at: datetime
    reason_category: str
    part2_basis: str
    reviewed_at: datetime | None
    review_outcome: str


class GrantReviewOut(GrantOut):
    """What a reviewer reads: the stated reason and the Part 2 documentation too."""

    patient_name: str = Field(alias="patient.display_name")
    user_name: str = Field(alias="user.display_name")
    reason: str
    part2_recipient_name: str
    part2_recipient_affiliation: str
    part2_emergency_nature: str
    review_note: str


class GrantPage(Schema):
    count: int
    results: list[GrantReviewOut]


class ReviewFilterIn(Schema):
    status: str = "open"
    limit: int = 50
    offset: int = 0


class ReviewIn(Schema):
    outcome: str
    note: str = ""


@router.post("/emergency-access", response={201: GrantOut})
def request_emergency_access(request: HttpRequest, payload: GrantIn) -> Any:
    user = request_user(request)
    require(user, Cap.VIEW_PATIENTS, Cap.REQUEST_EMERGENCY_ACCESS)
    if not payload.mrn.strip() and not (
        payload.last_name.strip() and payload.first_name.strip() and payload.date_of_birth
    ):
        raise ValidationError({"mrn": "Give the MRN, or last_name, first_name and date_of_birth."})
    patient = emergency.find_patient(
        user,
        mrn=payload.mrn,
        last=payload.last_name,
        first=payload.first_name,
        dob=payload.date_of_birth,
    )
    audit.record(
        action=AuditAction.PATIENTS_SEARCHED, acting_user=user, patient=patient, object_type="emergency_lookup"
    )
    if patient is None:
        raise Http404
    if emergency.in_users_programs(user, patient):
        raise Conflict("In your programs", "This patient is in your programs: no emergency access is needed.")
    grant = emergency.do_grant_emergency_access(
        patient,
        acting_user=user,
        reason_category=payload.reason_category,
        reason=payload.reason,
        part2_recipient_name=payload.part2_recipient_name,
        part2_recipient_affiliation=payload.part2_recipient_affiliation,
        part2_emergency_nature=payload.part2_emergency_nature,
    )
    return Status(201, grant)


@router.get("/emergency-access/reviews", response=GrantPage)
def list_emergency_access(request: HttpRequest, filters: Query[ReviewFilterIn]) -> dict[str, Any]:
    user = request_user(request)
    require(user, Cap.REVIEW_EMERGENCY_ACCESS)
    if filters.status not in STATUSES:
        raise ValidationError({"status": f"Use one of: {', '.join(STATUSES)}."})
    if not 1 <= filters.limit <= MAX_LIMIT:
        raise ValidationError({"limit": f"Use a limit from 1 to {MAX_LIMIT}."})
    if filters.offset < 0:
        raise ValidationError({"offset": "Offset cannot be negative."})
    reviewed = {"open": False, "reviewed": True}.get(filters.status)
    qs = emergency.grants_for_reviewer(user, reviewed=reviewed).order_by("-granted_at")
    results = list(qs[filters.offset : filters.offset + filters.limit])
    if results:
        audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="emergencyaccessgrant")
    return {"count": qs.count(), "results": results}


@router.post("/emergency-access/{grant_id}/review", response=GrantReviewOut)
def review_emergency_access(request: HttpRequest, grant_id: UUID, payload: ReviewIn) -> EmergencyAccessGrant:
    user = request_user(request)
    grant = emergency.get_grant_for_reviewer(user, grant_id)
    if grant.reviewed_at is not None:
        raise Conflict("Already reviewed", "This emergency access was already reviewed.")
    return emergency.do_review_emergency_access(grant, acting_user=user, outcome=payload.outcome, note=payload.note)
