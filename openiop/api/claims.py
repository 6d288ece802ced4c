"""Claims API: list and read claims, build a period's claims, export ready claims as a validated 837 file, import a
999 or 277CA, read an X12 file.

Access as on the pages (claims.queries): VIEW_BILLING reads (clinicians 403: they never see money), MANAGE_BILLING
writes, 404 outside the user's organization and programs. A file pyx12 refuses is a 422 naming the segment, and
nothing is stored; an acknowledgement already imported is a 422 naming ``content``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.api.problems import problem
from openiop.api.schemas import ApiIn
from openiop.claims import actions, queries
from openiop.claims.models import Claim, X12File
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.programs.models import Program

router = Router(tags=["claims"])

LIST_LIMIT = 500


class ClaimProblemOut(Schema):
    field: str
    message: str


class ClaimLineOut(Schema):
    line_number: int
    service_date: date
    revenue_code: str
    procedure_code: str
    modifiers: list[str]
    tier: str
    unit_basis: str
    units: Decimal
    charge: Decimal


class ClaimOut(Schema):
    id: UUID = Field(alias="public_id")
    control_number: str
    patient: UUID = Field(alias="patient.public_id")
    episode: UUID = Field(alias="episode.public_id")
    payer: UUID = Field(alias="payer.public_id")
    payer_name: str = Field(alias="payer.name")
    program: UUID = Field(alias="program.public_id")
    claim_type: str
    frequency: str
    replaces: UUID | None = Field(default=None, alias="replaces.public_id")
    status: str
    status_reason: str
    period_start: date
    period_end: date
    type_of_bill: str
    place_of_service: str
    diagnoses: list[str]
    condition_codes: list[str]
    authorization_number: str
    total_charge: Decimal
    payer_claim_number: str
    problems: list[ClaimProblemOut]


class ClaimDetailOut(ClaimOut):
    lines: list[ClaimLineOut]

    @staticmethod
    def resolve_lines(obj: Claim) -> list[Any]:
        return list(obj.lines.all())


class ClaimQuery(ApiIn):
    status: str = ""
    payer: UUID | None = None
    date_from: date | None = None
    date_to: date | None = None


class ClaimBuildIn(ApiIn):
    program: UUID
    payer: UUID
    period_start: date
    period_end: date


class ClaimBuildOut(Schema):
    created: list[ClaimOut]
    ready: int
    skipped: list[str]


class ClaimExportIn(ApiIn):
    claims: list[UUID] = Field(..., min_length=1, max_length=5000)


class X12FileOut(Schema):
    id: UUID = Field(alias="public_id")
    kind: str
    direction: str
    interchange_control_number: int | None
    group_control_number: int | None
    summary: str
    sha256: str
    created_at: datetime
    claims: list[UUID]


class X12FileContentOut(X12FileOut):
    content: str


class X12ImportIn(ApiIn):
    content: str = Field(..., max_length=5_000_000)


def _file_out(file: X12File) -> dict[str, Any]:
    return {
        "public_id": file.public_id,
        "kind": file.kind,
        "direction": file.direction,
        "interchange_control_number": file.interchange_control_number,
        "group_control_number": file.group_control_number,
        "summary": file.summary,
        "sha256": file.sha256,
        "created_at": file.created_at,
        "claims": [c.public_id for c in file.claims.all()],
    }


@router.get("/claims", response=list[ClaimOut])
def list_claims(request: HttpRequest, q: Query[ClaimQuery]) -> list[Claim]:
    user = request_user(request)
    if q.status and q.status not in Claim.Status.values:
        raise ValidationError({"status": f"One of: {', '.join(Claim.Status.values)}."})
    payer = queries.get_payer_for_user(user, q.payer) if q.payer else None
    rows = queries.list_claims(user, queries.ClaimFilter(q.status, payer, None, q.date_from, q.date_to))
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="claims")
    return list(rows.select_related("episode", "replaces")[:LIST_LIMIT])


def _program(user: Any, public_id: UUID) -> Program:
    try:
        return Program.objects.select_related("site__organization").get(
            public_id=public_id, pk__in=program_ids_for(user)
        )
    except Program.DoesNotExist:
        raise ValidationError({"program": "Not one of your programs."}) from None


@router.post("/claims/build", response={201: ClaimBuildOut})
def build_claims(request: HttpRequest, payload: ClaimBuildIn) -> Any:
    user = request_user(request)
    require(user, Cap.MANAGE_BILLING)
    program = _program(user, payload.program)
    try:
        payer = queries.get_payer_for_user(user, payload.payer)
    except Http404:
        raise ValidationError({"payer": "Not one of your organization's payers."}) from None
    result = actions.do_build_claims(
        acting_user=user, program=program, payer=payer, start=payload.period_start, end=payload.period_end
    )
    return Status(201, {"created": result.created, "ready": result.ready, "skipped": result.skipped})


@router.post("/claims/export", response={201: X12FileOut})
def export_claims(request: HttpRequest, payload: ClaimExportIn) -> Any:
    user = request_user(request)
    require(user, Cap.MANAGE_BILLING)
    if user.organization is None:
        raise ValidationError({"claims": "No organization."})
    claims = list(queries.claims_for_user(user).filter(public_id__in=payload.claims))
    if len(claims) != len(set(payload.claims)):
        raise ValidationError({"claims": "A claim is not one of yours."})
    try:
        exported = actions.do_export_claims(claims, acting_user=user, organization=user.organization)
    except actions.ExportBlocked as blocked:
        errors = [{"field": "claims", "message": p} for p in blocked.problems]
        return problem(422, "The file failed validation", "; ".join(blocked.problems[:10]), errors=errors)
    return Status(201, _file_out(exported.file))


# After the fixed paths (/claims/build, /claims/export): the router matches in the order routes are declared.
@router.get("/claims/{claim_id}", response=ClaimDetailOut)
def get_claim(request: HttpRequest, claim_id: UUID) -> Claim:
    user = request_user(request)
    claim = queries.get_claim_for_user(user, claim_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=claim.patient, obj=claim)
    return claim


@router.post("/x12-files/import", response={201: X12FileOut})
def import_file(request: HttpRequest, payload: X12ImportIn) -> Any:
    user = request_user(request)
    require(user, Cap.MANAGE_BILLING)
    if user.organization is None:
        raise ValidationError({"content": "No organization."})
    try:
        imported = actions.do_import_acknowledgement(payload.content, acting_user=user, organization=user.organization)
    except ValidationError as exc:
        raise ValidationError({"content": exc.messages}) from exc
    return Status(201, _file_out(imported.file))


@router.get("/x12-files/{file_id}", response=X12FileContentOut)
def get_file(request: HttpRequest, file_id: UUID) -> dict[str, Any]:
    user = request_user(request)
    file = queries.get_file_for_user(user, file_id)
    audit.record(action=AuditAction.EXPORTED, acting_user=user, obj=file, changed_fields=[file.kind])
    return {**_file_out(file), "content": file.content}
