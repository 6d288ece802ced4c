"""A patient's ledger, built when it is read: the insurance side from the claims app's rows, the patient's side
from ``LedgerEntry`` (docs/clinical-rules.md#patient-ledger).

- **Charge**: a claim's total on the day it was first submitted (a void claim, frequency 8, charges nothing). When
  a submitted claim is later replaced or voided, its charge comes off on that day (the replacement charges anew).
- **Insurance payment**: each posted 835 claim payment's amount (a reversal's is negative).
- **Write-off**: the CO, OA, PI and CR adjustments of each posted claim payment (contractual, other,
  payer-initiated, corrections): the clinic may not bill the patient for them.
- **Patient responsibility**: the PR adjustments (deductible, coinsurance, copay, and PR denials): what the patient
  owes. They move no money, only who owes it.
- **Patient payment / refund / adjustment**: ``LedgerEntry`` rows.
- **Secondary claims** (``claims.secondary``) repeat their primary's charge, so they charge nothing here. Their
  payer's payment is an insurance payment; of what the primary left to the patient, the part the secondary payer
  neither paid nor left to the patient (its PR amounts) is its write-off, and what the patient owes becomes its PR.
  Its other adjustments restate the primary's answer and are not counted again.

balance = charges - insurance paid - adjustments (write-offs and manual) - patient paid
patient balance = patient responsibility - patient paid - manual adjustments of the patient's share
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from openiop.claims import secondary
from openiop.claims.models import Claim, ClaimEvent, ClaimPayment
from openiop.core.permissions import program_ids_for
from openiop.ledger.models import LedgerEntry

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.patients.models import Patient

ZERO = Decimal(0)
WRITE_OFF_GROUPS = frozenset({"CO", "OA", "PI", "CR"})
PATIENT_GROUP = "PR"


@dataclass(frozen=True)
class Line:
    """One ledger line. ``amount`` moves the balance (charges up, payments and write-offs down); ``patient_amount``
    moves what the patient owes."""

    on: date
    kind: str
    description: str
    amount: Decimal
    patient_amount: Decimal = ZERO
    claim: str = ""  # the claim's control number
    entry: LedgerEntry | None = None


@dataclass
class Ledger:
    lines: list[Line] = field(default_factory=list)
    charges: Decimal = ZERO
    insurance_paid: Decimal = ZERO
    adjustments: Decimal = ZERO
    patient_responsibility: Decimal = ZERO
    patient_paid: Decimal = ZERO
    patient_adjustments: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        return self.charges - self.insurance_paid - self.adjustments - self.patient_paid

    @property
    def patient_balance(self) -> Decimal:
        return self.patient_responsibility - self.patient_paid - self.patient_adjustments

    def add(self, line: Line) -> None:
        self.lines.append(line)


def _claims(user: User | None, patient: Patient) -> Q:
    """The patient's claims in the programs the user works in (all of them for the system itself): a ledger read in
    a mental health program shows no substance-use program's claims."""
    where = Q(patient=patient, organization_id=patient.organization_id)
    if user is not None:
        where &= Q(program_id__in=program_ids_for(user))
    return where


def _charges(ledger: Ledger, claims: Q) -> None:
    events = (
        ClaimEvent.objects.filter(
            # A void charges nothing, and a secondary claim's charge is its primary's.
            claim__in=Claim.objects.filter(claims, primary_claim__isnull=True).exclude(frequency=Claim.Frequency.VOID)
        )
        .filter(to_status__in=(Claim.Status.SUBMITTED, Claim.Status.REPLACED, Claim.Status.VOIDED))
        .select_related("claim")
        .order_by("at", "pk")
    )
    charged: set[int] = set()
    for event in events:
        claim = event.claim
        on = timezone.localdate(event.at)
        if event.to_status == Claim.Status.SUBMITTED and claim.pk not in charged:
            charged.add(claim.pk)
            text = f"Charge: {claim.period_start:%b %-d} to {claim.period_end:%b %-d, %Y}, {claim.lines.count()} day(s)"
            ledger.add(Line(on, "charge", text, claim.total_charge, claim=claim.control_number))
            ledger.charges += claim.total_charge
        elif event.to_status != Claim.Status.SUBMITTED and claim.pk in charged and event.from_status != event.to_status:
            charged.discard(claim.pk)
            verb = "replaced" if event.to_status == Claim.Status.REPLACED else "voided"
            ledger.add(
                Line(on, "charge", f"Charge taken off: claim {verb}", -claim.total_charge, claim=claim.control_number)
            )
            ledger.charges -= claim.total_charge


def _insurance(ledger: Ledger, claims: Q) -> None:
    payments = (
        ClaimPayment.objects.filter(claim__in=Claim.objects.filter(claims))
        .select_related("claim__primary_claim", "remittance")
        .prefetch_related("adjustments")
        .order_by("remittance__payment_date", "pk")
    )
    asked: dict[int, Decimal] = {}
    for payment in payments:
        assert payment.claim is not None
        number = payment.claim.control_number
        on = payment.remittance.payment_date or timezone.localdate(payment.created_at)
        payer = payment.remittance.payer_name
        reversal = payment.status_code == "22"
        if payment.claim.primary_claim_id is not None:
            if payment.claim.pk not in asked:
                asked[payment.claim.pk] = secondary.handed_over(payment.claim)
            _secondary_payment(ledger, payment, secondary.share(payment, asked[payment.claim.pk]), on)
            continue
        if payment.paid:
            text = f"{payer}: payment reversed" if reversal else f"{payer} paid"
            ledger.add(Line(on, "insurance", text, -payment.paid, claim=number))
            ledger.insurance_paid += payment.paid
        written = sum((a.amount for a in payment.adjustments.all() if a.group in WRITE_OFF_GROUPS), ZERO)
        if written:
            codes = ", ".join(
                sorted({f"{a.group}-{a.reason}" for a in payment.adjustments.all() if a.group in WRITE_OFF_GROUPS})
            )
            ledger.add(Line(on, "write-off", f"Insurance adjustment ({codes})", -written, claim=number))
            ledger.adjustments += written
        owed = sum((a.amount for a in payment.adjustments.all() if a.group == PATIENT_GROUP), ZERO)
        if owed:
            reasons = ", ".join(
                dict.fromkeys(a.reason_text for a in payment.adjustments.all() if a.group == PATIENT_GROUP)
            )
            ledger.add(
                Line(on, "patient responsibility", f"Patient responsibility: {reasons}", ZERO, owed, claim=number)
            )
            ledger.patient_responsibility += owed


def _secondary_payment(ledger: Ledger, payment: ClaimPayment, share: secondary.Share, on: date) -> None:
    """A secondary payer's answer: its payment, its write-off of what the primary left, and the patient's share
    moving from what the primary left to what the secondary leaves."""
    assert payment.claim is not None
    number, payer = payment.claim.control_number, payment.remittance.payer_name
    if share.paid:
        text = f"{payer} (secondary): payment reversed" if payment.status_code == "22" else f"{payer} (secondary) paid"
        ledger.add(Line(on, "insurance", text, -share.paid, claim=number))
        ledger.insurance_paid += share.paid
    if share.written_off:
        ledger.add(Line(on, "write-off", f"{payer} (secondary): not paid, not the patient's", -share.written_off,
                        claim=number))  # fmt: skip
        ledger.adjustments += share.written_off
    if share.patient:
        text = f"Patient responsibility after {payer} (secondary)"
        ledger.add(Line(on, "patient responsibility", text, ZERO, share.patient, claim=number))
        ledger.patient_responsibility += share.patient


def _entries(ledger: Ledger, patient: Patient) -> None:
    for entry in LedgerEntry.objects.filter(patient=patient).select_related("created_by").order_by("on", "pk"):
        if entry.kind == LedgerEntry.Kind.ADJUSTMENT:
            ledger.adjustments += entry.amount
            mine = entry.share == LedgerEntry.Share.PATIENT
            if mine:
                ledger.patient_adjustments += entry.amount
            ledger.add(
                Line(
                    entry.on,
                    "adjustment",
                    f"Adjustment ({entry.get_share_display().lower()}): {entry.reason}",
                    -entry.amount,
                    -entry.amount if mine else ZERO,
                    entry=entry,
                )
            )
            continue
        ledger.patient_paid += entry.amount
        how = entry.get_method_display().lower() + (f" {entry.reference}" if entry.reference else "")
        text = (
            f"Patient payment ({how})" if entry.kind == LedgerEntry.Kind.PAYMENT else f"Refund ({how}): {entry.reason}"
        )
        ledger.add(Line(entry.on, entry.kind, text, -entry.amount, -entry.amount, entry=entry))


def build_ledger(patient: Patient, user: User | None = None) -> Ledger:
    """Every line of the patient's account, oldest first, with the totals and the two balances."""
    ledger = Ledger()
    claims = _claims(user, patient)
    _charges(ledger, claims)
    _insurance(ledger, claims)
    _entries(ledger, patient)
    ledger.lines.sort(key=lambda line: line.on)  # stable: within a day, charges, then insurance, then the patient's
    return ledger
