"""Secondary claims (coordination of benefits): billing the patient's next payer for what the first one left.

Rules (docs/clinical-rules.md#secondary-claims-coordination-of-benefits):

- A claim whose payer has answered it (paid or denied, from a posted 835 answer that no reversal took back) may be
  billed to the patient's coverage of the next priority (secondary after primary, tertiary after secondary) when that
  coverage is active over the claim's whole period and its payer has an active setting for the program with the
  same claim type. One live secondary claim per claim, under a row lock on the claim it follows.
- The secondary claim repeats the first claim's lines (same numbers, codes, dates, units and charges, as the 837
  coordination-of-benefits rules require) but holds no billable day: the day stays on the first claim. The 837 adds
  the first payer's answer (loops 2320/2330/2430, ``x12out.to_x12``).
- Money is counted once: the secondary claim's charge is the first claim's charge again, so it is not a new charge
  (ledger, billed and paid, days in A/R). Its payer is asked for what the first payer left to the patient
  (``handed_over``); whatever it does not pay of that, it either leaves to the patient (its PR amounts) or writes
  off (``share``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openiop.billing.models import PayerProgramSetting
from openiop.claims import build
from openiop.claims.models import Claim, ClaimEvent, ClaimLine, ClaimPayment
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.patients.models import Coverage

if TYPE_CHECKING:
    from openiop.accounts.models import User

ZERO = Decimal(0)
REVERSAL_CODE = "22"
PATIENT_GROUP = "PR"
# A payer's answer stands in these statuses (an appeal keeps the denial until the payer answers again).
ANSWERED = (Claim.Status.PAID, Claim.Status.DENIED, Claim.Status.APPEALED)
# What a secondary claim copies from the claim it follows, besides its lines.
# (Not the authorization number: the secondary payer's own authorization, if any, goes on its claim.)
COPIED = ("place_of_service", "diagnoses", "condition_codes", "attending", "supervising")
# ClaimLine fields that are not the service itself: the copy gets its own (and never the billable day).
# A copy holds neither the day nor the service: the primary claim does (one live claim line each).
NOT_COPIED = frozenset(
    {"id", "public_id", "created_at", "updated_at", "claim", "billable_day", "attendance_record", "released"}
)


def adjudication(claim: Claim) -> ClaimPayment | None:
    """The payer's answer about ``claim`` that still stands: its latest posted claim payment that is not a reversal
    and that no reversal took back (None before the payer answered in an 835)."""
    return (
        ClaimPayment.objects.filter(claim_id=claim.pk, reversals__isnull=True)
        .exclude(status_code=REVERSAL_CODE)
        .select_related("remittance")
        .prefetch_related("adjustments", "lines__adjustments", "lines__claim_line")
        .order_by("-pk")
        .first()
    )


def patient_share(payment: ClaimPayment) -> Decimal:
    """What the payer left to the patient: its PR adjustments, claim and line level (a reversal's are negative)."""
    return sum((a.amount for a in payment.adjustments.all() if a.group == PATIENT_GROUP), ZERO)


def handed_over(claim: Claim) -> Decimal:
    """What a secondary claim asks its payer for: what the claim before it left to the patient (the remaining
    patient liability its 837 sends, AMT*EAF). Zero for a primary claim or before the first payer answered."""
    if claim.primary_claim_id is None:
        return ZERO
    assert claim.primary_claim is not None  # narrowing: the id is set
    payment = adjudication(claim.primary_claim)
    return patient_share(payment) if payment is not None else ZERO


@dataclass(frozen=True)
class Share:
    """What one posted answer on a secondary claim does to the money: ``paid`` by its payer, ``written_off`` (the
    part of what it was asked for that it neither paid nor left to the patient) and ``patient``, the change in what
    the patient owes (negative when the secondary payer took some of it over). For a reversal, all negative."""

    paid: Decimal
    written_off: Decimal
    patient: Decimal


def share(payment: ClaimPayment, asked: Decimal) -> Share:
    """``payment`` of a secondary claim that asked for ``asked``. Its adjustments are not read as write-offs: a
    secondary payer restates the first payer's answer in them (CARC 23, or CO-45 on the whole charge), which the
    ledger counted already. What it leaves to the patient (PR) is the patient's final share."""
    taken = -asked if payment.status_code == REVERSAL_CODE else asked
    owed = patient_share(payment)
    return Share(paid=payment.paid, written_off=taken - payment.paid - owed, patient=owed - taken)


def next_priority(claim: Claim) -> int | None:
    priority = claim.coverage.priority + 1
    return priority if priority in Coverage.Priority.values else None


def next_coverage_exists(claim: Claim) -> bool:
    """Whether the patient has an active coverage of the next priority at all (the claim page then says why a
    secondary claim cannot be built yet, when it cannot)."""
    priority = next_priority(claim)
    return priority is not None and claim.patient.coverages.filter(is_active=True, priority=priority).exists()


def live_secondary(claim: Claim) -> Claim | None:
    return next((c for c in claim.secondary_claims.order_by("-number") if c.is_live), None)


@dataclass(frozen=True)
class Plan:
    coverage: Coverage
    setting: PayerProgramSetting
    answer: ClaimPayment


def plan(claim: Claim) -> Plan:
    """What a secondary claim after ``claim`` would use, or a ValidationError naming the field that refuses it."""
    payer = claim.payer.name
    if not claim.is_live or claim.frequency == Claim.Frequency.VOID:
        raise ValidationError({"status": "A replaced or voided claim is not billed to another payer."})
    if claim.status not in ANSWERED:
        raise ValidationError(
            {"status": f"The claim is {claim.get_status_display().lower()}: {payer} must answer it first (an 835)."}
        )
    answer = adjudication(claim)
    if answer is None:
        raise ValidationError(
            {"primary_claim": f"No 835 answer from {payer} is posted for this claim: the next payer needs its amounts."}
        )
    existing = live_secondary(claim)
    if existing is not None:
        raise ValidationError(
            {"primary_claim": f"Already billed to the next payer as claim {existing.control_number} (void it first)."}
        )
    if not answer.denied and patient_share(answer) <= 0:
        raise ValidationError({"primary_claim": f"{payer} left nothing to the patient: nothing to bill another payer."})
    coverage = _next_coverage(claim)
    if (
        coverage.payer is None
        or not coverage.payer.is_active
        or coverage.payer.organization_id != claim.organization_id
    ):
        raise ValidationError(
            {"payer": f"{coverage.payer_name}: choose an active payer on the coverage (Insurance tab)."}
        )
    setting = build.setting_for(coverage.payer, claim.program)
    if setting.claim_type != claim.claim_type:
        raise ValidationError(
            {
                "claim_type": f"{coverage.payer.name} is billed on {setting.claim_type} for {claim.program.name} and "
                f"this claim is {claim.claim_type}: a secondary claim repeats its lines, so the claim types must match "
                "(Billing setup)."
            }
        )
    return Plan(coverage, setting, answer)


def _next_coverage(claim: Claim) -> Coverage:
    priority = next_priority(claim)
    found = None
    if priority is not None:
        found = (
            Coverage.objects.filter(patient_id=claim.patient_id, is_active=True, priority=priority)
            .filter(Q(effective_from__isnull=True) | Q(effective_from__lte=claim.period_start))
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=claim.period_end))
            .select_related("payer")
            .order_by("-created_at", "-pk")
            .first()
        )
    if found is None:
        label = Coverage.Priority(priority).label.lower() if priority is not None else "next"
        raise ValidationError(
            {
                "coverage": f"The patient has no active {label} coverage over {claim.period_start:%Y-%m-%d} to "
                f"{claim.period_end:%Y-%m-%d} (Insurance tab)."
            }
        )
    return found


def why_not(claim: Claim) -> str:
    """Why no secondary claim can be built after ``claim`` now, in words ("" when it can)."""
    try:
        plan(claim)
    except ValidationError as exc:
        return " ".join(exc.messages)
    return ""


def _copy_lines(source: Claim, claim: Claim) -> None:
    fields = [f.attname for f in ClaimLine._meta.concrete_fields if f.name not in NOT_COPIED]
    ClaimLine.objects.bulk_create(
        ClaimLine(claim=claim, **{name: getattr(line, name) for name in fields}) for line in source.lines.all()
    )


@transaction.atomic
def build_secondary(claim: Claim, acting_user: User | None) -> Claim:
    """The claim to the patient's next payer after ``claim`` (ValidationError naming the field that refuses it)."""
    # The row lock makes a second build at the same moment wait, then find the first one's claim and refuse.
    primary = (
        Claim.objects.select_for_update(of=("self",))
        .select_related("patient", "payer", "coverage", "program", "episode", "attending", "supervising")
        .get(pk=claim.pk)
    )
    chosen = plan(primary)
    payer = chosen.coverage.payer
    assert payer is not None  # narrowing: plan() refuses a coverage without one
    organization = primary.organization
    secondary = Claim.objects.create(
        organization=organization,
        program=primary.program,
        episode=primary.episode,
        patient=primary.patient,
        coverage=chosen.coverage,
        payer=payer,
        number=build.next_number(organization, "claim"),
        claim_type=primary.claim_type,
        frequency=Claim.Frequency.ORIGINAL,
        primary_claim=primary,
        period_start=primary.period_start,
        period_end=primary.period_end,
        type_of_bill=primary.type_of_bill[:3] + Claim.Frequency.ORIGINAL if primary.type_of_bill else "",
        total_charge=primary.total_charge,
        created_by=acting_user,
        **{name: getattr(primary, name) for name in COPIED},
    )
    _copy_lines(primary, secondary)
    days = [primary.period_start]
    authorization = build.authorization_for(primary.episode, chosen.coverage.pk, days)
    if authorization is not None:
        secondary.authorization_number = authorization.number
        secondary.save(update_fields=["authorization_number", "updated_at"])
    ClaimEvent.objects.create(
        claim=secondary,
        at=timezone.now(),
        to_status=Claim.Status.DRAFT,
        by=acting_user,
        note=f"Built: secondary to claim {primary.control_number} ({primary.payer.name} answered).",
    )
    build.apply_scrub(secondary, acting_user=acting_user)
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=primary.patient,
        obj=secondary,
        changed_fields=["primary_claim", "lines", "status"],
    )
    return secondary
