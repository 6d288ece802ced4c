"""Patient ledger API: read a patient's ledger (entries and balances), record a patient payment or refund.

Access as on the chart's Ledger tab (ledger.queries): VIEW_BILLING or RECORD_PAYMENTS reads (clinicians 403),
RECORD_PAYMENTS writes; another organization's patient is 404. Bad input is a 422 naming the field.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.api.schemas import ApiIn
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.roles import Cap
from openiop.ledger import actions
from openiop.ledger.ledger import build_ledger
from openiop.ledger.models import LedgerEntry
from openiop.ledger.queries import ledger_patient

router = Router(tags=["ledger"])


class LedgerLineOut(Schema):
    on: date
    kind: str
    description: str
    claim: str
    amount: Decimal
    patient_amount: Decimal


class LedgerOut(Schema):
    patient: UUID
    charges: Decimal
    insurance_paid: Decimal
    adjustments: Decimal
    patient_responsibility: Decimal
    patient_paid: Decimal
    balance: Decimal
    patient_balance: Decimal
    lines: list[LedgerLineOut]


class PaymentIn(ApiIn):
    amount: Decimal = Field(..., gt=0, max_digits=10, decimal_places=2)
    method: str = Field(..., pattern="^(cash|card|check)$")
    on: date
    reference: str = Field("", max_length=60)
    refund: bool = False
    reason: str = Field("", max_length=300)


class PaymentOut(Schema):
    id: UUID = Field(alias="public_id")
    kind: str
    amount: Decimal
    method: str
    reference: str
    on: date
    reason: str


def _ledger_out(patient: Any, user: Any) -> dict[str, Any]:
    ledger = build_ledger(patient, user)
    return {
        "patient": patient.public_id,
        "charges": ledger.charges,
        "insurance_paid": ledger.insurance_paid,
        "adjustments": ledger.adjustments,
        "patient_responsibility": ledger.patient_responsibility,
        "patient_paid": ledger.patient_paid,
        "balance": ledger.balance,
        "patient_balance": ledger.patient_balance,
        "lines": ledger.lines,
    }


@router.get("/patients/{patient_id}/ledger", response=LedgerOut)
def get_ledger(request: HttpRequest, patient_id: UUID) -> dict[str, Any]:
    user = request_user(request)
    patient = ledger_patient(user, patient_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="ledger")
    return _ledger_out(patient, user)


@router.post("/patients/{patient_id}/payments", response={201: PaymentOut})
def record_payment(request: HttpRequest, patient_id: UUID, payload: PaymentIn) -> Any:
    user = request_user(request)
    patient = ledger_patient(user, patient_id, Cap.RECORD_PAYMENTS)
    entry: LedgerEntry = actions.do_record_patient_payment(
        patient,
        acting_user=user,
        amount=payload.amount,
        method=payload.method,
        on=payload.on,
        reference=payload.reference,
        refund=payload.refund,
        reason=payload.reason,
    )
    return Status(201, entry)
