"""Claims as an 837 file: the mapping from our records to ``openiop.lib.x12``'s model, the export that validates
every file with pyx12 before anything is marked submitted, and the import of 999 and 277CA acknowledgements.

Export (``export_claims``): ready claims of one organization and one claim type go in one interchange, one
transaction set per payer (a payer's 999 rejection then holds back no other payer's claims). The interchange,
group and transaction-set control numbers come from the organization's counters under a row lock, so they are
unique and never reused; the whole export is one transaction, so a file pyx12 refuses consumes no number, stores
nothing and moves no claim, and the error names the segment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.billing.models import BillingProvider, ClinicianBillingIdentity, SiteBillingIdentity
from openiop.claims import secondary
from openiop.claims.build import next_number
from openiop.claims.models import Claim, ClaimEvent, ClaimLine, PaymentAdjustment, SubmissionProfile, X12File
from openiop.claims.part2 import CLAIM_DATA, payer_consent
from openiop.consents.disclosures import record_disclosure
from openiop.consents.models import Channel, Purpose
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.lib import x12
from openiop.patients.models import Coverage, Patient

if TYPE_CHECKING:
    from openiop.programs.models import Organization

GENDER: dict[str, str] = {Patient.Sex.FEMALE: "F", Patient.Sex.MALE: "M"}
# PAT01 / SBR02: the patient's relationship to the subscriber.
RELATIONSHIP: dict[str, str] = {
    Coverage.Relationship.SPOUSE: "01",
    Coverage.Relationship.CHILD: "19",
    Coverage.Relationship.OTHER: "G8",
}
RESPONSIBILITY: dict[int, str] = {
    Coverage.Priority.PRIMARY: "P",
    Coverage.Priority.SECONDARY: "S",
    Coverage.Priority.TERTIARY: "T",
}


class ExportBlocked(Exception):
    """The file was not written: ``problems`` are pyx12's (segment, position, message) or the mapping's."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _address(line1: str, city: str, state: str, postal_code: str, line2: str = "") -> x12.Address:
    return x12.Address(line1=line1, line2=line2, city=city, state=state, postal_code=_digits(postal_code))


def _billing_provider(organization_id: int) -> x12.BillingProvider:
    bp = BillingProvider.objects.get(organization_id=organization_id)
    pay_to = None
    if bp.pay_to_line1:
        pay_to = _address(bp.pay_to_line1, bp.pay_to_city, bp.pay_to_state, bp.pay_to_postal_code, bp.pay_to_line2)
    return x12.BillingProvider(
        name=bp.legal_name,
        npi=bp.npi,
        ein=_digits(bp.tax_id),
        taxonomy=bp.taxonomy_code,
        address=_address(bp.address_line1, bp.city, bp.state, bp.postal_code, bp.address_line2),
        pay_to=pay_to,
    )


def _provider(user: object | None) -> x12.Provider | None:
    if user is None:
        return None
    try:
        identity: ClinicianBillingIdentity = user.billing_identity  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return None
    return x12.Provider(
        last_name=user.last_name,  # type: ignore[attr-defined]
        first_name=user.first_name,  # type: ignore[attr-defined]
        npi=identity.npi,
        taxonomy=identity.taxonomy_code,
    )


def _person_of_patient(patient: Patient) -> x12.Person:
    return x12.Person(
        last_name=patient.legal_last_name,
        first_name=patient.legal_first_name,
        middle_name=patient.legal_middle_name,
        birth_date=patient.date_of_birth,
        gender=GENDER.get(patient.sex_assigned_at_birth, "U"),
        address=_address(
            patient.address_line1, patient.city, patient.state, patient.postal_code, patient.address_line2
        ),
    )


def _subscriber_and_patient(claim: Claim) -> tuple[x12.Subscriber, x12.Patient | None]:
    coverage = claim.coverage
    payer = claim.payer
    patient_person = _person_of_patient(claim.patient)
    x12_payer = x12.Payer(name=payer.name, payer_id=payer.payer_id)
    if coverage.relationship_to_subscriber == Coverage.Relationship.SELF:
        person, patient = patient_person, None
    else:
        first, _, last = coverage.subscriber_name.strip().rpartition(" ")
        person = x12.Person(
            last_name=last,
            first_name=first,
            birth_date=coverage.subscriber_date_of_birth,
            address=patient_person.address,  # the household's address, as the patient's
        )
        patient = x12.Patient(person=patient_person, relationship=RELATIONSHIP[coverage.relationship_to_subscriber])
    subscriber = x12.Subscriber(
        member_id=coverage.member_id,
        person=person,
        payer=x12_payer,
        claim_filing_indicator=payer.claim_filing_indicator,
        responsibility=RESPONSIBILITY.get(coverage.priority, "P"),
        group_number=coverage.group_number,
    )
    return subscriber, patient


def _facility(claim: Claim) -> x12.Facility | None:
    site = claim.program.site
    identity = SiteBillingIdentity.objects.filter(site=site).first()
    if identity is None or not site.address_line1:
        return None
    return x12.Facility(
        name=site.name,
        npi=identity.npi,
        address=_address(site.address_line1, site.city, site.state, site.postal_code, site.address_line2),
    )


def _lines(claim: Claim, lines: list[ClaimLine]) -> tuple[x12.ServiceLine, ...]:
    professional = claim.claim_type == Claim.ClaimType.PROFESSIONAL
    # A line names its own rendering and supervising clinicians (837P loops 2420A/2420D) only when they differ from
    # the claim's; the writer leaves out those equal to the claim's. Each clinician is read once per claim.
    providers: dict[int, x12.Provider | None] = {}

    def person(user_id: int | None) -> x12.Provider | None:
        if not professional or user_id is None:
            return None
        if user_id not in providers:
            providers[user_id] = _provider(User.objects.select_related("billing_identity").get(pk=user_id))
        return providers[user_id]

    return tuple(
        x12.ServiceLine(
            procedure_code=line.procedure_code,
            charge=line.charge,
            service_date=line.service_date,
            units=line.units,
            modifiers=tuple(line.modifiers),
            revenue_code=line.revenue_code,
            unit_basis=line.unit_basis,
            place_of_service=line.place_of_service if professional else "",
            control_number=f"{claim.number}-{line.line_number}",
            rendering=person(line.rendering_id),
            supervising=person(line.supervising_id),
        )
        for line in lines
    )


def _cas(adjustments: list[PaymentAdjustment]) -> tuple[x12.Adjustment, ...]:
    return tuple(x12.Adjustment(a.group, a.reason, a.amount, a.quantity) for a in adjustments)


def _other_coverage(prior: Claim) -> x12.OtherCoverage:
    """Loops 2320/2330A/2330B (and 2430 per line) for ``prior``, a claim whose payer answered before this one: its
    coverage and subscriber, and that payer's standing answer (paid, claim-level CAS, what it left to the patient,
    its claim number, and each line it paid by our line number, which the secondary claim's copy keeps)."""
    subscriber, patient = _subscriber_and_patient(prior)
    answer = secondary.adjudication(prior)
    if answer is None:
        raise ValueError(f"Claim {prior.control_number} has no answer from {prior.payer.name}: post its 835 first.")
    adjudicated_on = answer.remittance.payment_date or timezone.localdate(answer.created_at)
    adjustments = list(answer.adjustments.all())
    line_answers = tuple(
        x12.LineAdjudication(
            line_number=paid.claim_line.line_number,
            paid_amount=paid.paid,
            procedure_code=paid.procedure_code or paid.claim_line.procedure_code,
            adjudication_date=adjudicated_on,
            units=paid.units,
            modifiers=tuple(paid.modifiers),
            revenue_code=paid.claim_line.revenue_code,
            adjustments=_cas(list(paid.adjustments.all())),
        )
        for paid in answer.lines.all()
        if paid.claim_line is not None
    )
    return x12.OtherCoverage(
        subscriber=subscriber.person,
        member_id=subscriber.member_id,
        payer=subscriber.payer,
        claim_filing_indicator=subscriber.claim_filing_indicator,
        responsibility=subscriber.responsibility,
        relationship=patient.relationship if patient is not None else "18",
        group_number=subscriber.group_number,
        paid_amount=answer.paid,
        adjustments=_cas([a for a in adjustments if a.line_id is None]),
        remaining_patient_liability=secondary.patient_share(answer),
        adjudication_date=adjudicated_on,
        payer_claim_control_number=answer.payer_claim_number or prior.payer_claim_number,
        line_adjudications=line_answers,
    )


def _other_coverages(claim: Claim) -> tuple[x12.OtherCoverage, ...]:
    """Every payer that answered before this claim's (a secondary claim's primary; a tertiary's two)."""
    found = []
    prior = claim.primary_claim if claim.primary_claim_id else None
    while prior is not None:
        found.append(_other_coverage(prior))
        prior = prior.primary_claim if prior.primary_claim_id else None
    return tuple(found)


def to_x12(claim: Claim, billing_provider: x12.BillingProvider) -> x12.Claim:
    """One claim in ``openiop.lib.x12``'s words (ValueError naming a field the model refuses)."""
    subscriber, patient = _subscriber_and_patient(claim)
    lines = list(claim.lines.all())
    institutional = claim.claim_type == Claim.ClaimType.INSTITUTIONAL
    original = claim.replaces.payer_claim_number if claim.replaces_id and claim.replaces else ""
    provider = _provider(claim.attending)
    common = {
        "patient_control_number": claim.control_number,
        "billing_provider": billing_provider,
        "subscriber": subscriber,
        "patient": patient,
        "principal_diagnosis": claim.diagnoses[0],
        "other_diagnoses": tuple(claim.diagnoses[1:]),
        "lines": _lines(claim, lines),
        "frequency_code": claim.frequency,
        "original_claim_number": original,
        "prior_authorization": claim.authorization_number,
        "medical_record_number": claim.patient.mrn,
        "service_facility": _facility(claim),
        "other_coverages": _other_coverages(claim),
    }
    if institutional:
        return x12.Claim(
            **common,
            facility_code=claim.type_of_bill[1:3],
            statement_start=claim.period_start,
            statement_end=claim.period_end,
            admission_date=claim.episode.admitted_on,
            admission_type="3",  # elective: an IOP admission is planned
            admission_source="1",  # non-health-care point of origin (the person comes from home)
            patient_status="30",  # still a patient through the statement period
            condition_codes=tuple(claim.condition_codes),
            attending=provider,
        )
    return x12.Claim(
        **common,
        place_of_service=claim.place_of_service,
        rendering=provider,
        supervising=_provider(claim.supervising),
    )


@dataclass
class Exported:
    file: X12File
    claims: list[Claim]


def _profile(organization: Organization) -> SubmissionProfile:
    profile = SubmissionProfile.objects.filter(organization=organization).first()
    if profile is None:
        raise ValidationError({"profile": "Set the submitter and receiver ids first (Claims > Submission setup)."})
    return profile


@transaction.atomic
def export_claims(claims: list[Claim], *, acting_user: User, organization: Organization) -> Exported:
    """Write one 837 file of ``claims`` (all ready, one claim type), validate it with pyx12, store it and mark the
    claims submitted; ExportBlocked (nothing stored, no number used) when any check fails."""
    if not claims:
        raise ValidationError({"claims": "Choose at least one ready claim."})
    locked = list(
        Claim.objects.select_for_update(of=("self",))
        .filter(pk__in=[c.pk for c in claims], organization=organization)
        .select_related("patient", "coverage", "payer", "episode", "program__site", "attending", "supervising")
        .order_by("payer_id", "number")
    )
    if len(locked) != len(claims):
        raise ValidationError({"claims": "A claim is not one of this organization's."})
    not_ready = [c.control_number for c in locked if c.status != Claim.Status.READY]
    if not_ready:
        raise ValidationError({"claims": f"Only ready claims go in a file: {', '.join(not_ready)}."})
    kinds = {c.claim_type for c in locked}
    if len(kinds) != 1:
        raise ValidationError({"claims": "Institutional and professional claims go in separate files."})
    kind = kinds.pop()
    profile = _profile(organization)
    try:
        billing_provider = _billing_provider(organization.pk)
        x12_claims = [to_x12(c, billing_provider) for c in locked]
    except (ValueError, ObjectDoesNotExist) as exc:
        raise ExportBlocked([str(exc)]) from exc
    now = timezone.now()
    transactions = []
    st_claims: list[dict[str, object]] = []
    for _payer_id, group in x12.group_by_payer(x12_claims):
        number = f"{next_number(organization, 'st'):04d}"
        transactions.append(x12.ClaimTransaction(control_number=number, claims=group))
        st_claims.append({"control_number": number, "claims": [c.patient_control_number for c in group]})
    interchange = x12.Interchange(
        envelope=x12.Envelope(
            sender_qualifier=profile.sender_qualifier,
            sender_id=profile.sender_id,
            receiver_qualifier=profile.receiver_qualifier,
            receiver_id=profile.receiver_id,
            control_number=next_number(organization, "isa"),
            group_control_number=next_number(organization, "gs"),
            created_at=now,
            usage=profile.usage,
            application_sender_code=profile.sender_id,
            application_receiver_code=profile.receiver_id,
            acknowledgment_requested=True,
        ),
        submitter=x12.Submitter(
            name=profile.submitter_name,
            id=profile.submitter_id,
            contact_name=profile.contact_name,
            phone=profile.contact_phone,
            email=profile.contact_email,
        ),
        receiver=x12.Receiver(name=profile.receiver_name, id=profile.receiver_etin),
        transactions=tuple(transactions),
    )
    text = x12.write_837i(interchange) if kind == Claim.ClaimType.INSTITUTIONAL else x12.write_837p(interchange)
    # Part 2 records leave only under a consent in force now (it may have been revoked since the claim was ready).
    consents = {c.pk: payer_consent(c.patient, c.payer.name, episode=c.episode) for c in locked}
    refused = []
    for c in locked:
        consent = consents[c.pk]
        if consent is not None and not consent.allowed:
            refused.append(f"{c.control_number}: 42 CFR Part 2: {consent.decision.reason}")
    if refused:
        raise ExportBlocked(refused)
    problems = x12.validate(text)
    if problems:
        raise ExportBlocked([f"{p.segment_id} (segment {p.position}): {p.message}" for p in problems])
    file = X12File.objects.create(
        organization=organization,
        kind=kind,
        direction=X12File.Direction.OUT,
        interchange_control_number=interchange.envelope.control_number,
        group_control_number=interchange.envelope.group_control_number,
        transaction_control_numbers=st_claims,
        content=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        summary=f"{len(locked)} claim(s), {sum((c.total_charge for c in locked), Decimal(0))} charged",
        created_by=acting_user,
    )
    file.claims.set(locked)
    for claim in locked:
        consent = consents[claim.pk]
        if consent is not None and consent.recipient is not None:
            # A Part 2 record went to the payer: on the patient's accounting of disclosures (42 CFR 2.24).
            record_disclosure(
                claim.patient,
                recipient=consent.recipient,
                data_classes=list(CLAIM_DATA),
                purpose=Purpose.PAYMENT,
                channel=Channel.EXPORT,
                acting_user=acting_user,
                consent=consent.decision.consent,
                episode=claim.episode,
                recipient_name=claim.payer.name,
                description=f"Claim {claim.control_number} ({claim.claim_type})",
            )
    for claim in locked:
        move_claim(claim, Claim.Status.SUBMITTED, acting_user=acting_user, file=file, note="Sent in the 837 file.")
    audit.record(action=AuditAction.EXPORTED, acting_user=acting_user, obj=file, changed_fields=[kind])
    return Exported(file, locked)


def move_claim(
    claim: Claim, status: str, *, acting_user: User | None, file: X12File | None = None, note: str = ""
) -> None:
    old = claim.status
    claim.status = status
    if note:
        claim.status_reason = note[:500]
    claim.save(update_fields=["status", "status_reason", "updated_at"])
    ClaimEvent.objects.create(
        claim=claim, at=timezone.now(), from_status=old, to_status=status, by=acting_user, file=file, note=note[:500]
    )
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=claim.patient,
        obj=claim,
        changed_fields=["status"],
    )


def claims_by_control_number(organization: Organization, numbers: list[str]) -> dict[str, Claim]:
    """Our claims named by CLM01 (``OI`` + the claim number) in a file that came back, locked for the update."""
    wanted = {}
    for text in numbers:
        if text.startswith("OI") and text[2:].isdigit():
            wanted[int(text[2:])] = text
    claims = Claim.objects.select_for_update(of=("self",)).filter(organization=organization, number__in=wanted)
    return {wanted[c.number]: c for c in claims.select_related("patient")}


def note(claim: Claim, file: X12File, noted: list[Claim], text: str) -> None:
    """A step of the claim's history that leaves its status as it is: a file that came back said something about
    it (an accepted 999, a pending 277CA, a payment on a claim that cannot move)."""
    ClaimEvent.objects.create(
        claim=claim,
        at=timezone.now(),
        from_status=claim.status,
        to_status=claim.status,
        by=file.created_by,
        file=file,
        note=text[:500],
    )
    noted.append(claim)
