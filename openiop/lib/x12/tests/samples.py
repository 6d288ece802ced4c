"""Invented claim data for the X12 tests: fictional people, test NPIs (valid Luhn check digits), made-up payers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from openiop.lib.x12.model import (
    Address,
    Adjustment,
    BillingProvider,
    Claim,
    ClaimTransaction,
    Envelope,
    Facility,
    Interchange,
    LineAdjudication,
    OccurrenceSpan,
    OtherCoverage,
    Patient,
    Payer,
    Person,
    Provider,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
)

CREATED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CLINIC_ADDRESS = Address("100 Harbor Way", "Springfield", "IL", "627011234", line2="Suite 2")
BILLING = BillingProvider(
    name="Harbor Behavioral Health",
    npi="1234567893",
    ein="371234567",
    address=CLINIC_ADDRESS,
    taxonomy="261QM0801X",
)
ATTENDING = Provider("Rivera", "Ana", npi="1679576722", taxonomy="2084P0800X")
THERAPIST = Provider("Okafor", "Ben", npi="1245319599", taxonomy="101YM0800X")
SUPERVISOR = Provider("Lindqvist", "Carla", npi="1093817645", taxonomy="103TC0700X")
ACME = Payer("Acme Health Plan", "ACME01")
BLUE = Payer("Blue Prairie Insurance", "BLUE02")
MEDICARE = Payer("Medicare Part A", "MCRA03")
SUBSCRIBER = Person(
    "Doe",
    "Jordan",
    birth_date=date(1984, 5, 17),
    gender="F",
    address=Address("12 Elm St", "Springfield", "IL", "62702"),
)
CHILD = Person("Doe", "Sam", birth_date=date(2010, 9, 1), gender="M", address=SUBSCRIBER.address)
ACME_SUBSCRIBER = Subscriber("ACM123456", SUBSCRIBER, ACME, "CI", group_number="GRP777")
BLUE_SUBSCRIBER = Subscriber(
    "BPX99887766",
    Person("Smith", "Alex", date(1990, 1, 2), "M", Address("9 Oak Ave", "Peoria", "IL", "61602")),
    BLUE,
    "BL",
)
MONDAY = date(2026, 2, 2)


def envelope(**changes: object) -> Envelope:
    env = Envelope(
        sender_qualifier="ZZ",
        sender_id="HARBORBH",
        receiver_qualifier="ZZ",
        receiver_id="CLEARHOUSE",
        control_number=42,
        group_control_number=7,
        created_at=CREATED,
        usage="T",
    )
    return replace(env, **changes)  # type: ignore[arg-type]


def interchange(*transactions: ClaimTransaction) -> Interchange:
    return Interchange(
        envelope=envelope(),
        submitter=Submitter("Harbor Behavioral Health", "HARBORBH", "Billing Office", phone="2175550100"),
        receiver=Receiver("Example Clearinghouse", "CLEARHOUSE"),
        transactions=transactions,
    )


def per_diem_days(start: date, days: int, *, rate: str = "450", code: str = "S9480") -> tuple[ServiceLine, ...]:
    """One SV2 line per billable day: revenue code 0905, HCPCS, unit basis DA, 1 day."""
    return tuple(
        ServiceLine(
            procedure_code=code,
            charge=Decimal(rate),
            service_date=start + timedelta(days=i),
            units=Decimal(1),
            revenue_code="0905",
            unit_basis="DA",
            control_number=f"L{i + 1:03d}",
        )
        for i in range(days)
    )


def institutional_claim(pcn: str = "OIOP-1001", days: int = 3, **changes: object) -> Claim:
    lines = per_diem_days(MONDAY, days)
    claim = Claim(
        patient_control_number=pcn,
        billing_provider=BILLING,
        subscriber=ACME_SUBSCRIBER,
        principal_diagnosis="F33.1",
        other_diagnoses=("F41.1", "F10.20"),
        lines=lines,
        facility_code="13",
        statement_start=lines[0].service_date,
        statement_end=lines[-1].service_date,
        admission_date=MONDAY,
        admission_type="3",
        admission_source="1",
        patient_status="30",
        condition_codes=("92",),
        attending=ATTENDING,
        prior_authorization="AUTH-5521",
    )
    return replace(claim, **changes)  # type: ignore[arg-type]


def professional_claim(pcn: str = "OIOP-2001", **changes: object) -> Claim:
    day = MONDAY
    lines = (
        ServiceLine("90791", Decimal("220"), day, modifiers=("HO",)),
        ServiceLine("90853", Decimal("75.5"), day, modifiers=("HQ",), diagnosis_pointers=(1, 2)),
        ServiceLine("90837", Decimal("180"), day + timedelta(days=1), modifiers=("95",), place_of_service="10"),
        ServiceLine("90834", Decimal("130"), day + timedelta(days=2), modifiers=("HN",)),
        ServiceLine("90847", Decimal("150"), day + timedelta(days=3), modifiers=("HO",)),
    )
    claim = Claim(
        patient_control_number=pcn,
        billing_provider=BILLING,
        subscriber=BLUE_SUBSCRIBER,
        principal_diagnosis="F33.1",
        other_diagnoses=("F41.1",),
        lines=lines,
        place_of_service="11",
        rendering=THERAPIST,
        supervising=SUPERVISOR,
        service_facility=Facility("Harbor IOP Annex", Address("200 Harbor Way", "Springfield", "IL", "627011234")),
    )
    return replace(claim, **changes)  # type: ignore[arg-type]


def secondary_claim(pcn: str = "OIOP-1002") -> Claim:
    """An 837I to Acme as secondary, after Medicare paid: 2320/2330A/2330B with AMT*D and 2430 per line."""
    base = institutional_claim(pcn, days=2)
    adjudications = tuple(
        LineAdjudication(
            line_number=i + 1,
            paid_amount=Decimal("300"),
            procedure_code=line.procedure_code,
            revenue_code=line.revenue_code,
            units=line.units,
            adjudication_date=date(2026, 2, 20),
            adjustments=(Adjustment("CO", "45", Decimal("100")), Adjustment("PR", "2", Decimal("50"))),
            remaining_patient_liability=Decimal("50"),
        )
        for i, line in enumerate(base.lines)
    )
    primary = OtherCoverage(
        subscriber=SUBSCRIBER,
        member_id="1EG4TE5MK72",
        payer=MEDICARE,
        claim_filing_indicator="MA",
        responsibility="P",
        paid_amount=Decimal("600"),
        adjustments=(),
        remaining_patient_liability=Decimal("100"),
        payer_claim_control_number="MCR-77001",
        line_adjudications=adjudications,
    )
    return replace(
        base,
        subscriber=replace(ACME_SUBSCRIBER, responsibility="S"),
        other_coverages=(primary,),
        occurrence_spans=(OccurrenceSpan("74", MONDAY, MONDAY + timedelta(days=1)),),
    )


def dependent_claim(pcn: str = "OIOP-1003") -> Claim:
    return institutional_claim(pcn, days=2, patient=Patient(CHILD, "19"))


def professional_secondary_claim(pcn: str = "OIOP-2003") -> Claim:
    """An 837P to Blue as secondary after Acme paid: the first line adjudicated in 2430, the rest claim level."""
    base = professional_claim(pcn)
    primary = OtherCoverage(
        subscriber=SUBSCRIBER,
        member_id="ACM123456",
        payer=ACME,
        claim_filing_indicator="CI",
        relationship="01",
        group_number="GRP777",
        paid_amount=Decimal("400"),
        adjustments=(Adjustment("CO", "45", Decimal("255.5")), Adjustment("PR", "3", Decimal("100"))),
        remaining_patient_liability=Decimal("100"),
        line_adjudications=(
            LineAdjudication(
                line_number=1,
                paid_amount=Decimal("150"),
                procedure_code="90791",
                modifiers=("HO",),
                adjudication_date=date(2026, 2, 20),
                adjustments=(Adjustment("CO", "45", Decimal("50")), Adjustment("PR", "3", Decimal("20"))),
            ),
        ),
    )
    return replace(base, subscriber=replace(BLUE_SUBSCRIBER, responsibility="S"), other_coverages=(primary,))
