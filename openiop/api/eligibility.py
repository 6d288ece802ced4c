"""Eligibility API: ask a coverage's payer (270), read the check, fetch the 270 to send, record the 271.

Access as on the pages (``claims.eligibility``): EDIT_COVERAGE or MANAGE_BILLING to ask and to record an answer,
EDIT_COVERAGE, VIEW_BILLING or MANAGE_BILLING to read (clinicians 403); a patient outside the user's programs 404.
What stops a 270 is a 422 naming the field (``payer`` for a coverage without a payer id, ``profile``,
``billing_provider``, ``subscriber_name``); a 271 that is not one, answers another inquiry or came already is a 422
naming ``content``. Every read is audited on the patient's record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.api.schemas import ApiIn
from openiop.claims import eligibility
from openiop.claims.eligibility_models import EligibilityCheck
from openiop.core.models import AuditAction

router = Router(tags=["eligibility"])


class EligibilityOut(Schema):
    id: UUID = Field(alias="public_id")
    coverage: UUID = Field(alias="coverage.public_id")
    patient: UUID = Field(alias="coverage.patient.public_id")
    payer: UUID = Field(alias="payer.public_id")
    status: str
    requested_at: datetime
    answered_at: datetime | None
    trace_number: str
    service_types: list[str]
    headline: str
    result: dict[str, Any]

    @staticmethod
    def resolve_headline(obj: EligibilityCheck) -> str:
        return eligibility.headline(obj)


class EligibilityRequestOut(Schema):
    content: str


class EligibilityResponseIn(ApiIn):
    content: str = Field(..., max_length=eligibility.MAX_BYTES)


@router.post("/coverages/{coverage_id}/eligibility", response={201: EligibilityOut})
def request_eligibility(request: HttpRequest, coverage_id: UUID) -> Any:
    user = request_user(request)
    coverage = eligibility.get_coverage_for_user(user, coverage_id)
    check = eligibility.do_request_eligibility(coverage, acting_user=user)
    return Status(201, eligibility.get_check_for_user(user, check.public_id))


@router.get("/eligibility/{check_id}", response=EligibilityOut)
def get_eligibility(request: HttpRequest, check_id: UUID) -> EligibilityCheck:
    user = request_user(request)
    check = eligibility.get_check_for_user(user, check_id)
    eligibility.record_read(user, check)
    return check


@router.get("/eligibility/{check_id}/270", response=EligibilityRequestOut)
def get_eligibility_270(request: HttpRequest, check_id: UUID) -> dict[str, str]:
    user = request_user(request)
    check = eligibility.get_check_for_user(user, check_id)
    eligibility.record_read(user, check, AuditAction.EXPORTED)
    return {"content": check.request_file.content}


@router.post("/eligibility/{check_id}/response", response=EligibilityOut)
def record_response(request: HttpRequest, check_id: UUID, payload: EligibilityResponseIn) -> EligibilityCheck:
    user = request_user(request)
    check = eligibility.get_check_for_user(user, check_id, *eligibility.REQUEST_CAPS)
    try:
        eligibility.do_record_response(check, payload.content, acting_user=user)
    except ValidationError as exc:
        raise ValidationError({"content": exc.messages}) from exc
    return eligibility.get_check_for_user(user, check_id)
