"""Access-checked reads of billing: the role check first (403), then the user's organization and programs (404).

- Billable days: VIEW_BILLING, in the user's own programs. They name patients, so lists write PATIENTS_LISTED.
  A list first decides the days of its range still pending (``days.decide_pending``): the one write a read makes.
- Payer rules (configuration, not patient data): read with VIEW_BILLING, MANAGE_BILLING or MANAGE_PROGRAMS; the
  organization-wide rules and the rules of the reader's programs. Writing a program's rule needs MANAGE_BILLING
  (billing staff, for their programs) or MANAGE_PROGRAMS (directors, for the programs they manage); an
  organization-wide rule needs MANAGE_BILLING or MANAGE_ORGANIZATION.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404

from openiop.accounts.models import User
from openiop.billing.days import decide_pending
from openiop.billing.models import (
    BillableDay,
    BillingProvider,
    ClinicianBillingIdentity,
    FeeScheduleRate,
    PayerProgramSetting,
    PayerRule,
)
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.patients.models import Payer
from openiop.programs.models import Organization, Program, Site
from openiop.programs.queries import managed_program_ids
from openiop.programs.signing import CLINICAL_ROLES

RULE_READ_CAPS = (Cap.VIEW_BILLING, Cap.MANAGE_BILLING, Cap.MANAGE_PROGRAMS)
RULE_WRITE_CAPS = (Cap.MANAGE_BILLING, Cap.MANAGE_PROGRAMS)


# --- Billable days ----------------------------------------------------------------------------------------------


def billing_programs(user: User) -> QuerySet[Program]:
    require(user, Cap.VIEW_BILLING)
    return Program.objects.filter(pk__in=program_ids_for(user)).select_related("site").order_by("name")


def get_billing_program(user: User, public_id: UUID | str) -> Program:
    return get_object_or_404(billing_programs(user), public_id=public_id)


def billable_days(
    user: User,
    program: Program,
    date_from: date,
    date_to: date,
    *,
    patient_id: UUID | None = None,
    billable_only: bool = False,
) -> QuerySet[BillableDay]:
    """One program's patient-days in a date range (inclusive), in date then name order, with their rule.

    The days of the range still pending (asked for by a check-in whose queued decision has not run yet, or was
    lost) are decided first, so the page, the export and the API never show a day without its latest attendance
    (one query when none is)."""
    require(user, Cap.VIEW_BILLING)
    if program.pk not in program_ids_for(user):
        raise PermissionDenied  # callers look the program up with get_billing_program (404) first
    decide_pending(program=program, since=date_from, until=date_to)
    qs = BillableDay.objects.filter(program=program, date__gte=date_from, date__lte=date_to)
    if patient_id is not None:
        qs = qs.filter(patient__public_id=patient_id)
    if billable_only:
        qs = qs.filter(is_billable=True)
    return qs.select_related("patient", "rule", "episode").order_by(
        "date", "patient__legal_last_name", "patient__legal_first_name", "pk"
    )


@dataclass(frozen=True)
class Totals:
    days: int
    billable: int
    standard: int
    high: int
    minutes: int

    @property
    def not_billable(self) -> int:
        return self.days - self.billable


def totals(days: QuerySet[BillableDay]) -> Totals:
    """The range's totals in one query."""
    row: dict[str, Any] = days.order_by().aggregate(
        days=Count("pk"),
        billable=Count("pk", filter=Q(is_billable=True)),
        standard=Count("pk", filter=Q(tier=BillableDay.Tier.STANDARD)),
        high=Count("pk", filter=Q(tier=BillableDay.Tier.HIGH)),
        minutes=Sum("minutes_attended", filter=Q(is_billable=True)),
    )
    return Totals(row["days"], row["billable"], row["standard"], row["high"], row["minutes"] or 0)


# --- Payer rules ------------------------------------------------------------------------------------------------


def can_read_rules(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and any(user.can(c) for c in RULE_READ_CAPS)


def require_read_rules(user: Any) -> None:
    if not can_read_rules(user):
        raise PermissionDenied


def can_write_rules(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and any(user.can(c) for c in RULE_WRITE_CAPS)


def can_write_organization_rules(user: User) -> bool:
    return user.can(Cap.MANAGE_BILLING) or user.can(Cap.MANAGE_ORGANIZATION)


def rule_program_ids(user: User) -> list[int]:
    """Programs whose own rules the user may write."""
    ids: set[int] = set()
    if user.can(Cap.MANAGE_BILLING):
        ids |= set(program_ids_for(user))
    if user.can(Cap.MANAGE_PROGRAMS):
        ids |= set(managed_program_ids(user))
    return sorted(ids)


def readable_program_ids(user: User) -> list[int]:
    return sorted(set(program_ids_for(user)) | set(managed_program_ids(user)))


def rules_for_user(user: User) -> QuerySet[PayerRule]:
    require_read_rules(user)
    if user.organization_id is None:
        return PayerRule.objects.none()
    return (
        PayerRule.objects.filter(organization_id=user.organization_id)
        .filter(Q(program__isnull=True) | Q(program_id__in=readable_program_ids(user)))
        .select_related("program")
        .order_by("-is_active", "program__name", "payer_kind", "name", "pk")
    )


def rule_programs_for(user: User) -> QuerySet[Program]:
    return Program.objects.filter(pk__in=rule_program_ids(user)).select_related("site").order_by("name")


def may_write_rule(user: User, rule: PayerRule) -> bool:
    if rule.program_id is None:
        return can_write_organization_rules(user)
    return rule.program_id in rule_program_ids(user)


def get_rule_for_user(user: User, public_id: UUID | str, *, write: bool = False) -> PayerRule:
    if write and not can_write_rules(user):
        raise PermissionDenied
    rule = get_object_or_404(rules_for_user(user), public_id=public_id)
    if write and not may_write_rule(user, rule):
        raise PermissionDenied
    return rule


# --- Billing setup: identities, payers, payer program settings, the fee schedule ---------------------------------
#
# The organization's configuration, not patient data (reads are not audited). Read: VIEW_BILLING, MANAGE_BILLING or
# MANAGE_ORGANIZATION; write: MANAGE_BILLING (billing staff) or MANAGE_ORGANIZATION (the organization's
# administrators); everyone else 403. Only the user's own organization: any other record is a 404.

SETUP_READ_CAPS = (Cap.VIEW_BILLING, Cap.MANAGE_BILLING, Cap.MANAGE_ORGANIZATION)
SETUP_WRITE_CAPS = (Cap.MANAGE_BILLING, Cap.MANAGE_ORGANIZATION)


def can_write_setup(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and any(user.can(c) for c in SETUP_WRITE_CAPS)


def setup_organization(user: User, *, write: bool = False) -> Organization:
    """The organization whose setup the user reads (or writes): 403 without the capability, 404 without one."""
    require(user, any_of=SETUP_WRITE_CAPS if write else SETUP_READ_CAPS)
    if user.organization is None:
        raise Http404
    return user.organization


def payers_for(user: User) -> QuerySet[Payer]:
    return Payer.objects.filter(organization=setup_organization(user)).order_by("-is_active", "name", "pk")


def get_payer_for_user(user: User, public_id: UUID | str, *, write: bool = False) -> Payer:
    return get_object_or_404(Payer, organization=setup_organization(user, write=write), public_id=public_id)


def sites_for(user: User) -> QuerySet[Site]:
    return (
        Site.objects.filter(organization=setup_organization(user))
        .select_related("billing_identity")
        .order_by("name", "pk")
    )


def get_site_for_user(user: User, public_id: UUID | str, *, write: bool = False) -> Site:
    return get_object_or_404(Site, organization=setup_organization(user, write=write), public_id=public_id)


def clinician_identities_for(user: User) -> QuerySet[ClinicianBillingIdentity]:
    return (
        ClinicianBillingIdentity.objects.filter(organization=setup_organization(user))
        .select_related("user")
        .order_by("-is_active", "user__last_name", "user__first_name", "pk")
    )


def providers_without_identity(organization: Organization) -> QuerySet[User]:
    """Active staff who may provide services (directors and clinicians) and have no billing identity yet."""
    return (
        User.objects.filter(organization=organization, is_active=True, role__in=CLINICAL_ROLES)
        .filter(billing_identity__isnull=True)
        .order_by("last_name", "first_name", "pk")
    )


def get_clinician_identity_for_user(
    user: User, public_id: UUID | str, *, write: bool = False
) -> ClinicianBillingIdentity:
    return get_object_or_404(
        ClinicianBillingIdentity.objects.select_related("user"),
        organization=setup_organization(user, write=write),
        public_id=public_id,
    )


def payer_settings_for(user: User) -> QuerySet[PayerProgramSetting]:
    return (
        PayerProgramSetting.objects.filter(payer__organization=setup_organization(user))
        .select_related("payer", "program")
        .order_by("-is_active", "payer__name", "program__name", "pk")
    )


def get_payer_setting_for_user(user: User, public_id: UUID | str, *, write: bool = False) -> PayerProgramSetting:
    return get_object_or_404(
        PayerProgramSetting.objects.select_related("payer", "program__site"),
        payer__organization=setup_organization(user, write=write),
        public_id=public_id,
    )


def organization_programs(organization: Organization) -> QuerySet[Program]:
    return Program.objects.filter(site__organization=organization).select_related("site").order_by("name", "pk")


def fee_rates_for(user: User) -> QuerySet[FeeScheduleRate]:
    return (
        FeeScheduleRate.objects.filter(organization=setup_organization(user))
        .select_related("payer")
        .order_by("-is_active", "payer__name", "code", "modifier", "tier", "-effective_from", "pk")
    )


def get_fee_rate_for_user(user: User, public_id: UUID | str, *, write: bool = False) -> FeeScheduleRate:
    return get_object_or_404(
        FeeScheduleRate.objects.select_related("payer"),
        organization=setup_organization(user, write=write),
        public_id=public_id,
    )


def billing_provider_of(organization: Organization) -> BillingProvider | None:
    return BillingProvider.objects.filter(organization=organization).first()
