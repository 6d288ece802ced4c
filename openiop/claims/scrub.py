"""The claim scrubber: every missing or inconsistent field a payer (or pyx12) would reject, named before export.

``scrub(claim)`` returns a list of ``{"field": ..., "message": ...}``, empty when the claim may go out. It checks
what the 837 needs from each source (the billing provider, the payer, the coverage and subscriber, the patient, the
diagnoses, the providers, every line) and the payer's rules the clinic set (an authorization covering every day
when the payer requires one, the timely-filing limit). The messages say where to fix each thing.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from openiop.attendance.models import AttendanceRecord
from openiop.billing.models import BillingProvider, ClinicianBillingIdentity, PayerProgramSetting
from openiop.claims.models import Claim, ClaimLine, ClaimPayment
from openiop.claims.part2 import payer_consent
from openiop.intake.models import ICD10_PATTERN
from openiop.patients.models import Coverage
from openiop.utilization.models import Authorization

# The 837P's limit on service lines per claim (loop 2400 repeats at most 50 times); the 837I allows 999.
MAX_LINES_837P = 50
STATE = re.compile(r"^[A-Z]{2}$")
ZIP = re.compile(r"^\d{5}(-?\d{4})?$")


def _problem(found: list[dict[str, str]], field: str, message: str) -> None:
    found.append({"field": field, "message": message})


def _identity(user: object) -> ClinicianBillingIdentity | None:
    try:
        identity = user.billing_identity  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return None
    return identity if identity.is_active else None


def scrub(claim: Claim) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    _billing_provider(claim, found)
    _payer_and_coverage(claim, found)
    _patient(claim, found)
    _diagnoses(claim, found)
    _providers(claim, found)
    # One read of the lines for every check that looks at them.
    lines = list(
        claim.lines.select_related(
            "billable_day", "attendance_record", "rendering__billing_identity", "supervising__billing_identity"
        )
    )
    _lines(claim, lines, found)
    _authorization(claim, lines, found)
    _timely(claim, lines, found)
    _part2(claim, found)
    _primary_answer(claim, found)
    return found


def _primary_answer(claim: Claim, found: list[dict[str, str]]) -> None:
    """A secondary claim carries the first payer's answer (loop 2320): it cannot go out without one standing."""
    if claim.primary_claim_id is None:
        return
    answered = (
        ClaimPayment.objects.filter(claim_id=claim.primary_claim_id, reversals__isnull=True)
        .exclude(status_code="22")
        .exists()
    )
    if not answered:
        primary = claim.primary_claim
        assert primary is not None  # narrowing: the id is set
        _problem(
            found,
            "primary_claim",
            f"Claim {primary.control_number} has no answer from {primary.payer.name} standing (post its 835): the "
            "secondary payer needs the primary payer's amounts.",
        )


def _part2(claim: Claim, found: list[dict[str, str]]) -> None:
    consent = payer_consent(claim.patient, claim.payer.name, episode=claim.episode)
    if consent is not None and not consent.allowed:
        _problem(
            found, "consent", f"42 CFR Part 2: {consent.decision.reason} (Consents tab: a Part 2 consent for payment)."
        )


def _billing_provider(claim: Claim, found: list[dict[str, str]]) -> None:
    provider = BillingProvider.objects.filter(organization_id=claim.organization_id).first()
    if provider is None:
        _problem(found, "billing_provider", "The organization has no billing identity (NPI, EIN): Billing setup.")


def _payer_and_coverage(claim: Claim, found: list[dict[str, str]]) -> None:
    payer = claim.payer
    if not payer.is_active:
        _problem(found, "payer", f"{payer.name} is deactivated.")
    coverage: Coverage = claim.coverage
    if not coverage.member_id.strip():
        _problem(found, "coverage.member_id", "The coverage has no member id (Insurance tab).")
    if coverage.relationship_to_subscriber != Coverage.Relationship.SELF:
        if len(coverage.subscriber_name.split()) < 2:
            _problem(found, "coverage.subscriber_name", "Enter the subscriber's first and last name (Insurance tab).")
        if coverage.subscriber_date_of_birth is None:
            _problem(found, "coverage.subscriber_date_of_birth", "Enter the subscriber's date of birth.")


def _patient(claim: Claim, found: list[dict[str, str]]) -> None:
    patient = claim.patient
    if not patient.address_line1.strip() or not patient.city.strip():
        _problem(found, "patient.address", "The patient's street address and city are needed (Demographics).")
    if not STATE.match(patient.state or ""):
        _problem(found, "patient.state", "The patient's state must be its 2-letter code (Demographics).")
    if not ZIP.match(patient.postal_code or ""):
        _problem(found, "patient.postal_code", "The patient's ZIP code must be 5 or 9 digits (Demographics).")


def _diagnoses(claim: Claim, found: list[dict[str, str]]) -> None:
    if not claim.diagnoses:
        _problem(found, "diagnoses", "No active diagnosis for the episode: a claim needs a principal diagnosis.")
    for code in claim.diagnoses:
        if not ICD10_PATTERN.match(code):
            _problem(found, "diagnoses", f"{code} is not an ICD-10-CM code.")


def _providers(claim: Claim, found: list[dict[str, str]]) -> None:
    clinician = claim.attending
    if claim.claim_type == Claim.ClaimType.INSTITUTIONAL:
        if len(claim.type_of_bill) != 4:
            _problem(found, "type_of_bill", "The payer's setting for this program has no type of bill.")
        if clinician is None:
            _problem(found, "attending", "The episode has no primary clinician to name as attending provider.")
        else:
            identity = _identity(clinician)
            if identity is None or not identity.may_attend:
                _problem(found, "attending", f"{clinician.display_name} has no NPI as an attending provider.")
    else:
        if not claim.place_of_service:
            _problem(found, "place_of_service", "The payer's setting for this program has no place of service.")
        if clinician is None:
            _problem(found, "rendering", "The episode has no primary clinician to name as rendering provider.")
        else:
            identity = _identity(clinician)
            if identity is None or not identity.may_render:
                _problem(found, "rendering", f"{clinician.display_name} has no NPI as a rendering provider.")
        if claim.supervising is not None:
            identity = _identity(claim.supervising)
            if identity is None or not identity.may_supervise:
                _problem(found, "supervising", f"{claim.supervising.display_name} has no NPI as a supervisor.")


def _lines(claim: Claim, lines: list[ClaimLine], found: list[dict[str, str]]) -> None:
    if not lines:
        _problem(found, "lines", "The claim has no lines.")
    if claim.claim_type == Claim.ClaimType.PROFESSIONAL and len(lines) > MAX_LINES_837P:
        _problem(found, "lines", f"{len(lines)} lines: a professional claim carries at most {MAX_LINES_837P}.")
    uncoded = [line for line in lines if not line.procedure_code and line.attendance_record_id is None]
    if uncoded and claim.frequency != Claim.Frequency.VOID:
        # One problem for the claim, not one per day: the fix is one setting.
        _problem(
            found,
            "lines",
            f"{len(uncoded)} day(s) have no per-diem code (set the code in the payer's setting, Billing setup).",
        )
    for line in lines:
        where = f"lines.{line.line_number}"
        if claim.frequency == Claim.Frequency.VOID:
            continue  # a void repeats what was billed; the day's current decision does not matter
        if line.attendance_record_id is not None:
            _service_line(claim, line, where, found)
        if not line.procedure_code:
            continue
        if line.charge <= 0:
            _problem(found, where, f"{line.service_date:%Y-%m-%d}: no fee for {line.procedure_code} on that day.")
        if claim.claim_type == Claim.ClaimType.INSTITUTIONAL and not line.revenue_code:
            _problem(found, where, "No revenue code (0905 or 0906) in the payer's setting.")
        day = line.billable_day
        if day is not None and not day.is_billable:
            _problem(found, where, f"{line.service_date:%Y-%m-%d} is no longer billable: {day.reason}")


def _service_line(claim: Claim, line: ClaimLine, where: str, found: list[dict[str, str]]) -> None:
    """What a line billing one service needs beyond a day's: its code, the service still attended, and (837P) a
    clinician allowed to render it named on the line when not on the claim."""
    what = f"{line.service_date:%Y-%m-%d} {line.description or 'service'}"
    if not line.procedure_code:
        _problem(found, where, f"{what}: {line.problem or 'no procedure code'}.")
    record = line.attendance_record
    if record is not None and record.status not in AttendanceRecord.ATTENDED:
        _problem(found, where, f"{what}: no longer attended ({record.get_status_display().lower()}).")
    if claim.claim_type != Claim.ClaimType.PROFESSIONAL:
        return
    if line.rendering is None:
        _problem(found, where, f"{what}: the session has no facilitator to name as rendering provider.")
    elif line.rendering_id != claim.attending_id:
        identity = _identity(line.rendering)
        if identity is None or not identity.may_render:
            _problem(found, where, f"{what}: {line.rendering.display_name} has no NPI as a rendering provider.")
    if line.supervising is not None and line.supervising_id != claim.supervising_id:
        identity = _identity(line.supervising)
        if identity is None or not identity.may_supervise:
            _problem(found, where, f"{what}: {line.supervising.display_name} has no NPI as a supervisor.")


def _authorization(claim: Claim, lines: list[ClaimLine], found: list[dict[str, str]]) -> None:
    setting = PayerProgramSetting.objects.filter(payer_id=claim.payer_id, program_id=claim.program_id).first()
    if setting is None or not setting.authorization_required:
        return
    approved = list(
        Authorization.objects.filter(
            episode_id=claim.episode_id,
            coverage_id=claim.coverage_id,
            status=Authorization.Status.APPROVED,
            start_date__lte=claim.period_end,
            end_date__gte=claim.period_start,
        ).values_list("start_date", "end_date")
    )
    outside = [
        line.service_date for line in lines if not any(start <= line.service_date <= end for start, end in approved)
    ]
    if outside:
        days = ", ".join(f"{d:%Y-%m-%d}" for d in outside[:5]) + (" ..." if len(outside) > 5 else "")
        _problem(found, "authorization", f"No approved authorization covers {days}.")
    elif not claim.authorization_number:
        _problem(found, "authorization", "The authorization covering these days has no number yet.")


def _timely(claim: Claim, lines: list[ClaimLine], found: list[dict[str, str]]) -> None:
    if claim.status not in (Claim.Status.DRAFT, Claim.Status.READY, Claim.Status.REJECTED):
        return
    first = min((line.service_date for line in lines), default=claim.period_start)
    if claim.primary_claim_id:
        # A secondary payer's limit runs from the primary payer's remittance (its explanation of benefits), which
        # the secondary claim must wait for; the service date until that answer is posted.
        answered = (
            ClaimPayment.objects.filter(claim_id=claim.primary_claim_id, remittance__payment_date__isnull=False)
            .order_by("-remittance__payment_date")
            .values_list("remittance__payment_date", flat=True)
            .first()
        )
        first = answered or first
    deadline = first + timedelta(days=claim.payer.timely_filing_days)
    if timezone.localdate() > deadline:
        _problem(
            found,
            "period_start",
            f"Past {claim.payer.name}'s timely-filing limit ({claim.payer.timely_filing_days} days; "
            f"it ended {deadline:%Y-%m-%d}).",
        )
