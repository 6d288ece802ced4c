"""Billing API: billable-day decisions (program, date range, patient), the payer rules, and the billing setup
(payers, payer program settings, the fee schedule, the organization's billing identity). Access as on the pages:
VIEW_BILLING for days (403), then the user's programs (404 for a program outside them); rules and setup for their
readers and writers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from openiop.accounts.http import request_user
from openiop.api.schemas import MAX_OFFSET, ApiIn
from openiop.billing import queries
from openiop.billing.actions import (
    PROVIDER_FIELDS,
    do_create_fee_rate,
    do_create_payer_setting,
    do_save_billing_provider,
    do_update_fee_rate,
    do_update_payer_setting,
)
from openiop.billing.forms import MAX_RANGE_DAYS
from openiop.billing.models import BillableDay, FeeScheduleRate, PayerRule
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.patients.actions import do_create_payer, do_update_payer
from openiop.patients.models import Payer
from openiop.patients.queries import payer_choices
from openiop.programs.models import Organization

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


# --- Billing setup: payers, payer program settings, the fee schedule, the organization's billing identity --------
# Access as on /billing/setup/: read with VIEW_BILLING, MANAGE_BILLING or MANAGE_ORGANIZATION, write with
# MANAGE_BILLING or MANAGE_ORGANIZATION (403 otherwise); another organization's records are 404s. A body naming a
# payer or program the organization does not have is a 422 naming the field, as is any value an action refuses
# (a wrong NPI check digit: ``npi``).

Code5 = Field(min_length=5, max_length=5, pattern=r"^[A-Za-z0-9]{5}$")


class PayerIn(ApiIn):
    name: str = Field(min_length=1, max_length=150)
    payer_id: str = Field(min_length=2, max_length=80, description="The EDI payer id (837 payer NM109).")
    kind: str = Field(max_length=20, description="A payer kind: medicare, medicaid, commercial, tricare, ...")
    claim_filing_indicator: str = Field(max_length=2, description="X12 SBR09: MA, MB, MC, CI, BL, HM, CH, VA, 11...")
    address_line1: str = Field("", max_length=200)
    address_line2: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    state: str = Field("", max_length=2)
    postal_code: str = Field("", max_length=10)
    timely_filing_days: int = Field(90, ge=1, le=3650)
    is_active: bool = True


class PayerPatch(ApiIn):
    name: str | None = Field(None, min_length=1, max_length=150)
    payer_id: str | None = Field(None, min_length=2, max_length=80)
    kind: str | None = Field(None, max_length=20)
    claim_filing_indicator: str | None = Field(None, max_length=2)
    address_line1: str | None = Field(None, max_length=200)
    address_line2: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    state: str | None = Field(None, max_length=2)
    postal_code: str | None = Field(None, max_length=10)
    timely_filing_days: int | None = Field(None, ge=1, le=3650)
    is_active: bool | None = None


class PayerOut(PayerIn):
    # An answer, read from the model: ninja's resolvers and aliases only run on schemas that allow extra attributes.
    model_config = ConfigDict(extra="ignore")

    id: UUID = Field(alias="public_id")


class PayerSettingFields(ApiIn):
    claim_type: str = Field(max_length=4, description="837I (institutional) or 837P (professional).")
    type_of_bill: str = Field("", max_length=3, description="Institutional: 0 + facility type + classification.")
    revenue_code: str = Field("", max_length=4)
    code_standard: str = Field("", max_length=5)
    code_high_tier: str = Field("", max_length=5)
    condition_code_92: bool = False
    place_of_service: str = Field("", max_length=2)
    authorization_required: bool = False
    is_active: bool = True


class PayerSettingIn(PayerSettingFields):
    payer: UUID
    program: UUID


class PayerSettingPatch(ApiIn):
    claim_type: str | None = Field(None, max_length=4)
    type_of_bill: str | None = Field(None, max_length=3)
    revenue_code: str | None = Field(None, max_length=4)
    code_standard: str | None = Field(None, max_length=5)
    code_high_tier: str | None = Field(None, max_length=5)
    condition_code_92: bool | None = None
    place_of_service: str | None = Field(None, max_length=2)
    authorization_required: bool | None = None
    is_active: bool | None = None


class PayerSettingOut(PayerSettingFields):
    model_config = ConfigDict(extra="ignore")

    id: UUID = Field(alias="public_id")
    payer: UUID = Field(alias="payer.public_id")
    program: UUID = Field(alias="program.public_id")


class FeeRateIn(ApiIn):
    payer: UUID | None = Field(None, description="Empty: the organization's default rate.")
    code: str = Code5
    modifier: str = Field("", max_length=2)
    tier: str = Field("", max_length=10, description="standard, high, or empty for every tier.")
    rate: Decimal = Field(ge=0, max_digits=10, decimal_places=2)
    effective_from: date
    effective_to: date | None = None
    is_active: bool = True


class FeeRatePatch(ApiIn):
    payer: UUID | None = None
    code: str | None = Field(None, min_length=5, max_length=5, pattern=r"^[A-Za-z0-9]{5}$")
    modifier: str | None = Field(None, max_length=2)
    tier: str | None = Field(None, max_length=10)
    rate: Decimal | None = Field(None, ge=0, max_digits=10, decimal_places=2)
    effective_from: date | None = None
    effective_to: date | None = None
    is_active: bool | None = None


class FeeRateOut(FeeRateIn):
    model_config = ConfigDict(extra="ignore")

    id: UUID = Field(alias="public_id")

    @staticmethod
    def resolve_payer(obj: FeeScheduleRate) -> UUID | None:
        return obj.payer.public_id if obj.payer_id else None  # type: ignore[union-attr]


class BillingIdentityIn(ApiIn):
    legal_name: str = Field(min_length=1, max_length=200)
    npi: str = Field(max_length=10, description="The organization's NPI (type 2), check digit verified.")
    tax_id: str = Field(max_length=10, description="EIN, NN-NNNNNNN.")
    taxonomy_code: str = Field(max_length=10)
    address_line1: str = Field(min_length=1, max_length=55)
    address_line2: str = Field("", max_length=55)
    city: str = Field(min_length=1, max_length=30)
    state: str = Field(max_length=2)
    postal_code: str = Field(max_length=10, description="ZIP+4.")
    pay_to_line1: str = Field("", max_length=55)
    pay_to_line2: str = Field("", max_length=55)
    pay_to_city: str = Field("", max_length=30)
    pay_to_state: str = Field("", max_length=2)
    pay_to_postal_code: str = Field("", max_length=10)


class SiteIdentityOut(Schema):
    site: UUID
    name: str
    npi: str
    taxonomy_code: str


class BillingIdentityOut(BillingIdentityIn):
    model_config = ConfigDict(extra="ignore")

    sites: list[SiteIdentityOut]


def _organization_payer(organization: Organization, public_id: UUID | None, *, current: Payer | None = None) -> Any:
    if public_id is None:
        return None
    payer = payer_choices(organization, current).filter(public_id=public_id).first()
    if payer is None:
        raise ValidationError({"payer": "No active payer of this organization has this id."})
    return payer


def _identity(request: HttpRequest, organization: Organization) -> dict[str, Any]:
    provider = queries.billing_provider_of(organization)
    if provider is None:
        raise Http404
    sites = [
        {
            "site": s.public_id,
            "name": s.name,
            "npi": s.billing_identity.npi,
            "taxonomy_code": s.billing_identity.taxonomy_code,
        }
        for s in queries.sites_for(request_user(request))
        if getattr(s, "billing_identity", None) is not None
    ]
    return {**{name: getattr(provider, name) for name in PROVIDER_FIELDS}, "sites": sites}


@router.get("/billing/identity", response=BillingIdentityOut)
def get_billing_identity(request: HttpRequest) -> Any:
    """The organization's billing provider identity and its sites' (404 until it is set up)."""
    return _identity(request, queries.setup_organization(request_user(request)))


@router.put("/billing/identity", response=BillingIdentityOut)
def put_billing_identity(request: HttpRequest, payload: BillingIdentityIn) -> Any:
    user = request_user(request)
    organization = queries.setup_organization(user, write=True)
    do_save_billing_provider(organization, acting_user=user, **payload.dict())
    return _identity(request, organization)


@router.get("/billing/payers", response=list[PayerOut])
def list_payers(request: HttpRequest) -> Any:
    return queries.payers_for(request_user(request))


@router.post("/billing/payers", response={201: PayerOut})
def create_payer(request: HttpRequest, payload: PayerIn) -> Any:
    user = request_user(request)
    organization = queries.setup_organization(user, write=True)
    return Status(201, do_create_payer(acting_user=user, organization=organization, **payload.dict()))


@router.patch("/billing/payers/{payer_id}", response=PayerOut)
def update_payer(request: HttpRequest, payer_id: UUID, payload: PayerPatch) -> Any:
    user = request_user(request)
    payer = queries.get_payer_for_user(user, payer_id, write=True)
    do_update_payer(payer, acting_user=user, **payload.dict(exclude_unset=True))
    payer.refresh_from_db()
    return payer


@router.get("/billing/payer-settings", response=list[PayerSettingOut])
def list_payer_settings(request: HttpRequest) -> Any:
    return queries.payer_settings_for(request_user(request))


@router.post("/billing/payer-settings", response={201: PayerSettingOut})
def create_payer_setting(request: HttpRequest, payload: PayerSettingIn) -> Any:
    user = request_user(request)
    organization = queries.setup_organization(user, write=True)
    fields = payload.dict()
    payer = _organization_payer(organization, fields.pop("payer"))
    program = queries.organization_programs(organization).filter(public_id=fields.pop("program")).first()
    if program is None:
        raise ValidationError({"program": "No program of this organization has this id."})
    return Status(201, do_create_payer_setting(acting_user=user, payer=payer, program=program, **fields))


@router.patch("/billing/payer-settings/{setting_id}", response=PayerSettingOut)
def update_payer_setting(request: HttpRequest, setting_id: UUID, payload: PayerSettingPatch) -> Any:
    user = request_user(request)
    setting = queries.get_payer_setting_for_user(user, setting_id, write=True)
    do_update_payer_setting(setting, acting_user=user, **payload.dict(exclude_unset=True))
    return queries.get_payer_setting_for_user(user, setting_id)


@router.get("/billing/fee-schedule", response=list[FeeRateOut])
def list_fee_rates(request: HttpRequest) -> Any:
    return queries.fee_rates_for(request_user(request))


@router.post("/billing/fee-schedule", response={201: FeeRateOut})
def create_fee_rate(request: HttpRequest, payload: FeeRateIn) -> Any:
    user = request_user(request)
    organization = queries.setup_organization(user, write=True)
    fields = payload.dict()
    fields["payer"] = _organization_payer(organization, fields["payer"])
    return Status(201, do_create_fee_rate(acting_user=user, organization=organization, **fields))


@router.patch("/billing/fee-schedule/{rate_id}", response=FeeRateOut)
def update_fee_rate(request: HttpRequest, rate_id: UUID, payload: FeeRatePatch) -> Any:
    user = request_user(request)
    rate = queries.get_fee_rate_for_user(user, rate_id, write=True)
    fields = payload.dict(exclude_unset=True)
    if "payer" in fields:
        fields["payer"] = _organization_payer(rate.organization, fields["payer"], current=rate.payer)
    do_update_fee_rate(rate, acting_user=user, **fields)
    return queries.get_fee_rate_for_user(user, rate_id)
