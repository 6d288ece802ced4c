"""What needs attention: the flags of an authorization, and billable days outside any approved authorization.

An authorization's flags are pure (``flags_for``: the row with ``units_used`` annotated, the program's policy and
its today). Boundaries are inclusive: exactly N days ahead is flagged.

- ``expiring``: approved, ending within ``expiring_within_days`` (today counts, 0 days ahead).
- ``units_low``: approved, not past its end, ``units_low_at`` units or fewer remaining (0 included).
- ``over``: approved, more units used than authorized (remaining below 0), ended or not.
- ``review_due``: approved, not past its end, no review pending with the payer, and the next concurrent review
  (``next_review_on``) within ``review_due_within_days`` (or past).

Days outside an authorization are per episode: ``unauthorized_days``, the one place that decides whether a day
needs an authorization (the payer's setting for the program, else a fallback).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from openiop.billing.models import BillableDay, PayerProgramSetting
from openiop.patients.models import Coverage
from openiop.utilization.models import Authorization, UtilizationPolicy, UtilizationReview

EXPIRING = "expiring"
UNITS_LOW = "units_low"
OVER = "over"
REVIEW_DUE = "review_due"
UNAUTHORIZED = "unauthorized"  # an episode's, not an authorization's

LABELS = {
    EXPIRING: "Ending soon",
    UNITS_LOW: "Few units left",
    OVER: "Over authorization",
    REVIEW_DUE: "Review due",
    UNAUTHORIZED: "Days without authorization",
}
AUTHORIZATION_FLAGS = (EXPIRING, UNITS_LOW, OVER, REVIEW_DUE)


def next_review_on(authorization: Authorization, policy: UtilizationPolicy, today: date) -> date | None:
    """When the next concurrent review is due: the payer's date; else, for "when N units remain", today once they
    do (None before: no date can be known); else ``review_lead_days`` before the end. None when not approved."""
    if authorization.status != Authorization.Status.APPROVED:
        return None
    if authorization.review_due_on is not None:
        return authorization.review_due_on
    if authorization.review_at_units_left is not None:
        return today if authorization.remaining <= authorization.review_at_units_left else None
    return authorization.end_date - timedelta(days=policy.review_lead_days)


@dataclass(frozen=True)
class Flags:
    codes: tuple[str, ...]
    review_on: date | None
    expired: bool

    @property
    def labels(self) -> list[tuple[str, str]]:
        return [(code, LABELS[code]) for code in self.codes]

    def __contains__(self, code: object) -> bool:
        return code in self.codes


def flags_for(
    authorization: Authorization, policy: UtilizationPolicy, today: date, *, review_pending: bool = False
) -> Flags:
    """``authorization`` must carry ``units_used`` (``units.with_usage``)."""
    review_on = next_review_on(authorization, policy, today)
    if authorization.status != Authorization.Status.APPROVED:
        return Flags((), review_on, False)
    codes: list[str] = []
    current = authorization.end_date >= today
    if current and (authorization.end_date - today).days <= policy.expiring_within_days:
        codes.append(EXPIRING)
    if current and 0 <= authorization.remaining <= policy.units_low_at:
        codes.append(UNITS_LOW)
    if authorization.remaining < 0:
        codes.append(OVER)
    if (
        current
        and not review_pending
        and review_on is not None
        and (review_on - today).days <= policy.review_due_within_days
    ):
        codes.append(REVIEW_DUE)
    return Flags(tuple(codes), review_on, not current)


def pending_review_ids(authorizations: list[Authorization]) -> set[int]:
    """The authorizations (of those given) with a review still pending with the payer, in one query."""
    return set(
        UtilizationReview.objects.filter(
            authorization_id__in=[a.pk for a in authorizations], outcome=UtilizationReview.Outcome.PENDING
        ).values_list("authorization_id", flat=True)
    )


# --- Billable days outside an approved authorization -----------------------------------------------------------

# Payer kinds that never need one: self-pay has no payer to ask.
NO_AUTHORIZATION_KINDS = ("", Coverage.PayerKind.SELF_PAY)


def unauthorized_days(days: QuerySet[BillableDay]) -> QuerySet[BillableDay]:
    """Of ``days``, the billable ones that needed an authorization and have none approved covering them.

    Whether a day needs one is decided here, and only here. The payer's own setting decides: the active
    ``billing.PayerProgramSetting`` of the payer of the patient's primary active coverage on that day (as
    ``billing.rules.payer_setting_on`` finds it) and the day's program, by its ``authorization_required``. Medicare
    fee-for-service, which certifies instead of authorizing, is set up with it off. With no setting for that payer
    and program (or a coverage naming no payer), the fallback: the day's payer (``BillableDay.payer_kind``) is not
    self-pay, and the organization uses authorizations at all (it has recorded at least one), so a clinic that has
    not started entering them, or does not need them, gets no queue full of tasks.

    One query for any list of days: the coverage, the setting and the authorizations are ``EXISTS`` subqueries.
    """
    covered = Authorization.objects.filter(
        episode_id=OuterRef("episode_id"),
        status=Authorization.Status.APPROVED,
        start_date__lte=OuterRef("date"),
        end_date__gte=OuterRef("date"),
    )
    in_use = Authorization.objects.filter(episode__patient__organization_id=OuterRef("patient__organization_id"))
    # The payer of the day's primary coverage, seen from inside the setting's subquery (hence the double OuterRef):
    # active, in effect on the day, the lowest priority first, as billing.rules._coverages_on orders them.
    day = OuterRef(OuterRef("date"))
    payer_of_day = (
        Coverage.objects.filter(patient_id=OuterRef(OuterRef("patient_id")), is_active=True)
        .filter(Q(effective_from__isnull=True) | Q(effective_from__lte=day))
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("priority", "pk")
        .values("payer_id")[:1]
    )
    setting = PayerProgramSetting.objects.filter(
        payer_id=Subquery(payer_of_day), program_id=OuterRef("program_id"), is_active=True
    )
    fallback = ~Q(payer_kind__in=NO_AUTHORIZATION_KINDS) & ~Exists(setting) & Exists(in_use)
    return (
        days.filter(is_billable=True)
        .filter(Exists(setting.filter(authorization_required=True)) | fallback)
        .filter(~Exists(covered))
    )
