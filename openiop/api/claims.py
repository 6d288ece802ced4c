"""Claims API: list and read claims, build a period's claims (and a claim's secondary claim), export ready claims as
a validated 837 file, import a 999, 277CA or 835, read an X12 file, read the posted remittances and the denials work
queue.

Access as on the pages (claims.queries): VIEW_BILLING reads (clinicians 403: they never see money), MANAGE_BILLING
writes, 404 outside the user's organization and programs. A file pyx12 refuses is a 422 naming the segment, and
nothing is stored; an acknowledgement already imported is a 422 naming ``content``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.api.problems import problem
from openiop.api.schemas import ApiIn
from openiop.claims import actions, queries
from openiop.claims.models import Claim, ClaimPayment, Remittance, X12File
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.programs.models import Program
from openiop.utilization.queries import authorization_watch

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
    # Per-service lines: what the line bills, why it has no code, who led the service, its own place of service.
    description: str
    problem: str
    place_of_service: str
    rendering: UUID | None = Field(default=None, alias="rendering.public_id")


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
    primary_claim: UUID | None = Field(default=None, alias="primary_claim.public_id")
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
    secondary_claims: list[UUID]  # the claims billed to the patient's next payer after this one

    @staticmethod
    def resolve_lines(obj: Claim) -> list[Any]:
        return list(obj.lines.select_related("rendering"))

    @staticmethod
    def resolve_secondary_claims(obj: Claim) -> list[UUID]:
        return list(obj.secondary_claims.order_by("number").values_list("public_id", flat=True))


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


class AdjustmentOut(Schema):
    group: str
    reason: str
    reason_text: str
    amount: Decimal


class RemarkOut(Schema):
    code: str
    text: str


class LinePaymentOut(Schema):
    line_number: int | None = Field(default=None, alias="claim_line.line_number")
    procedure_code: str
    service_date: date | None
    charge: Decimal
    paid: Decimal
    denied: bool
    adjustments: list[AdjustmentOut]
    remarks: list[RemarkOut]

    @staticmethod
    def resolve_adjustments(obj: Any) -> list[Any]:
        return list(obj.adjustments.all())


class ClaimPaymentOut(Schema):
    claim: UUID | None = Field(default=None, alias="claim.public_id")
    control_number: str
    status_code: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_number: str
    denied: bool
    denial_reason: str
    reversal: bool
    adjustments: list[AdjustmentOut]
    remarks: list[RemarkOut]
    lines: list[LinePaymentOut]

    @staticmethod
    def resolve_reversal(obj: ClaimPayment) -> bool:
        return obj.reverses_id is not None or obj.status_code == "22"

    @staticmethod
    def resolve_adjustments(obj: ClaimPayment) -> list[Any]:
        return list(obj.adjustments.all())

    @staticmethod
    def resolve_lines(obj: ClaimPayment) -> list[Any]:
        return list(obj.lines.all())


class ProviderAdjustmentOut(Schema):
    reason: str
    reference: str
    amount: Decimal


class RemittanceOut(Schema):
    id: UUID = Field(alias="public_id")
    file: UUID = Field(alias="file.public_id")
    payer_name: str
    payer_identifier: str
    payer: UUID | None = Field(default=None, alias="payer.public_id")
    trace_number: str
    payment_method: str
    payment_date: date | None
    total_paid: Decimal


class RemittanceDetailOut(RemittanceOut):
    provider_adjustments: list[ProviderAdjustmentOut]
    claim_payments: list[ClaimPaymentOut] = Field(alias="visible_payments")

    @staticmethod
    def resolve_provider_adjustments(obj: Remittance) -> list[Any]:
        return list(obj.provider_adjustments.all())


class RemittanceQuery(ApiIn):
    payer: UUID | None = None


class DenialOut(Schema):
    claim: UUID
    control_number: str
    payer_name: str
    line_number: int | None
    procedure_code: str
    service_date: date | None
    amount: Decimal
    codes: list[RemarkOut]
    age_days: int


class DenialQuery(ApiIn):
    payer: UUID | None = None
    reason: str = Field("", max_length=5, pattern=r"^([A-Z]?\d{1,4})?$")


@router.get("/remittances", response=list[RemittanceOut])
def list_remittances(request: HttpRequest, q: Query[RemittanceQuery]) -> list[Remittance]:
    user = request_user(request)
    rows = queries.remittances_for_user(user)
    if q.payer:
        rows = rows.filter(payer=queries.get_payer_for_user(user, q.payer))
    return list(rows[:LIST_LIMIT])


@router.get("/remittances/{remittance_id}", response=RemittanceDetailOut)
def get_remittance(request: HttpRequest, remittance_id: UUID) -> Remittance:
    user = request_user(request)
    remittance = queries.get_remittance_for_user(user, remittance_id)
    # Only the claim payments of the user's programs (and the unmatched ones): read here, where the user is known.
    remittance.visible_payments = queries.claim_payments(user, remittance)  # type: ignore[attr-defined]
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, obj=remittance)
    return remittance


@router.get("/claims", response=list[ClaimOut])
def list_claims(request: HttpRequest, q: Query[ClaimQuery]) -> list[Claim]:
    user = request_user(request)
    if q.status and q.status not in Claim.Status.values:
        raise ValidationError({"status": f"One of: {', '.join(Claim.Status.values)}."})
    payer = queries.get_payer_for_user(user, q.payer) if q.payer else None
    rows = queries.list_claims(user, queries.ClaimFilter(q.status, payer, None, q.date_from, q.date_to))
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="claims")
    return list(rows.select_related("episode", "replaces", "primary_claim")[:LIST_LIMIT])


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


class ReportQuery(ApiIn):
    start: date | None = None
    end: date | None = None


class AgingRowOut(Schema):
    payer: str
    buckets: dict[str, Decimal]
    total: Decimal
    claims: int


class DenialReasonOut(Schema):
    group: str
    reason: str
    text: str
    claims: int
    amount: Decimal


class ProgramBilledOut(Schema):
    program: str
    billed: Decimal
    paid: Decimal


class AuthorizationWatchOut(Schema):
    payer: str
    expiring: int
    units_low: int
    over: int
    review_due: int


class RevenueReportOut(Schema):
    start: date
    end: date
    ar_total: Decimal
    days_in_ar: Decimal | None
    aging: list[AgingRowOut]
    claims_adjudicated: int
    claims_denied: int
    denial_rate: Decimal | None
    denials: list[DenialReasonOut]
    programs: list[ProgramBilledOut]
    authorizations: list[AuthorizationWatchOut]


@router.get("/claims/reports", response=RevenueReportOut)
def revenue_report(request: HttpRequest, q: Query[ReportQuery]) -> dict[str, Any]:
    """A/R aging by payer (as of ``end``), days in A/R, denials by reason and billed against paid per program for
    ``start``..``end`` (default: the last 90 days), and today's authorizations ending soon, low, over or due for
    review per payer. Aggregates only: no patient is named."""
    from openiop.claims import reports

    user = request_user(request)
    require(user, Cap.VIEW_BILLING)
    end = q.end or timezone.localdate()
    start = q.start or end - timedelta(days=89)
    if end < start:
        raise ValidationError({"end": "The period ends before it starts."})
    aging = reports.aging(user, end)
    labels = [label for _, _, label in reports.BUCKETS]
    denials = reports.denials(user, start, end)
    return {
        "start": start,
        "end": end,
        "ar_total": aging.total,
        "days_in_ar": aging.days_in_ar,
        "aging": [
            {
                "payer": r.payer,
                "buckets": dict(zip(labels, r.buckets, strict=True)),
                "total": r.total,
                "claims": r.claims,
            }
            for r in aging.rows
        ],
        "claims_adjudicated": denials.adjudicated,
        "claims_denied": denials.denied,
        "denial_rate": denials.rate,
        "denials": [vars(r) for r in denials.rows],
        "programs": [
            {"program": p.program, "billed": p.billed, "paid": p.paid}
            for p in reports.billed_and_paid(user, start, end)
        ],
        # Approved authorizations needing attention today, per payer (the section "authorizations expiring").
        "authorizations": [vars(w) for w in authorization_watch(user)],
    }


@router.get("/claims/denials", response=list[DenialOut])
def list_denials(request: HttpRequest, q: Query[DenialQuery]) -> list[dict[str, Any]]:
    user = request_user(request)
    payer = None
    if q.payer:
        try:
            payer = queries.get_payer_for_user(user, q.payer)
        except Http404:
            raise ValidationError({"payer": "Not one of your organization's payers."}) from None
    rows = queries.denials(user, payer, q.reason)
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="claim denials")
    return [
        {
            "claim": r.claim.public_id,
            "control_number": r.claim.control_number,
            "payer_name": r.claim.payer.name,
            "line_number": r.line.claim_line.line_number if r.line and r.line.claim_line else None,
            "procedure_code": r.line.procedure_code if r.line else "",
            "service_date": r.line.service_date if r.line else None,
            "amount": r.amount,
            "codes": r.codes,
            "age_days": r.age_days,
        }
        for r in rows[:LIST_LIMIT]
    ]


# After the fixed paths (/claims/build, /claims/export, /claims/denials): the router matches in the order routes
# are declared.
@router.get("/claims/{claim_id}", response=ClaimDetailOut)
def get_claim(request: HttpRequest, claim_id: UUID) -> Claim:
    user = request_user(request)
    claim = queries.get_claim_for_user(user, claim_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=claim.patient, obj=claim)
    return claim


@router.post("/claims/{claim_id}/secondary", response={201: ClaimDetailOut})
def build_secondary(request: HttpRequest, claim_id: UUID) -> Any:
    """Bill the patient's next payer (secondary, then tertiary) after this claim's payer answered it."""
    user = request_user(request)
    claim = queries.get_claim_for_user(user, claim_id, Cap.MANAGE_BILLING)
    return Status(201, actions.do_build_secondary(claim, user))


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
