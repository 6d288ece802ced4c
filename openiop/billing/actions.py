"""Writes to billing: payer rules (configuration, audited CONFIG_CHANGED) and billable-day decisions.

Payer rules are deactivated, never deleted: past billable days point at the rule that decided them.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.billing.models import BillableDay, PayerRule
from openiop.core import audit
from openiop.core.actions import apply_changes, validate
from openiop.core.models import AuditAction
from openiop.patients.models import Coverage, EpisodeOfCare
from openiop.programs.models import Organization

if TYPE_CHECKING:
    from openiop.accounts.models import User
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
