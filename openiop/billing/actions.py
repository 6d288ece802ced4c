"""Writes to billing: payer rules, billing identities, payer program settings and the fee schedule (configuration,
audited CONFIG_CHANGED) and billable-day decisions.

Payer rules, settings and rates are deactivated, never deleted: past billable days (and later claims) point at them.
Payers themselves are patients' (``patients.actions.do_create_payer``), as coverages point at them.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openiop.accounts.models import User
from openiop.billing.models import (
    BillableDay,
    BillingProvider,
    ClinicianBillingIdentity,
    FeeScheduleRate,
    PayerProgramSetting,
    PayerRule,
    SiteBillingIdentity,
)
from openiop.core import audit
from openiop.core.actions import apply_changes, validate, write_config
from openiop.core.models import AuditAction
from openiop.lib import identifiers
from openiop.patients.models import Coverage, EpisodeOfCare, Payer
from openiop.programs.models import Organization, Program, Site

if TYPE_CHECKING:
    from openiop.billing.days import Decision

RULE_FIELDS = (
    "program", "payer_kind", "name", "code", "weekly_dose_hours", "min_services_per_day", "min_minutes_per_day",
    "min_minutes_per_service", "high_tier_services",
)  # fmt: skip
DECISION_FIELDS = ("rule", "payer_kind", "is_billable", "tier", "service_count", "minutes_attended", "reason")


def _check_rule(rule: PayerRule) -> None:
    rule.name = (rule.name or "").strip()
    rule.code = (rule.code or "").strip()
    validate(rule, exclude=["organization"])
    errors: dict[str, str] = {}
    if rule.payer_kind and rule.payer_kind not in Coverage.PayerKind.values:
        errors["payer_kind"] = "Choose a payer kind from the list, or leave it empty for every payer."
    if rule.program is not None and rule.program.site.organization_id != rule.organization_id:
        errors["program"] = "Choose one of this organization's programs."
    if rule.high_tier_services is not None and rule.high_tier_services <= rule.min_services_per_day:
        errors["high_tier_services"] = (
            f"The higher tier must need more services than a billable day ({rule.min_services_per_day})."
        )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_create_payer_rule(*, acting_user: User | None, organization: Organization, **fields: Any) -> PayerRule:
    rule = PayerRule(organization=organization)
    apply_changes(rule, fields, RULE_FIELDS)
    _check_rule(rule)
    rule.save()
    audit.record(
        action=AuditAction.CONFIG_CHANGED,
        acting_user=acting_user,
        obj=rule,
        organization_id=organization.pk,
        changed_fields=["name", *(n for n, v in fields.items() if v not in ("", None) and n != "name")],
    )
    return rule


@transaction.atomic
def do_update_payer_rule(rule: PayerRule, *, acting_user: User, **fields: Any) -> list[str]:
    rule = PayerRule.objects.select_for_update().get(pk=rule.pk)
    changed = apply_changes(rule, fields, RULE_FIELDS)
    if changed:
        _check_rule(rule)
        rule.save()
        audit.record(
            action=AuditAction.CONFIG_CHANGED,
            acting_user=acting_user,
            obj=rule,
            organization_id=rule.organization_id,
            changed_fields=changed,
        )
    return changed


@transaction.atomic
def do_set_payer_rule_active(rule: PayerRule, *, acting_user: User, active: bool) -> bool:
    rule = PayerRule.objects.select_for_update().get(pk=rule.pk)
    if rule.is_active == active:
        return False
    rule.is_active = active
    rule.save(update_fields=["is_active", "updated_at"])
    audit.record(
        action=AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED,
        acting_user=acting_user,
        obj=rule,
        organization_id=rule.organization_id,
        changed_fields=["is_active"],
    )
    return True


# No savepoint of its own (two statements per check-in): an error here fails the caller's transaction anyway.
@transaction.atomic(savepoint=False)
def do_record_billable_day(
    episode: EpisodeOfCare, day: date, decision: Decision, *, acting_user: User | None
) -> tuple[BillableDay, bool]:
    """Store the decision for (episode, day): create it, update it when it changed, or leave it alone.
    Returns the row and whether anything was written.

    Callers hold the episode row lock (``days.evaluate_day``), so no other transaction decides this day meanwhile.
    """
    values = {
        "rule": decision.rule,
        "payer_kind": decision.payer_kind,
        "is_billable": decision.is_billable,
        "tier": decision.tier,
        "service_count": decision.service_count,
        "minutes_attended": decision.minutes_attended,
        "reason": decision.reason[:300],
    }
    existing = BillableDay.objects.filter(episode=episode, date=day).first()
    if existing is None:
        day_row = BillableDay.objects.create(
            episode=episode,
            patient_id=episode.patient_id,
            program_id=episode.program_id,
            date=day,
            evaluated_at=timezone.now(),
            **values,
        )
        audit.record(
            action=AuditAction.CREATED,
            acting_user=acting_user,
            patient=episode.patient,
            obj=day_row,
            changed_fields=list(DECISION_FIELDS),
        )
        return day_row, True
    changed = apply_changes(existing, values, DECISION_FIELDS)
    if changed:
        existing.evaluated_at = timezone.now()
        existing.save()
        audit.record(
            action=AuditAction.UPDATED,
            acting_user=acting_user,
            patient=episode.patient,
            obj=existing,
            changed_fields=changed,
        )
    return existing, bool(changed)


# --- Billing identities -------------------------------------------------------------------------------------------

PROVIDER_FIELDS = (
    "legal_name", "npi", "tax_id", "taxonomy_code", "address_line1", "address_line2", "city", "state", "postal_code",
    "pay_to_line1", "pay_to_line2", "pay_to_city", "pay_to_state", "pay_to_postal_code",
)  # fmt: skip
PAY_TO = ("pay_to_line1", "pay_to_city", "pay_to_state", "pay_to_postal_code")
SITE_IDENTITY_FIELDS = ("npi", "taxonomy_code")
CLINICIAN_IDENTITY_FIELDS = ("npi", "taxonomy_code", "may_attend", "may_render", "may_supervise", "is_active")
SETTING_FIELDS = (
    "claim_type", "type_of_bill", "revenue_code", "code_standard", "code_high_tier", "condition_code_92",
    "place_of_service", "authorization_required", "is_active",
)  # fmt: skip
RATE_FIELDS = ("payer", "code", "modifier", "tier", "rate", "effective_from", "effective_to", "is_active")

# The 5010 guides keep post office and lock boxes out of the billing provider's address (they go in pay-to).
_PO_BOX = re.compile(r"\b(p\.?\s*o\.?\s*box|post\s+office\s+box|lock\s*box)\b", re.IGNORECASE)


def _clean_text(obj: Any, names: tuple[str, ...], *, upper: tuple[str, ...] = ()) -> None:
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, str):
            value = value.strip()
            setattr(obj, name, value.upper() if name in upper else value)


def _zip(value: str) -> str:
    """ZIP+4 typed as 9 digits gets its hyphen."""
    return f"{value[:5]}-{value[5:]}" if re.fullmatch(r"\d{9}", value) else value


def _check_provider(provider: BillingProvider) -> None:
    _clean_text(provider, PROVIDER_FIELDS, upper=("taxonomy_code", "state", "pay_to_state"))
    provider.tax_id = identifiers.normalize_ein(provider.tax_id) or provider.tax_id
    provider.postal_code = _zip(provider.postal_code)
    provider.pay_to_postal_code = _zip(provider.pay_to_postal_code)
    validate(provider, exclude=["organization"])
    errors: dict[str, str] = {}
    for name in ("address_line1", "address_line2"):
        if _PO_BOX.search(getattr(provider, name)):
            errors[name] = "Claims need the street address here; put a post office or lock box in the pay-to address."
    if any(getattr(provider, n) for n in (*PAY_TO, "pay_to_line2")):
        for name in PAY_TO:
            if not getattr(provider, name):
                errors[name] = "A pay-to address needs the street, city, state and ZIP code (or leave it all empty)."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_save_billing_provider(
    organization: Organization, *, acting_user: User | None, **fields: Any
) -> tuple[BillingProvider, list[str]]:
    """Create or change the organization's billing provider identity (one per organization). Returns it and the
    names that changed (all those set the first time)."""
    # The organization row serializes the first save of two people at once (one row per organization).
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    provider = BillingProvider.objects.filter(organization=organization).first() or BillingProvider(
        organization=organization
    )
    changed = write_config(
        provider, fields, PROVIDER_FIELDS, _check_provider, acting_user=acting_user, organization_id=organization.pk
    )
    return provider, changed


def _check_identity(identity: SiteBillingIdentity | ClinicianBillingIdentity) -> None:
    _clean_text(identity, ("npi", "taxonomy_code"), upper=("taxonomy_code",))
    validate(identity, exclude=["organization", "site", "user"])


@transaction.atomic
def do_save_site_identity(
    site: Site, *, acting_user: User | None, **fields: Any
) -> tuple[SiteBillingIdentity, list[str]]:
    """A site's NPI and taxonomy as the service facility of its programs' claims (created the first time)."""
    Site.objects.select_for_update().filter(pk=site.pk).first()
    identity = SiteBillingIdentity.objects.filter(site=site).first() or SiteBillingIdentity(site=site)
    changed = write_config(
        identity,
        fields,
        SITE_IDENTITY_FIELDS,
        _check_identity,
        acting_user=acting_user,
        organization_id=site.organization_id,
    )
    return identity, changed


def _check_clinician_identity(identity: ClinicianBillingIdentity) -> None:
    _check_identity(identity)
    errors: dict[str, str] = {}
    same = ClinicianBillingIdentity.objects.filter(organization_id=identity.organization_id, npi=identity.npi)
    if same.exclude(pk=identity.pk).exists():
        errors["npi"] = "Another staff member already has this NPI."
    org_npi = BillingProvider.objects.filter(organization_id=identity.organization_id).values_list("npi", flat=True)
    if identity.npi in set(org_npi):
        errors["npi"] = "This is the organization's NPI (type 2): a clinician's own NPI is type 1."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_save_clinician_identity(
    clinician: User, *, acting_user: User | None, **fields: Any
) -> tuple[ClinicianBillingIdentity, list[str]]:
    """A staff member's NPI, taxonomy and provider roles on claims (one row per person, created the first time)."""
    if clinician.organization_id is None:
        raise ValidationError({"clinician": "This person belongs to no organization."})
    User.objects.select_for_update().filter(pk=clinician.pk).first()
    identity = ClinicianBillingIdentity.objects.filter(user=clinician).first() or ClinicianBillingIdentity(
        user=clinician, organization_id=clinician.organization_id
    )
    changed = write_config(
        identity,
        fields,
        CLINICIAN_IDENTITY_FIELDS,
        _check_clinician_identity,
        acting_user=acting_user,
        organization_id=clinician.organization_id,
    )
    return identity, changed


# --- Payer program settings ---------------------------------------------------------------------------------------


def _check_setting(setting: PayerProgramSetting) -> None:
    _clean_text(setting, ("type_of_bill", "revenue_code", "code_standard", "code_high_tier"), upper=SETTING_FIELDS)
    validate(setting, exclude=["payer", "program"])
    errors: dict[str, str] = {}
    if setting.payer.organization_id != setting.program.site.organization_id:
        errors["program"] = "Choose one of this organization's programs."
    institutional = setting.claim_type == PayerProgramSetting.ClaimType.INSTITUTIONAL
    if institutional:
        if not setting.type_of_bill:
            errors["type_of_bill"] = "Institutional claims need the type of bill (e.g. 013, 076)."
        if not setting.revenue_code:
            errors["revenue_code"] = "Institutional claims need the revenue code (0905 or 0906 for IOP)."
        if setting.place_of_service:
            errors["place_of_service"] = "Only professional claims carry a place of service."
    else:
        if not setting.place_of_service:
            errors["place_of_service"] = "Professional claims need the place of service."
        for name, label in (("type_of_bill", "a type of bill"), ("revenue_code", "a revenue code")):
            if getattr(setting, name):
                errors[name] = f"Only institutional claims carry {label}."
        if setting.condition_code_92:
            errors["condition_code_92"] = "Condition codes go on institutional claims only."
    if setting.code_high_tier and not setting.code_standard:
        errors["code_high_tier"] = "Set the per-diem code first: the higher tier replaces it on its days."
    clash = PayerProgramSetting.objects.filter(payer_id=setting.payer_id, program_id=setting.program_id)
    if "program" not in errors and clash.exclude(pk=setting.pk).exists():
        errors["program"] = "This payer already has settings for this program: edit them."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_create_payer_setting(
    *, acting_user: User | None, payer: Payer, program: Program, **fields: Any
) -> PayerProgramSetting:
    setting = PayerProgramSetting(payer=payer, program=program)
    write_config(
        setting, fields, SETTING_FIELDS, _check_setting, acting_user=acting_user, organization_id=payer.organization_id
    )
    return setting


@transaction.atomic
def do_update_payer_setting(setting: PayerProgramSetting, *, acting_user: User, **fields: Any) -> list[str]:
    setting = (
        PayerProgramSetting.objects.select_related("payer", "program__site")
        .select_for_update(of=("self",))
        .get(pk=setting.pk)
    )
    return write_config(
        setting,
        fields,
        SETTING_FIELDS,
        _check_setting,
        acting_user=acting_user,
        organization_id=setting.payer.organization_id,
    )


# --- Fee schedule -------------------------------------------------------------------------------------------------


def _check_rate(rate: FeeScheduleRate) -> None:
    _clean_text(rate, ("code", "modifier"), upper=("code", "modifier"))
    validate(rate, exclude=["organization", "payer"])
    errors: dict[str, str] = {}
    if rate.payer is not None and rate.payer.organization_id != rate.organization_id:
        errors["payer"] = "Choose one of this organization's payers."
    if rate.effective_to is not None and rate.effective_to < rate.effective_from:
        errors["effective_to"] = "The rate must end on or after the day it starts."
    if errors:
        raise ValidationError(errors)
    if not rate.is_active:
        return
    same_key = FeeScheduleRate.objects.filter(
        Q(payer__isnull=True) if rate.payer_id is None else Q(payer_id=rate.payer_id),
        organization_id=rate.organization_id,
        code=rate.code,
        modifier=rate.modifier,
        tier=rate.tier,
        is_active=True,
    ).exclude(pk=rate.pk)
    # Two ranges overlap when each starts no later than the other ends (an open end never ends).
    overlapping = same_key.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=rate.effective_from))
    if rate.effective_to is not None:
        overlapping = overlapping.filter(effective_from__lte=rate.effective_to)
    other = overlapping.order_by("effective_from").first()
    if other is not None:
        until = other.effective_to.isoformat() if other.effective_to else "open-ended"
        raise ValidationError(
            {
                "effective_from": f"Another active rate for this code covers some of these days "
                f"({other.effective_from.isoformat()} to {until}): end it first, or deactivate it."
            }
        )


def _lock_fee_schedule(organization_id: int) -> None:
    """Serialize fee schedule writes of one organization, so two overlapping rates saved at once cannot both pass
    the overlap check (no portable constraint says "no overlap"). Rate edits are rare; the lock is short."""
    Organization.objects.select_for_update().filter(pk=organization_id).first()


@transaction.atomic
def do_create_fee_rate(*, acting_user: User | None, organization: Organization, **fields: Any) -> FeeScheduleRate:
    _lock_fee_schedule(organization.pk)
    rate = FeeScheduleRate(organization=organization)
    write_config(rate, fields, RATE_FIELDS, _check_rate, acting_user=acting_user, organization_id=organization.pk)
    return rate


@transaction.atomic
def do_update_fee_rate(fee: FeeScheduleRate, /, *, acting_user: User, **fields: Any) -> list[str]:
    # Positional-only: ``rate`` is one of the fields.
    _lock_fee_schedule(fee.organization_id)
    fee = FeeScheduleRate.objects.get(pk=fee.pk)
    return write_config(
        fee, fields, RATE_FIELDS, _check_rate, acting_user=acting_user, organization_id=fee.organization_id
    )
