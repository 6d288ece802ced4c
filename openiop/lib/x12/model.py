"""What an 837 claim file says, as frozen dataclasses the claims app fills in (no Django, no database).

One ``Interchange`` is one file: one ISA envelope, one functional group (GS) and one or more transaction sets
(``ClaimTransaction``, ST..SE), each with its own control number the caller persists (999 acknowledgements answer
per ST). Each ``Claim`` carries its billing provider, subscriber and patient; the writer groups claims into the HL
hierarchy (billing provider 20, subscriber 22, patient 23). Field names say which segment they become.

Every str field is checked for the X12 delimiters when the object is built (``_syntax.Checked``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from openiop.lib.x12._syntax import Checked, dotless

FREQUENCY_ORIGINAL = "1"
FREQUENCY_REPLACEMENT = "7"
FREQUENCY_VOID = "8"
FREQUENCIES = (FREQUENCY_ORIGINAL, FREQUENCY_REPLACEMENT, FREQUENCY_VOID)
ADJUSTMENT_GROUPS = ("CO", "CR", "OA", "PI", "PR")


@dataclass(frozen=True)
class Address(Checked):
    """N3/N4. ``postal_code``: 5 or 9 digits (the billing provider's must be 9)."""

    line1: str
    city: str
    state: str
    postal_code: str
    line2: str = ""


@dataclass(frozen=True)
class Submitter(Checked):
    """Loop 1000A: who sends the file (NM1*41, PER*IC). ``id`` is the ETIN the receiver gave us."""

    name: str
    id: str
    contact_name: str
    phone: str = ""
    email: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (self.phone or self.email):
            raise ValueError("Submitter.phone: a phone number or an email is required for the EDI contact.")


@dataclass(frozen=True)
class Receiver(Checked):
    """Loop 1000B: the payer or clearinghouse the file goes to (NM1*40)."""

    name: str
    id: str


@dataclass(frozen=True)
class BillingProvider(Checked):
    """Loop 2000A/2010AA: the organization billing (NM1*85 with NPI, REF*EI with the EIN, PRV*BI taxonomy).
    ``address`` must be a street address; payments to a PO box or lockbox go in ``pay_to`` (loop 2010AB, NM1*87)."""

    name: str
    npi: str
    ein: str
    address: Address
    taxonomy: str = ""
    pay_to: Address | None = None


@dataclass(frozen=True)
class Provider(Checked):
    """A person named on a claim: attending (NM1*71), rendering (82), supervising (DQ), referring (DN)."""

    last_name: str
    first_name: str
    npi: str
    taxonomy: str = ""
    middle_name: str = ""


@dataclass(frozen=True)
class Facility(Checked):
    """The service facility location (NM1*77) when it is not the billing provider's address."""

    name: str
    address: Address
    npi: str = ""


@dataclass(frozen=True)
class Payer(Checked):
    """NM1*PR: the payer's name and the payer id the clearinghouse routes on (NM108 PI)."""

    name: str
    payer_id: str
    address: Address | None = None


@dataclass(frozen=True)
class Person(Checked):
    """A subscriber or patient. ``gender``: M, F or U (DMG03)."""

    last_name: str
    first_name: str
    birth_date: date | None = None
    gender: str = "U"
    address: Address | None = None
    middle_name: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.gender not in ("M", "F", "U"):
            raise ValueError(f"Person.gender must be M, F or U, not {self.gender!r}.")


@dataclass(frozen=True)
class Subscriber(Checked):
    """Loop 2000B: the insured (SBR, NM1*IL) and the payer billed (NM1*PR).

    ``responsibility``: SBR01, P primary, S secondary, T tertiary (of the payer this claim goes to).
    ``claim_filing_indicator``: SBR09, e.g. CI commercial, MB Medicare Part B, MA Medicare Part A, MC Medicaid,
    BL Blue Cross, HM HMO, 16 Medicare Advantage HMO. ``insurance_type``: SBR05, 837P only, when Medicare is
    not the primary payer (e.g. 12 working aged, 43 disabled with a large group plan).
    """

    member_id: str
    person: Person
    payer: Payer
    claim_filing_indicator: str
    responsibility: str = "P"
    group_number: str = ""
    group_name: str = ""
    insurance_type: str = ""


@dataclass(frozen=True)
class Patient(Checked):
    """Loop 2000C, only when the patient is not the subscriber. ``relationship``: PAT01 (01 spouse, 19 child,
    G8 other)."""

    person: Person
    relationship: str


@dataclass(frozen=True)
class Adjustment(Checked):
    """One CAS triplet: group code (CO, PR, OA, PI, CR), CARC reason code, amount, optional quantity."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.group not in ADJUSTMENT_GROUPS:
            raise ValueError(f"Adjustment.group must be one of {', '.join(ADJUSTMENT_GROUPS)}, not {self.group!r}.")


@dataclass(frozen=True)
class LineAdjudication(Checked):
    """Loop 2430: how the other payer adjudicated one of our service lines (SVD, CAS, DTP*573).

    ``line_number`` is the 1-based position of the line in ``Claim.lines``; the procedure, modifiers, revenue code
    and units are the ones the other payer adjudicated (usually the ones we sent).
    """

    line_number: int
    paid_amount: Decimal
    procedure_code: str
    adjudication_date: date
    units: Decimal = Decimal(1)
    modifiers: tuple[str, ...] = ()
    revenue_code: str = ""
    adjustments: tuple[Adjustment, ...] = ()
    remaining_patient_liability: Decimal | None = None


@dataclass(frozen=True)
class OtherCoverage(Checked):
    """Loops 2320/2330A/2330B: another payer on the claim (for a secondary claim, the primary that paid).

    ``responsibility``: that payer's SBR01 (P, S, T). ``relationship``: the patient's relationship to that payer's
    subscriber (SBR02: 18 self, 01 spouse, 19 child, G8 other). ``paid_amount`` (AMT*D) is set once that payer
    adjudicated the claim; then either ``line_adjudications`` (2430, per line) or ``adjudication_date`` (2330B
    DTP*573, claim level) says when.
    """

    subscriber: Person
    member_id: str
    payer: Payer
    claim_filing_indicator: str
    responsibility: str = "P"
    relationship: str = "18"
    group_number: str = ""
    group_name: str = ""
    insurance_type: str = ""
    paid_amount: Decimal | None = None
    adjustments: tuple[Adjustment, ...] = ()
    remaining_patient_liability: Decimal | None = None
    adjudication_date: date | None = None
    payer_claim_control_number: str = ""
    line_adjudications: tuple[LineAdjudication, ...] = ()


@dataclass(frozen=True)
class OccurrenceSpan(Checked):
    """HI*BI (837I): an occurrence span code with its from and through dates (e.g. 74 non-covered level of care)."""

    code: str
    start: date
    end: date


@dataclass(frozen=True)
class Occurrence(Checked):
    """HI*BH (837I): an occurrence code with its date."""

    code: str
    on: date


@dataclass(frozen=True)
class ServiceLine(Checked):
    """Loop 2400. 837I (SV2): ``revenue_code`` + HCPCS ``procedure_code``, ``unit_basis`` DA (days) or UN (units).
    837P (SV1): CPT/HCPCS ``procedure_code``, units (UN), ``diagnosis_pointers`` (1-based into the claim's
    diagnoses, principal first; at most 4). ``service_date``/``service_date_end``: DTP*472 (one day or a range).
    ``control_number``: REF*6R, echoed back in the 835 so a paid line finds its line. ``rendering``: the line's
    rendering provider when it is not the claim's (837P loop 2420A, 837I 2420C); ``supervising``: the line's
    supervising provider when it is not the claim's (837P loop 2420D only).
    """

    procedure_code: str
    charge: Decimal
    service_date: date
    units: Decimal = Decimal(1)
    modifiers: tuple[str, ...] = ()
    revenue_code: str = ""
    unit_basis: str = "UN"
    diagnosis_pointers: tuple[int, ...] = (1,)
    service_date_end: date | None = None
    place_of_service: str = ""
    control_number: str = ""
    rendering: Provider | None = None
    supervising: Provider | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.unit_basis not in ("DA", "UN"):
            raise ValueError(f"ServiceLine.unit_basis must be DA (days) or UN (units), not {self.unit_basis!r}.")
        if len(self.modifiers) > 4:
            raise ValueError("ServiceLine.modifiers: at most 4 modifiers.")
        if not 1 <= len(self.diagnosis_pointers) <= 4 or any(not 1 <= p <= 12 for p in self.diagnosis_pointers):
            raise ValueError("ServiceLine.diagnosis_pointers: 1 to 4 pointers, each 1 to 12.")


@dataclass(frozen=True)
class Claim(Checked):
    """Loop 2300 with its lines. ``patient_control_number`` (CLM01) is our claim id, echoed in 277CA and 835.

    837I needs ``facility_code`` (first two digits of the type of bill, e.g. 13 hospital outpatient, 76 CMHC),
    ``statement_start``/``statement_end`` (DTP*434), ``patient_status`` (CL103) and ``attending``; 837P needs
    ``place_of_service`` (CLM05-1, e.g. 11 office, 52 psychiatric facility partial hospitalization, 02/10
    telehealth). ``frequency_code`` 1 original, 7 replacement, 8 void; 7 and 8 need ``original_claim_number``
    (REF*F8, the payer's claim control number of the claim being replaced or voided).
    Diagnoses are ICD-10-CM, dots allowed here and dropped in the file.
    """

    patient_control_number: str
    billing_provider: BillingProvider
    subscriber: Subscriber
    principal_diagnosis: str
    lines: tuple[ServiceLine, ...]
    patient: Patient | None = None
    frequency_code: str = FREQUENCY_ORIGINAL
    original_claim_number: str = ""
    other_diagnoses: tuple[str, ...] = ()
    # 837I
    facility_code: str = ""
    statement_start: date | None = None
    statement_end: date | None = None
    admission_date: date | None = None
    admission_type: str = ""
    admission_source: str = ""
    patient_status: str = ""
    condition_codes: tuple[str, ...] = ()
    occurrence_spans: tuple[OccurrenceSpan, ...] = ()
    occurrences: tuple[Occurrence, ...] = ()
    reason_for_visit: tuple[str, ...] = ()
    attending: Provider | None = None
    # 837P
    place_of_service: str = ""
    supervising: Provider | None = None
    referring: Provider | None = None
    # both
    rendering: Provider | None = None
    service_facility: Facility | None = None
    prior_authorization: str = ""
    medical_record_number: str = ""
    other_coverages: tuple[OtherCoverage, ...] = ()
    assignment: str = "A"
    benefits_assigned: str = "Y"
    release_of_information: str = "Y"
    provider_signature: str = "Y"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.patient_control_number:
            raise ValueError("Claim.patient_control_number is required (CLM01).")
        if len(self.patient_control_number) > 20:
            raise ValueError("Claim.patient_control_number: at most 20 characters (CLM01).")
        if self.frequency_code not in FREQUENCIES:
            raise ValueError(f"Claim.frequency_code must be 1, 7 or 8, not {self.frequency_code!r}.")
        if self.frequency_code != FREQUENCY_ORIGINAL and not self.original_claim_number:
            raise ValueError("Claim.original_claim_number (REF*F8) is required to replace (7) or void (8) a claim.")
        if not self.lines:
            raise ValueError("Claim.lines: a claim needs at least one service line.")
        for coverage in self.other_coverages:
            for adj in coverage.line_adjudications:
                if not 1 <= adj.line_number <= len(self.lines):
                    raise ValueError(f"LineAdjudication.line_number {adj.line_number} is not a line of the claim.")

    @property
    def total_charge(self) -> Decimal:
        """CLM02, always the sum of the line charges (the guide requires they balance)."""
        return sum((line.charge for line in self.lines), Decimal(0))

    @property
    def diagnoses(self) -> tuple[str, ...]:
        """Principal first, dotless, as the file carries them."""
        return (dotless(self.principal_diagnosis), *(dotless(c) for c in self.other_diagnoses))


@dataclass(frozen=True)
class ClaimTransaction(Checked):
    """One transaction set (ST..SE). ``control_number`` (ST02/SE02, 4 to 9 characters) is the caller's, and is what a
    999 answers (AK202). ``reference`` is BHT03 (defaults to the control number)."""

    control_number: str
    claims: tuple[Claim, ...]
    reference: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 4 <= len(self.control_number) <= 9:
            raise ValueError("ClaimTransaction.control_number: 4 to 9 characters (ST02).")
        if not self.claims:
            raise ValueError("ClaimTransaction.claims: a transaction set needs at least one claim.")


@dataclass(frozen=True)
class Envelope(Checked):
    """ISA and GS. Qualifiers (ISA05/ISA07): ZZ mutually defined, 30 federal tax id, 01 DUNS... Ids are padded to
    15 characters. ``control_number`` is ISA13 (written with 9 digits), ``group_control_number`` GS06.
    ``usage``: P production, T test (ISA15)."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control_number: int
    group_control_number: int
    created_at: datetime
    usage: str = "P"
    application_sender_code: str = ""
    application_receiver_code: str = ""
    acknowledgment_requested: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("sender_qualifier", "receiver_qualifier"):
            if len(getattr(self, name)) != 2:
                raise ValueError(f"Envelope.{name}: 2 characters (ISA05/ISA07).")
        for name in ("sender_id", "receiver_id"):
            if not 1 <= len(getattr(self, name)) <= 15:
                raise ValueError(f"Envelope.{name}: 1 to 15 characters (ISA06/ISA08).")
        if not 1 <= self.control_number <= 999_999_999:
            raise ValueError("Envelope.control_number: 1 to 999999999 (ISA13).")
        if not 1 <= self.group_control_number <= 999_999_999:
            raise ValueError("Envelope.group_control_number: 1 to 999999999 (GS06).")
        if self.usage not in ("P", "T"):
            raise ValueError("Envelope.usage must be P (production) or T (test).")


@dataclass(frozen=True)
class Interchange(Checked):
    """One claim file: the envelope, who submits and receives it, and its transaction sets."""

    envelope: Envelope
    submitter: Submitter
    receiver: Receiver
    transactions: tuple[ClaimTransaction, ...] = field(default=())

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.transactions:
            raise ValueError("Interchange.transactions: a file needs at least one transaction set.")
