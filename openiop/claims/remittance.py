"""Posting an 835 (electronic remittance advice): what each payer paid, adjusted and denied, claim by claim and line
by line, kept as received and applied to our claims in the import's transaction (acks.import_acknowledgement).

Rules (docs/clinical-rules.md#remittance-posting):

- The same file twice is refused by its SHA-256 (acks.py); the same payment twice (the same payer, the same TRN02
  check or EFT number, a claim already posted from it) is refused too, and nothing of the file is posted.
- CLP01 is our CLM01 (``OI`` + ten digits). A claim payment naming no claim of ours is kept, unmatched.
- Lines are matched by REF*6R (the export writes ``{claim number}-{line number}``), else by procedure code and date.
- CLP02 1/2/3/19/20/21 with a payment: **paid** (the payer's claim number kept when we had none). CLP02 4 or 23, or
  nothing paid because of a CO/PR reason that is not the patient's share or the fee schedule: **denied**, the
  reason being the CARCs' (and RARCs') text. Nothing paid only because of deductible, coinsurance or copay: paid (the
  payer processed it; the patient owes it). CLP02 22: a **reversal**: the claim's latest payment is marked reversed,
  the claim goes back to accepted and the negative amounts are kept; the payer's next answer pays or denies it again.
- A line paid nothing for a denial reason on a claim otherwise paid is a denied line (the claim stays paid).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db.models import Q

from openiop.claims.models import (
    TRANSITIONS,
    Claim,
    ClaimLine,
    ClaimPayment,
    LinePayment,
    PaymentAdjustment,
    ProviderAdjustment,
    Remittance,
)
from openiop.claims.x12out import claims_by_control_number, move_claim, note
from openiop.lib import x12
from openiop.lib.x12 import codes
from openiop.patients.models import Payer

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.claims.acks import Imported
    from openiop.lib.x12.remittance import CasAdjustment, ServicePayment
    from openiop.lib.x12.remittance import ClaimPayment as Clp
    from openiop.programs.models import Organization

PAID_CODES = frozenset({"1", "2", "3", "19", "20", "21"})
DENIED_CODES = frozenset({"4", "23"})
REVERSAL_CODE = "22"
# CARCs that reduce a payment without refusing it: the patient's share (deductible, coinsurance, copay), the fee
# schedule and a prior payer's payment. Any other CO or PR reason on a zero payment is a denial.
REDUCTIONS = frozenset({"1", "2", "3", "45", "23"})
DENIAL_GROUPS = frozenset({"CO", "PR"})


def _denial_codes(adjustments: Iterable[CasAdjustment]) -> list[CasAdjustment]:
    return [a for a in adjustments if a.group in DENIAL_GROUPS and a.reason not in REDUCTIONS and a.amount > 0]


def _remarks(codes_: Iterable[str]) -> list[dict[str, str]]:
    return [{"code": c, "text": codes.describe_rarc(c)} for c in dict.fromkeys(codes_) if c]


def _reason(adjustments: Iterable[CasAdjustment], remarks: Iterable[str]) -> str:
    """The denial in words: each CARC once (group-code: text), then each RARC once."""
    parts = [f"{a.group}-{a.reason}: {a.reason_text}" for a in {(a.group, a.reason): a for a in adjustments}.values()]
    parts += [f"{r['code']}: {r['text']}" for r in _remarks(remarks)]
    return "; ".join(parts)[:500]


def _payer_key(remit: x12.Remittance) -> Q:
    """The same payer: by its id when the file gives one, else by its name."""
    if remit.payer_id:
        return Q(remittance__payer_identifier=remit.payer_id[:80])
    return Q(remittance__payer_name=remit.payer_name[:60], remittance__payer_identifier="")


# Largest amount an 835 may carry here (the columns hold 12 digits with cents): anything bigger is a broken file.
MAX_AMOUNT = Decimal("9999999999")


def _amounts(remit: x12.Remittance) -> Iterable[Decimal]:
    yield remit.total_paid
    yield from (p.amount for p in remit.provider_adjustments)
    for clp in remit.claims:
        yield from (clp.charge, clp.paid, clp.patient_responsibility or Decimal(0))
        yield from (a.amount for a in clp.adjustments)
        for service in clp.services:
            yield from (service.charge, service.paid, service.units * 100_000)  # units: 5 digits before cents
            yield from (a.amount for a in service.adjustments)


def refuse_posted_twice(remittances: list[x12.Remittance], organization: Organization) -> None:
    """ValidationError when a payment of the file (payer + TRN02) was already posted for one of its claims, or when
    an amount is beyond what a payment can be."""
    for remit in remittances:
        if any(abs(amount) > MAX_AMOUNT for amount in _amounts(remit)):
            raise ValidationError({"file": "An amount in the file is too large to be a payment; nothing was posted."})
        numbers = [c.patient_control_number[:38] for c in remit.claims]
        posted = sorted(
            set(
                ClaimPayment.objects.filter(
                    _payer_key(remit),
                    remittance__organization=organization,
                    remittance__trace_number=remit.trace_number[:50],
                    claim__isnull=False,
                    control_number__in=numbers,
                ).values_list("control_number", flat=True)
            )
        )
        if posted:
            raise ValidationError(
                {
                    "file": f"Payment {remit.trace_number} from {remit.payer_id or remit.payer_name} was posted "
                    f"already for claim {', '.join(posted[:5])}; nothing in this file was posted."
                }
            )


def post_remittances(
    remittances: list[x12.Remittance], result: Imported, *, acting_user: User, organization: Organization
) -> None:
    refuse_posted_twice(remittances, organization)
    for remit in remittances:
        payer = None
        if remit.payer_id:
            payer = Payer.objects.filter(organization=organization, payer_id=remit.payer_id).first()
        row = Remittance.objects.create(
            organization=organization,
            file=result.file,
            payer_name=remit.payer_name[:60],
            payer_identifier=remit.payer_id[:80],
            payer=payer,
            trace_number=remit.trace_number[:50],
            payment_method=remit.payment_method[:3],
            payment_date=remit.payment_date,
            total_paid=remit.total_paid,
        )
        ProviderAdjustment.objects.bulk_create(
            ProviderAdjustment(
                remittance=row,
                reason=p.reason[:2],
                reference=p.reference[:50],
                amount=p.amount,
                fiscal_period_end=p.fiscal_period_end,
            )
            for p in remit.provider_adjustments
        )
        claims = claims_by_control_number(organization, [c.patient_control_number for c in remit.claims])
        for clp in remit.claims:
            claim = claims.get(clp.patient_control_number)
            payment = _record(row, clp, claim)
            if claim is None:
                result.unknown.append(clp.patient_control_number[:38])
                continue
            _apply(claim, payment, clp, result, acting_user=acting_user)


def _record(remittance: Remittance, clp: Clp, claim: Claim | None) -> ClaimPayment:
    """The claim payment as the payer sent it, its lines matched to ours, every CAS amount with its text."""
    lines = list(claim.lines.all()) if claim is not None else []
    all_adjustments = [*clp.adjustments, *(a for s in clp.services for a in s.adjustments)]
    denied = clp.status_code in DENIED_CODES or (
        clp.status_code in PAID_CODES and clp.paid == 0 and bool(_denial_codes(all_adjustments))
    )
    payment = ClaimPayment.objects.create(
        remittance=remittance,
        claim=claim,
        control_number=clp.patient_control_number[:38],
        status_code=clp.status_code[:2],
        charge=clp.charge,
        paid=clp.paid,
        patient_responsibility=clp.patient_responsibility or Decimal(0),
        payer_claim_number=clp.payer_claim_number[:50],
        remarks=_remarks(clp.remark_codes),
        denied=denied,
        denial_reason=_reason(
            _denial_codes(all_adjustments) or all_adjustments,
            [*clp.remark_codes, *(r for s in clp.services for r in s.remark_codes)],
        )
        if denied
        else "",
    )
    _adjustments(payment, None, clp.adjustments)
    used: set[int] = set()
    for service in clp.services:
        line = _match(claim, lines, used, service)
        row = LinePayment.objects.create(
            claim_payment=payment,
            claim_line=line,
            procedure_code=service.procedure_code[:5],
            modifiers=list(service.modifiers),
            service_date=service.service_start,
            charge=service.charge,
            paid=service.paid,
            units=service.units,
            control_number=service.control_number[:50],
            remarks=_remarks(service.remark_codes),
            denied=service.paid == 0 and bool(_denial_codes(service.adjustments)),
        )
        _adjustments(payment, row, service.adjustments)
    return payment


def _adjustments(payment: ClaimPayment, line: LinePayment | None, cas: Iterable[CasAdjustment]) -> None:
    PaymentAdjustment.objects.bulk_create(
        PaymentAdjustment(
            claim_payment=payment,
            line=line,
            group=a.group[:2],
            reason=a.reason[:5],
            reason_text=a.reason_text[:200],
            amount=a.amount,
            quantity=a.quantity,
        )
        for a in cas
    )


def _match(claim: Claim | None, lines: list[ClaimLine], used: set[int], service: ServicePayment) -> ClaimLine | None:
    """Our line: REF*6R ``{claim number}-{line number}`` first, else the first unmatched line with the same
    procedure code and date."""
    if claim is None:
        return None
    number, _, line_number = service.control_number.partition("-")
    found = None
    if number == str(claim.number) and line_number.isdigit():
        found = next((li for li in lines if li.line_number == int(line_number)), None)
    if found is None:
        found = next(
            (
                li
                for li in lines
                if li.pk not in used
                and li.procedure_code == service.procedure_code
                and li.service_date == service.service_start
            ),
            None,
        )
    if found is not None:
        used.add(found.pk)
    return found


def _apply(claim: Claim, payment: ClaimPayment, clp: Clp, result: Imported, *, acting_user: User) -> None:
    file = payment.remittance.file
    allowed = TRANSITIONS.get(claim.status, ())
    if clp.status_code == REVERSAL_CODE:
        earlier = (
            claim.payments.filter(reverses__isnull=True, reversals__isnull=True)
            .exclude(status_code=REVERSAL_CODE)
            .exclude(pk=payment.pk)
            .order_by("-pk")
            .first()
        )
        payment.reverses = earlier
        payment.save(update_fields=["reverses", "updated_at"])
        text = f"835: reversal of {'the payment' if earlier else 'a payment we have no record of'} ({clp.paid})."
        to, moved = Claim.Status.ACCEPTED, result.reversed
    elif payment.denied:
        text, to, moved = f"835 denied: {payment.denial_reason}", Claim.Status.DENIED, result.denied
    elif clp.status_code in PAID_CODES:
        if clp.payer_claim_number and not claim.payer_claim_number:
            claim.payer_claim_number = clp.payer_claim_number[:50]
            claim.save(update_fields=["payer_claim_number", "updated_at"])
        share = payment.patient_responsibility
        text = f"835: paid {clp.paid} of {clp.charge}" + (f", patient responsibility {share}." if share else ".")
        to, moved = Claim.Status.PAID, result.paid
    else:
        note(claim, file, result.noted, f"835: {clp.status_text} ({clp.status_code}).")
        return
    if to in allowed:
        move_claim(claim, to, acting_user=acting_user, file=file, note=text)
        moved.append(claim)
    else:
        note(claim, file, result.noted, f"{text} The claim stays {claim.get_status_display().lower()}.")
