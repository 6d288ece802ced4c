"""Revenue-cycle reports read from the claims and their posted remittances: accounts receivable aging by payer, days
in A/R, denials by reason, and billed against paid per program.

Definitions (docs/clinical-rules.md#revenue-cycle-reports):
- **Insurance A/R of a claim**: its charge less what payers paid and every adjustment they posted (contractual CO,
  other OA, payer-initiated PI, correction CR, and patient responsibility PR, which moves to the patient's
  balance), for claims sent (submitted, accepted, paid, denied, appealed); a reversal's negative amounts add back.
  Only claims with something outstanding are aged.
- **Age**: days from the day the claim was first sent (its first move to submitted) to the report's day, in the
  buckets 0-30, 31-60, 61-90, 91-120 and over 120.
- **Days in A/R**: the insurance A/R divided by the average charges sent a day over the last 90 days.
- **Denials by reason**: claim-level and line-level adjustments on the remittances posted in the period that the
  posting read as denials, grouped by group code and CARC, with the denial rate = denied claims / claims adjudicated.
- **Billed and paid per program**: charges of the claims first sent in the period, and the payments posted in it.
- **Secondary claims** repeat their primary's charge: they are not billed again (billed and paid, days in A/R). Their
  A/R is what the primary left to the patient (``secondary.handed_over``) until their payer answers; payments from
  both payers count as paid.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import DecimalField, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from openiop.claims import secondary
from openiop.claims.models import Claim, ClaimEvent, ClaimPayment, PaymentAdjustment
from openiop.claims.queries import claims_for_user

if TYPE_CHECKING:
    from openiop.accounts.models import User

SENT = (Claim.Status.SUBMITTED, Claim.Status.ACCEPTED, Claim.Status.PAID, Claim.Status.DENIED, Claim.Status.APPEALED)
BUCKETS = ((0, 30, "0-30"), (31, 60, "31-60"), (61, 90, "61-90"), (91, 120, "91-120"), (121, None, "over 120"))
DAYS_IN_AR_WINDOW = 90
ZERO = Decimal("0.00")


def sent_claims(user: User) -> list[Claim]:
    """Every sent claim of the user's programs with ``paid``, ``adjusted`` and ``sent_on`` (one query)."""
    paid = (
        ClaimPayment.objects.filter(claim=OuterRef("pk"))
        .order_by()
        .values("claim")
        .annotate(total=Sum("paid"))
        .values("total")[:1]
    )
    adjusted = (
        PaymentAdjustment.objects.filter(claim_payment__claim=OuterRef("pk"))
        .order_by()
        .values("claim_payment__claim")
        .annotate(total=Sum("amount"))
        .values("total")[:1]
    )
    sent_at = (
        ClaimEvent.objects.filter(claim=OuterRef("pk"), to_status=Claim.Status.SUBMITTED)
        .order_by()
        .values("claim")
        .annotate(first=Min("at"))
        .values("first")[:1]
    )
    money: DecimalField = DecimalField(max_digits=12, decimal_places=2)
    claims: list[Claim] = list(
        claims_for_user(user)
        .filter(status__in=SENT)
        .select_related("payer", "program", "primary_claim")
        .annotate(
            paid_total=Coalesce(Subquery(paid, output_field=money), Value(ZERO), output_field=money),
            adjusted_total=Coalesce(Subquery(adjusted, output_field=money), Value(ZERO), output_field=money),
            sent_at=Subquery(sent_at),
        )
        .order_by("payer__name", "number")
    )
    for claim in claims:
        if claim.primary_claim_id is not None:
            _secondary_outstanding(claim)
    return claims


def _secondary_outstanding(claim: Claim) -> None:
    """A secondary claim is owed what its primary left to the patient, until its payer answers: each answer takes
    that amount off (whatever it did not pay went to the patient or was written off), a reversal puts it back."""
    asked = secondary.handed_over(claim)
    taken = ZERO
    for payment in claim.payments.prefetch_related("adjustments"):
        share = secondary.share(payment, asked)
        taken += share.paid + share.written_off + secondary.patient_share(payment)
    claim.owed = asked - taken  # type: ignore[attr-defined]


def outstanding(claim: Claim) -> Decimal:
    if claim.primary_claim_id is not None:
        return claim.owed  # type: ignore[attr-defined]
    return claim.total_charge - claim.paid_total - claim.adjusted_total  # type: ignore[attr-defined]


@dataclass
class AgingRow:
    payer: str
    buckets: list[Decimal] = field(default_factory=lambda: [ZERO] * len(BUCKETS))
    claims: int = 0

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, ZERO)


@dataclass
class Aging:
    as_of: date
    rows: list[AgingRow]
    totals: list[Decimal]
    total: Decimal
    days_in_ar: Decimal | None
    daily_charges: Decimal


def _bucket(age: int) -> int:
    return next(i for i, (low, high, _) in enumerate(BUCKETS) if age >= low and (high is None or age <= high))


def aging(user: User, as_of: date | None = None) -> Aging:
    as_of = as_of or timezone.localdate()
    rows: dict[str, AgingRow] = {}
    charged_recently = ZERO
    window_start = as_of - timedelta(days=DAYS_IN_AR_WINDOW)
    for claim in sent_claims(user):
        sent_on = timezone.localdate(claim.sent_at) if claim.sent_at else claim.period_end  # type: ignore[attr-defined]
        if window_start < sent_on <= as_of and claim.primary_claim_id is None:
            charged_recently += claim.total_charge
        owed = outstanding(claim)
        if owed <= 0 or sent_on > as_of:
            continue
        row = rows.setdefault(claim.payer.name, AgingRow(claim.payer.name))
        row.buckets[_bucket((as_of - sent_on).days)] += owed
        row.claims += 1
    ordered = [rows[name] for name in sorted(rows)]
    totals = [sum((r.buckets[i] for r in ordered), ZERO) for i in range(len(BUCKETS))]
    total = sum(totals, ZERO)
    daily = (charged_recently / DAYS_IN_AR_WINDOW).quantize(Decimal("0.01"))
    days = (total / daily).quantize(Decimal("0.1")) if daily > 0 else None
    return Aging(as_of, ordered, totals, total, days, daily)


@dataclass
class DenialRow:
    group: str
    reason: str
    text: str
    claims: int
    amount: Decimal


@dataclass
class Denials:
    start: date
    end: date
    adjudicated: int
    denied: int
    rows: list[DenialRow]

    @property
    def rate(self) -> Decimal | None:
        if not self.adjudicated:
            return None
        return (Decimal(100) * self.denied / self.adjudicated).quantize(Decimal("0.1"))


def denials(user: User, start: date, end: date) -> Denials:
    """Denials posted between ``start`` and ``end`` (remittance payment dates), by group code and CARC."""
    claim_ids = claims_for_user(user).values("pk")
    payments = ClaimPayment.objects.filter(
        claim__in=claim_ids, remittance__payment_date__gte=start, remittance__payment_date__lte=end
    ).exclude(status_code="22")
    adjudicated = payments.values("claim").distinct().count()
    denied_claims = payments.filter(Q(denied=True) | Q(lines__denied=True)).values("claim").distinct().count()
    adjustments = (
        PaymentAdjustment.objects.filter(claim_payment__in=payments)
        .filter(Q(claim_payment__denied=True) | Q(line__denied=True))
        .values("group", "reason", "reason_text")
        .annotate(amount=Sum("amount"))
        .order_by("-amount", "group", "reason")
    )
    counts: dict[tuple[str, str], set[int]] = defaultdict(set)
    for group, reason, claim_id in (
        PaymentAdjustment.objects.filter(claim_payment__in=payments)
        .filter(Q(claim_payment__denied=True) | Q(line__denied=True))
        .values_list("group", "reason", "claim_payment__claim")
    ):
        counts[(group, reason)].add(claim_id)
    rows = [
        DenialRow(a["group"], a["reason"], a["reason_text"], len(counts[(a["group"], a["reason"])]), a["amount"])
        for a in adjustments
    ]
    return Denials(start, end, adjudicated, denied_claims, rows)


@dataclass
class ProgramRow:
    program: str
    billed: Decimal
    paid: Decimal

    @property
    def paid_share(self) -> Decimal | None:
        return (Decimal(100) * self.paid / self.billed).quantize(Decimal("0.1")) if self.billed else None


def billed_and_paid(user: User, start: date, end: date) -> list[ProgramRow]:
    rows: dict[str, ProgramRow] = {}
    for claim in sent_claims(user):
        sent_on = timezone.localdate(claim.sent_at) if claim.sent_at else claim.period_end  # type: ignore[attr-defined]
        if start <= sent_on <= end and claim.primary_claim_id is None:
            row = rows.setdefault(claim.program.name, ProgramRow(claim.program.name, ZERO, ZERO))
            row.billed += claim.total_charge
    posted = (
        ClaimPayment.objects.filter(
            claim__in=claims_for_user(user).values("pk"),
            remittance__payment_date__gte=start,
            remittance__payment_date__lte=end,
        )
        .values("claim__program__name")
        .annotate(total=Sum("paid"))
    )
    for entry in posted:
        name = entry["claim__program__name"]
        rows.setdefault(name, ProgramRow(name, ZERO, ZERO)).paid += entry["total"] or ZERO
    return [rows[name] for name in sorted(rows)]
