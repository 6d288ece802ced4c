"""Billing API: billable-day decisions (program, date range, patient) and the payer rules. Access as on the pages:
VIEW_BILLING for days (403), then the user's programs (404 for a program outside them); rules for their readers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from openiop.accounts.http import request_user
from openiop.api.schemas import MAX_OFFSET, ApiIn
from openiop.billing import queries
from openiop.billing.forms import MAX_RANGE_DAYS
from openiop.billing.models import BillableDay, PayerRule
from openiop.core import audit
from openiop.core.models import AuditAction

router = Router(tags=["billing"])
MAX_LIMIT = 500


class PayerRuleOut(Schema):
    id: UUID = Field(alias="public_id")
    name: str
    code: str
    program: UUID | None = None
    payer_kind: str
    weekly_dose_hours: Decimal | None
    min_services_per_day: int
    min_minutes_per_day: int
    min_minutes_per_service: int
    high_tier_services: int | None
    is_active: bool

    @staticmethod
    def resolve_program(obj: PayerRule) -> UUID | None:
        return obj.program.public_id if obj.program_id else None  # type: ignore[union-attr]


class BillableDayOut(Schema):
    id: UUID = Field(alias="public_id")
    date: date
    patient: UUID = Field(alias="patient.public_id")
    episode: UUID = Field(alias="episode.public_id")
    rule: UUID | None = None
    payer_kind: str
    is_billable: bool
    tier: str
    service_count: int
    minutes_attended: int
    reason: str
    evaluated_at: datetime

    @staticmethod
    def resolve_rule(obj: BillableDay) -> UUID | None:
        return obj.rule.public_id if obj.rule_id else None  # type: ignore[union-attr]


class TotalsOut(Schema):
    days: int
    billable: int
    standard: int
    high: int
    not_billable: int
    minutes: int


class BillableDayPage(Schema):
    count: int
    totals: TotalsOut
    results: list[BillableDayOut]


class DaysFilter(ApiIn):
    program: UUID
    date_from: date
    date_to: date
    patient: UUID | None = None
    billable_only: bool = False
    limit: int = Field(100, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


@router.get("/billing/days", response=BillableDayPage)
def list_billable_days(request: HttpRequest, filters: Query[DaysFilter]) -> dict[str, Any]:
    user = request_user(request)
    program = queries.get_billing_program(user, filters.program)
    if filters.date_to < filters.date_from:
        raise ValidationError({"date_to": "The range must end on or after its start."})
    if (filters.date_to - filters.date_from).days >= MAX_RANGE_DAYS:
        raise ValidationError({"date_to": f"Choose a range of at most {MAX_RANGE_DAYS} days."})
    if not 1 <= filters.limit <= MAX_LIMIT:
        raise ValidationError({"limit": f"Use a limit from 1 to {MAX_LIMIT}."})
    if filters.offset < 0:
        raise ValidationError({"offset": "Offset cannot be negative."})
    days = queries.billable_days(
        user,
        program,
        filters.date_from,
        filters.date_to,
        patient_id=filters.patient,
        billable_only=filters.billable_only,
    )
    sums = queries.totals(days)
    results = list(days[filters.offset : filters.offset + filters.limit])
    if results:
        audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="billableday")
    return {
        "count": sums.days,
        "totals": {**sums.__dict__, "not_billable": sums.not_billable},
        "results": results,
    }


@router.get("/billing/rules", response=list[PayerRuleOut])
def list_payer_rules(request: HttpRequest) -> Any:
    return queries.rules_for_user(request_user(request))
