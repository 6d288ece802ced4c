"""Access-checked reads of claims and X12 files: VIEW_BILLING first (403; clinicians never see money), then the
user's organization and programs (404). Claims name patients, so lists write PATIENTS_LISTED (in the views)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from openiop.accounts.models import User
from openiop.claims.models import Claim, ClaimPayment, LinePayment, PaymentAdjustment, Remittance, X12File
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.patients.models import Payer


def claims_for_user(user: User) -> QuerySet[Claim]:
    require(user, Cap.VIEW_BILLING)
    if user.organization_id is None:
        return Claim.objects.none()
    return Claim.objects.filter(organization_id=user.organization_id, program_id__in=program_ids_for(user))


def get_claim_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_BILLING) -> Claim:
    require(user, cap)
    try:
        return (
            claims_for_user(user)
            .select_related("patient", "payer", "program__site", "episode", "coverage", "replaces", "attending")
            .get(public_id=public_id)
        )
    except Claim.DoesNotExist:
        raise Http404 from None


def payers_for_user(user: User) -> QuerySet[Payer]:
    require(user, Cap.VIEW_BILLING)
    if user.organization_id is None:
        return Payer.objects.none()
    return Payer.objects.filter(organization_id=user.organization_id).order_by("-is_active", "name")


def get_payer_for_user(user: User, public_id: UUID | str) -> Payer:
    try:
        return payers_for_user(user).get(public_id=public_id)
    except Payer.DoesNotExist:
        raise Http404 from None


@dataclass
class ClaimFilter:
    status: str = ""
    payer: Payer | None = None
    program_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def list_claims(user: User, f: ClaimFilter) -> QuerySet[Claim]:
    rows = claims_for_user(user).select_related("patient", "payer", "program").order_by("-period_start", "-number")
    if f.status:
        rows = rows.filter(status=f.status)
    if f.payer is not None:
        rows = rows.filter(payer=f.payer)
    if f.program_id is not None:
        rows = rows.filter(program_id=f.program_id)
    if f.date_from is not None:
        rows = rows.filter(period_end__gte=f.date_from)
    if f.date_to is not None:
        rows = rows.filter(period_start__lte=f.date_to)
    return rows


def status_counts(user: User) -> dict[str, dict[str, object]]:
    """Claims and charges per status, one query."""
    rows = claims_for_user(user).values("status").annotate(n=Count("pk"), charged=Sum("total_charge"))
    return {r["status"]: {"n": r["n"], "charged": r["charged"]} for r in rows}


def files_for_user(user: User) -> QuerySet[X12File]:
    require(user, Cap.VIEW_BILLING)
    mine = Q(direction=X12File.Direction.IN) | Q(claims__program_id__in=program_ids_for(user))
    if user.organization_id is None:
        return X12File.objects.none()
    # Eligibility files are one patient's each: they are read on their check's page, where each read is audited on
    # the patient (claims.eligibility), never from this organization-wide list.
    eligibility = (X12File.Kind.ELIGIBILITY_270, X12File.Kind.ELIGIBILITY_271)
    return X12File.objects.filter(mine, organization_id=user.organization_id).exclude(kind__in=eligibility).distinct()


def get_file_for_user(user: User, public_id: UUID | str) -> X12File:
    try:
        return files_for_user(user).get(public_id=public_id)
    except X12File.DoesNotExist:
        raise Http404 from None


def remittances_for_user(user: User) -> QuerySet[Remittance]:
    """The organization's remittances (a received file, like the 999s and 277CAs, is the organization's)."""
    require(user, Cap.VIEW_BILLING)
    if user.organization_id is None:
        return Remittance.objects.none()
    return Remittance.objects.filter(organization_id=user.organization_id).select_related("payer", "file")


def get_remittance_for_user(user: User, public_id: UUID | str) -> Remittance:
    try:
        return remittances_for_user(user).get(public_id=public_id)
    except Remittance.DoesNotExist:
        raise Http404 from None


def _with_details(payments: QuerySet[ClaimPayment]) -> list[ClaimPayment]:
    """Claim payments with their claim-level adjustments, their lines and the lines' adjustments."""
    lines = LinePayment.objects.select_related("claim_line").prefetch_related("adjustments")
    return list(
        payments.select_related("claim__patient", "reverses", "remittance__file").prefetch_related(
            Prefetch("adjustments", queryset=PaymentAdjustment.objects.filter(line__isnull=True)),
            Prefetch("lines", queryset=lines),
        )
    )


def claim_payments(user: User, remittance: Remittance) -> list[ClaimPayment]:
    """A remittance's claim payments the user may see (claims of their programs, and the unmatched ones)."""
    visible = Q(claim__isnull=True) | Q(claim__program_id__in=program_ids_for(user))
    return _with_details(remittance.claim_payments.filter(visible))


def payments_of(claim: Claim) -> list[ClaimPayment]:
    """What the payer's 835s said about a claim the user may already see, oldest first."""
    return _with_details(claim.payments.order_by("pk"))


@dataclass
class Denial:
    """A row of the denials work queue: a denied claim, or a denied line of a claim otherwise paid."""

    claim: Claim
    payment: ClaimPayment | None  # None: a denial recorded by hand (from a paper remittance)
    line: LinePayment | None
    amount: Decimal
    codes: list[dict[str, str]]  # [{code, text}]: the CARCs (group-code) then the RARCs
    age_days: int


def _live_denials(user: User) -> QuerySet[ClaimPayment]:
    """Posted denials not reversed since, on live claims of the user's programs."""
    claims = claims_for_user(user).exclude(status__in=(Claim.Status.REPLACED, Claim.Status.VOIDED))
    return ClaimPayment.objects.filter(claim__in=claims, reversals__isnull=True).select_related(
        "claim__patient", "claim__payer", "remittance"
    )


def denials(user: User, payer: Payer | None = None, reason: str = "", today: date | None = None) -> list[Denial]:
    """Denied claims (status denied, their latest denial) and denied lines (on claims not denied), newest first.
    ``reason`` keeps those with that CARC."""
    today = today or timezone.localdate()
    payments = _live_denials(user)
    if payer is not None:
        payments = payments.filter(claim__payer=payer)
    if reason:
        payments = payments.filter(adjustments__reason=reason).distinct()
    claim_rows = payments.filter(denied=True, claim__status=Claim.Status.DENIED).prefetch_related(
        "adjustments", "lines"
    )
    line_rows = (
        LinePayment.objects.filter(denied=True, claim_payment__in=payments.filter(denied=False))
        .exclude(claim_payment__claim__status=Claim.Status.DENIED)
        .select_related("claim_payment__claim__patient", "claim_payment__claim__payer", "claim_payment__remittance")
        .prefetch_related("adjustments")
    )
    found: dict[int, Denial] = {}
    for payment in claim_rows.order_by("pk"):
        assert payment.claim is not None
        found[payment.claim.pk] = Denial(
            payment.claim,
            payment,
            None,
            payment.charge - payment.paid,
            _codes(
                payment.adjustments.all(), [*payment.remarks, *(r for li in payment.lines.all() for r in li.remarks)]
            ),
            _age(payment, today),
        )
    if not reason:
        by_hand = claims_for_user(user).filter(status=Claim.Status.DENIED).exclude(pk__in=list(found))
        if payer is not None:
            by_hand = by_hand.filter(payer=payer)
        for claim in by_hand.select_related("patient", "payer"):
            found[claim.pk] = Denial(
                claim, None, None, claim.total_charge, [], max((today - timezone.localdate(claim.updated_at)).days, 0)
            )
    rows = list(found.values())
    for line in line_rows:
        payment = line.claim_payment
        assert payment.claim is not None
        rows.append(
            Denial(
                payment.claim,
                payment,
                line,
                line.charge - line.paid,
                _codes(line.adjustments.all(), line.remarks),
                _age(payment, today),
            )
        )
    if reason:
        rows = [r for r in rows if any(c["code"].endswith(f"-{reason}") for c in r.codes)]
    return sorted(rows, key=lambda r: (r.age_days, r.claim.number), reverse=True)


def _codes(adjustments: Any, remarks: list[dict[str, str]]) -> list[dict[str, str]]:
    carcs = {f"{a.group}-{a.reason}": a.reason_text for a in adjustments if a.group in ("CO", "PR", "OA", "PI")}
    rarcs = {r["code"]: r["text"] for r in remarks}
    return [{"code": c, "text": t} for c, t in {**carcs, **rarcs}.items()]


def _age(payment: ClaimPayment, today: date) -> int:
    posted = payment.remittance.payment_date or payment.remittance.created_at.date()
    return max((today - posted).days, 0)


def denial_count(user: User) -> int:
    """The claims list's tile: denied claims plus denied lines of other claims (counts only, no chart data)."""
    payments = _live_denials(user)
    claims = claims_for_user(user).filter(status=Claim.Status.DENIED).count()
    lines = (
        LinePayment.objects.filter(denied=True, claim_payment__in=payments.filter(denied=False))
        .exclude(claim_payment__claim__status=Claim.Status.DENIED)
        .count()
    )
    return claims + lines
