"""Ledger writes: a patient's payment or refund (billing and the front desk), a manual adjustment (billing). Each
is one append-only ``LedgerEntry`` and its audit row in one transaction; bad input is a ValidationError naming the
field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import require
from openiop.core.roles import Cap
from openiop.ledger.models import LedgerEntry

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.patients.models import Patient

# Largest single amount a person types: a typo of a few zeros is refused rather than posted.
MAX_AMOUNT = Decimal("100000")


def _check_amount(amount: Decimal) -> None:
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError({"amount": "At most two decimals (cents)."})
    if not Decimal(0) < abs(amount) <= MAX_AMOUNT:
        raise ValidationError({"amount": f"An amount between 0.01 and {MAX_AMOUNT:,.0f}."})


def _check_day(on: date) -> None:
    if on > timezone.localdate():
        raise ValidationError({"on": "The day the money moved cannot be in the future."})


def _append(patient: Patient, acting_user: User, **fields: Any) -> LedgerEntry:
    entry = LedgerEntry.objects.create(
        organization_id=patient.organization_id, patient=patient, created_by=acting_user, **fields
    )
    audit.record(
        action=AuditAction.CREATED, acting_user=acting_user, patient=patient, obj=entry, changed_fields=["amount"]
    )
    return entry


@transaction.atomic
def do_record_patient_payment(
    patient: Patient,
    *,
    acting_user: User,
    amount: Decimal,
    method: str,
    on: date,
    reference: str = "",
    refund: bool = False,
    reason: str = "",
) -> LedgerEntry:
    """A payment the patient made (positive ``amount``), or a refund to the patient (``refund``: the same positive
    amount typed, stored negative; a reason is required)."""
    require(acting_user, Cap.RECORD_PAYMENTS)
    if amount <= 0:
        raise ValidationError({"amount": "Type the amount received or refunded, above zero."})
    _check_amount(amount)
    if method not in LedgerEntry.Method.values:
        raise ValidationError({"method": "Cash, card or check."})
    _check_day(on)
    if refund and not reason.strip():
        raise ValidationError({"reason": "Say why the money goes back to the patient."})
    return _append(
        patient,
        acting_user,
        kind=LedgerEntry.Kind.REFUND if refund else LedgerEntry.Kind.PAYMENT,
        amount=-amount if refund else amount,
        method=method,
        reference=reference.strip(),
        on=on,
        reason=reason.strip(),
    )


@transaction.atomic
def do_adjust(
    patient: Patient, *, acting_user: User, amount: Decimal, share: str, reason: str, on: date
) -> LedgerEntry:
    """Billing's manual adjustment: a positive amount lowers the balance (a write-off: small balance, hardship,
    prompt-pay discount), a negative one raises it (a write-off taken back). ``share`` says whether it is the
    patient's part (it changes what the patient owes) or the insurance part."""
    require(acting_user, Cap.MANAGE_BILLING)
    _check_amount(amount)
    if share not in LedgerEntry.Share.values:
        raise ValidationError({"share": "The patient's share or the insurance share."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the balance is adjusted."})
    _check_day(on)
    return _append(
        patient, acting_user, kind=LedgerEntry.Kind.ADJUSTMENT, amount=amount, share=share, on=on, reason=reason.strip()
    )
