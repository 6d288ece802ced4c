"""Claim writes: build, re-scrub, export, import an acknowledgement, void, replace, appeal, record a denial.

Each is one transaction with its history step (``ClaimEvent``) and audit row. Moves follow ``models.TRANSITIONS``;
anything else is a ValidationError naming ``status``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.billing.models import BillableDay
from openiop.claims import acks, build, secondary, x12out
from openiop.claims.models import TRANSITIONS, Claim, ClaimEvent, ClaimLine
from openiop.core import audit
from openiop.core.models import AuditAction

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.patients.models import Payer
    from openiop.programs.models import Organization, Program

do_export_claims = x12out.export_claims
do_import_acknowledgement = acks.import_acknowledgement
ExportBlocked = x12out.ExportBlocked
do_build_secondary = secondary.build_secondary


def do_build_claims(
    *, acting_user: User, program: Program, payer: Payer, start: date | None, end: date | None
) -> build.BuildResult:
    return build.build_claims(acting_user=acting_user, program=program, payer=payer, start=start, end=end)


def _locked(claim: Claim) -> Claim:
    return Claim.objects.select_for_update(of=("self",)).select_related("patient", "payer", "replaces").get(pk=claim.pk)


def _check_move(claim: Claim, to: str) -> None:
    if to not in TRANSITIONS.get(claim.status, ()):
        raise ValidationError(
            {"status": f"A {claim.get_status_display().lower()} claim cannot become {Claim.Status(to).label.lower()}."}
        )


@transaction.atomic
def do_rescrub(claim: Claim, *, acting_user: User) -> list[dict[str, str]]:
    """Scrub again after fixing the chart or the setup (a draft, ready or rejected claim): rebuilds what the claim
    copies (codes, charges, providers, diagnoses) from the same days, then moves it to ready or draft."""
    claim = _locked(claim)
    if claim.status not in (Claim.Status.DRAFT, Claim.Status.READY, Claim.Status.REJECTED):
        raise ValidationError({"status": "Only draft, ready or rejected claims are scrubbed again."})
    if claim.primary_claim_id:
        # A secondary claim's lines are the primary's copies, not days: scrub them as they are.
        return build.apply_scrub(claim, acting_user=acting_user)
    # One entry per day: a claim listing services has several lines on one day.
    days = {line.billable_day_id: line.billable_day for line in claim.lines.select_related("billable_day")}
    setting = build.setting_for(claim.payer, claim.program)
    claim.lines.all().delete()
    build.fill_claim(claim, setting, sorted((d for d in days.values() if d is not None), key=lambda d: d.date))
    problems = build.apply_scrub(claim, acting_user=acting_user)
    audit.record(
        action=AuditAction.UPDATED, acting_user=acting_user, patient=claim.patient, obj=claim, changed_fields=["lines"]
    )
    return problems


def _correction(original: Claim, frequency: str, *, acting_user: User) -> Claim:
    """A new claim taking ``original``'s place at the payer (7) or withdrawing it (8)."""
    organization: Organization = original.organization
    claim = Claim.objects.create(
        organization=organization,
        program=original.program,
        episode=original.episode,
        patient=original.patient,
        coverage=original.coverage,
        payer=original.payer,
        number=build.next_number(organization, "claim"),
        claim_type=original.claim_type,
        frequency=frequency,
        replaces=original,
        period_start=original.period_start,
        period_end=original.period_end,
        created_by=acting_user,
    )
    ClaimEvent.objects.create(
        claim=claim,
        at=timezone.now(),
        to_status=Claim.Status.DRAFT,
        by=acting_user,
        note=f"{claim.get_frequency_display()} {original.control_number}.",
    )
    return claim


@transaction.atomic
def do_void(claim: Claim, *, acting_user: User, reason: str) -> Claim | None:
    """Withdraw a claim. Never sent (draft, ready, rejected): voided here, its days free to bill again. Sent and
    accepted by the payer: a frequency-8 claim carrying the same lines and the payer's claim number goes out."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the claim is voided."})
    claim = _locked(claim)
    _check_move(claim, Claim.Status.VOIDED)
    claim.lines.update(released=True)
    void: Claim | None = None
    if claim.status in (Claim.Status.DRAFT, Claim.Status.READY, Claim.Status.REJECTED):
        x12out.move_claim(claim, Claim.Status.VOIDED, acting_user=acting_user, note=f"Voided: {reason}")
        return None
    if not claim.payer_claim_number:
        raise ValidationError({"status": "The payer's claim number (from the 277CA or 835) is needed to void it."})
    void = _correction(claim, Claim.Frequency.VOID, acting_user=acting_user)
    for line in claim.lines.all():
        ClaimLine.objects.create(
            claim=void,
            line_number=line.line_number,
            billable_day=None,  # a void holds no day: the days are free again
            released=True,
            service_date=line.service_date,
            revenue_code=line.revenue_code,
            procedure_code=line.procedure_code,
            modifiers=line.modifiers,
            tier=line.tier,
            unit_basis=line.unit_basis,
            units=line.units,
            charge=line.charge,
            description=line.description,
            rendering_id=line.rendering_id,
            supervising_id=line.supervising_id,
            place_of_service=line.place_of_service,
        )
    for name in ("type_of_bill", "place_of_service", "diagnoses", "condition_codes", "authorization_number"):
        setattr(void, name, getattr(claim, name))
    void.type_of_bill = claim.type_of_bill[:3] + Claim.Frequency.VOID if claim.type_of_bill else ""
    void.attending, void.supervising, void.total_charge = claim.attending, claim.supervising, claim.total_charge
    void.save()
    build.apply_scrub(void, acting_user=acting_user)
    x12out.move_claim(
        claim, Claim.Status.VOIDED, acting_user=acting_user, note=f"Voided by {void.control_number}: {reason}"
    )
    audit.record(action=AuditAction.CREATED, acting_user=acting_user, patient=claim.patient, obj=void)
    return void


@transaction.atomic
def do_replace(claim: Claim, *, acting_user: User, reason: str) -> Claim:
    """Correct a claim the payer has (frequency 7): a new claim rebuilt from the same days' current decisions and
    the chart's current diagnoses, carrying the payer's claim number of the one it replaces."""
    if not reason.strip():
        raise ValidationError({"reason": "Say what the correction changes."})
    claim = _locked(claim)
    _check_move(claim, Claim.Status.REPLACED)
    if claim.primary_claim_id:
        raise ValidationError({"status": "A secondary claim repeats its primary: void it, then bill the payer again."})
    if not claim.payer_claim_number:
        raise ValidationError({"status": "The payer's claim number (from the 277CA or 835) is needed to replace it."})
    day_ids = [line.billable_day_id for line in claim.lines.all() if line.billable_day_id]
    claim.lines.update(released=True)
    replacement = _correction(claim, Claim.Frequency.REPLACEMENT, acting_user=acting_user)
    days = list(BillableDay.objects.filter(pk__in=day_ids, is_billable=True).order_by("date"))
    build.fill_claim(replacement, build.setting_for(claim.payer, claim.program), days)
    build.apply_scrub(replacement, acting_user=acting_user)
    x12out.move_claim(
        claim,
        Claim.Status.REPLACED,
        acting_user=acting_user,
        note=f"Replaced by {replacement.control_number}: {reason}",
    )
    audit.record(action=AuditAction.CREATED, acting_user=acting_user, patient=claim.patient, obj=replacement)
    return replacement


@transaction.atomic
def do_set_status(claim: Claim, *, acting_user: User, status: str, note: str = "") -> Claim:
    """The moves people make by hand: back to draft, a denial or payment recorded from a paper remittance, an
    appeal. (Submitted, accepted and rejected come from files; replaced and voided from their own actions.)"""
    if status not in (Claim.Status.DRAFT, Claim.Status.PAID, Claim.Status.DENIED, Claim.Status.APPEALED):
        raise ValidationError({"status": "Choose draft, paid, denied or appealed."})
    if status in (Claim.Status.DENIED, Claim.Status.APPEALED) and not note.strip():
        raise ValidationError({"note": "Say why (the denial's reason, or what the appeal argues)."})
    claim = _locked(claim)
    _check_move(claim, status)
    x12out.move_claim(claim, status, acting_user=acting_user, note=note.strip())
    return claim


def charged(claims: list[Claim]) -> Decimal:
    return sum((c.total_charge for c in claims), Decimal(0))
