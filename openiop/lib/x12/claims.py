"""837I (005010X223A2) and 837P (005010X222A1) writers: an ``Interchange`` in, the file's text out.

The file is built as a list of segments joined once. Claims of one transaction set are grouped into the HL
hierarchy in the order they come: billing provider (HL 20), then subscriber with payer (HL 22), then the patient
(HL 23) when the patient is not the subscriber. Segment order and qualifiers follow the two implementation guides;
pyx12 (``validate``) is what checks the result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from openiop.lib.x12._syntax import (
    Segments,
    amount,
    composite,
    d8,
    dotless,
    hhmm,
    period,
    quantity,
)
from openiop.lib.x12.envelope import write_interchange
from openiop.lib.x12.model import (
    Address,
    Adjustment,
    BillingProvider,
    Claim,
    ClaimTransaction,
    Interchange,
    LineAdjudication,
    OtherCoverage,
    Patient,
    Person,
    Provider,
    ServiceLine,
    Subscriber,
)

VERSION_837I = "005010X223A2"
VERSION_837P = "005010X222A1"
_HI_PER_SEGMENT = 12
_CAS_PER_SEGMENT = 6
# Loop 2300 repeats at most 100 times under one HL 22 or 23 (both guides); more claims for one person repeat the HL.
_CLAIMS_PER_HL = 100
# Loop 2400 repeats at most 999 times in 837I and 50 times in 837P.
_MAX_LINES_837I = 999
_MAX_LINES_837P = 50

__all__ = ["VERSION_837I", "VERSION_837P", "group_by_payer", "write_837i", "write_837p"]


def write_837i(interchange: Interchange, *, newlines: bool = False) -> str:
    """The institutional claim file (UB-04 data) for ``interchange``; raises ValueError if a claim lacks what 837I
    needs (type of bill, statement period, patient status, attending, revenue codes)."""
    for transaction in interchange.transactions:
        for claim in transaction.claims:
            _require_institutional(claim)
    return _write(interchange, VERSION_837I, institutional=True, newlines=newlines)


def write_837p(interchange: Interchange, *, newlines: bool = False) -> str:
    """The professional claim file (CMS-1500 data) for ``interchange``; raises ValueError if a claim lacks its
    place of service."""
    for transaction in interchange.transactions:
        for claim in transaction.claims:
            _require_professional(claim)
    return _write(interchange, VERSION_837P, institutional=False, newlines=newlines)


def _require_professional(claim: Claim) -> None:
    pcn = claim.patient_control_number
    if not claim.place_of_service:
        raise ValueError(f"Claim.place_of_service is required for 837P (claim {pcn}).")
    if len(claim.diagnoses) > _HI_PER_SEGMENT:
        raise ValueError(f"Claim.other_diagnoses: 837P carries at most 12 diagnoses (claim {pcn}).")
    if len(claim.lines) > _MAX_LINES_837P:
        raise ValueError(f"Claim.lines: 837P carries at most 50 lines (claim {pcn}).")
    if any(max(line.diagnosis_pointers) > len(claim.diagnoses) for line in claim.lines):
        raise ValueError(f"ServiceLine.diagnosis_pointers: a pointer beyond the claim's diagnoses (claim {pcn}).")


def _require_institutional(claim: Claim) -> None:
    pcn = claim.patient_control_number
    missing = [
        name
        for name in ("facility_code", "statement_start", "statement_end", "patient_status", "attending")
        if not getattr(claim, name)
    ]
    if missing:
        raise ValueError(f"Claim.{missing[0]} is required for 837I (claim {pcn}).")
    if any(not line.revenue_code for line in claim.lines):
        raise ValueError(f"ServiceLine.revenue_code is required for 837I (claim {pcn}).")
    if len(claim.lines) > _MAX_LINES_837I:
        raise ValueError(f"Claim.lines: 837I carries at most 999 lines (claim {pcn}).")
    if len(claim.diagnoses) > 1 + 2 * _HI_PER_SEGMENT:
        raise ValueError("Claim.other_diagnoses: 837I carries at most 24 other diagnoses.")


def _require_common(claim: Claim) -> None:
    """What both guides require of every claim and pyx12 cannot see (a situational rule, not a syntax one).
    Messages name the claim by its control number, never the patient."""
    pcn = claim.patient_control_number
    patient = claim.patient.person if claim.patient is not None else claim.subscriber.person
    if patient.birth_date is None:
        raise ValueError(f"Person.birth_date of the patient is required (claim {pcn}).")
    if patient.address is None:
        raise ValueError(f"Person.address of the patient is required (claim {pcn}).")
    zip_code = claim.billing_provider.address.postal_code
    if not (len(zip_code) == 9 and zip_code.isdigit()):
        raise ValueError(f"BillingProvider.address.postal_code must be the 9-digit ZIP+4 (claim {pcn}).")


def _write(interchange: Interchange, version: str, *, institutional: bool, newlines: bool) -> str:
    for transaction in interchange.transactions:
        for claim in transaction.claims:
            _require_common(claim)

    def body(out: Segments, transaction: ClaimTransaction) -> None:
        _transaction(out, interchange, transaction, institutional=institutional)

    return write_interchange(
        interchange.envelope,
        functional_id="HC",
        transaction_set_id="837",
        version=version,
        transactions=interchange.transactions,
        control_number=lambda t: t.control_number,
        body=body,
        newlines=newlines,
    )


def _transaction(out: Segments, ic: Interchange, transaction: ClaimTransaction, *, institutional: bool) -> None:
    created = ic.envelope.created_at
    out.add("BHT", "0019", "00", transaction.reference or transaction.control_number, d8(created), hhmm(created), "CH")
    sub = ic.submitter
    out.add("NM1", "41", "2", sub.name, "", "", "", "", "46", sub.id)
    contact = ["PER", "IC", sub.contact_name]
    if sub.phone:
        contact += ["TE", sub.phone]
    if sub.email:
        contact += ["EM", sub.email]
    out.add(*contact)
    out.add("NM1", "40", "2", ic.receiver.name, "", "", "", "", "46", ic.receiver.id)

    # Group claims: billing provider -> subscriber -> patient (None when the patient is the subscriber). Dicts keep
    # the order claims came in; one pass, no quadratic scans.
    tree: dict[BillingProvider, dict[Subscriber, dict[Patient | None, list[Claim]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for claim in transaction.claims:
        tree[claim.billing_provider][claim.subscriber][claim.patient].append(claim)

    hl = 0
    for provider, subscribers in tree.items():
        hl += 1
        provider_hl = hl
        out.add("HL", str(provider_hl), "", "20", "1")
        if provider.taxonomy:
            out.add("PRV", "BI", "PXC", provider.taxonomy)
        out.add("NM1", "85", "2", provider.name, "", "", "", "", "XX", provider.npi)
        _address(out, provider.address)
        out.add("REF", "EI", provider.ein)
        if provider.pay_to is not None:
            out.add("NM1", "87", "2")
            _address(out, provider.pay_to)
        for subscriber, patients in subscribers.items():
            # One HL 22 cannot both hold claims and have children: the subscriber's own claims get an HL 22 of
            # their own (HL04 0), and the dependents' HL 23s hang under a second one (HL04 1).
            own = patients.get(None, [])
            for chunk in _chunks(own, _CLAIMS_PER_HL):
                hl += 1
                out.add("HL", str(hl), str(provider_hl), "22", "0")
                _subscriber(out, subscriber, is_patient=True, institutional=institutional)
                for claim in chunk:
                    _claim(out, claim, institutional=institutional)
            dependents = [(p, c) for p, c in patients.items() if p is not None]
            if dependents:
                hl += 1
                subscriber_hl = hl
                out.add("HL", str(subscriber_hl), str(provider_hl), "22", "1")
                _subscriber(out, subscriber, is_patient=False, institutional=institutional)
                for patient, claims in dependents:
                    assert patient is not None
                    for chunk in _chunks(claims, _CLAIMS_PER_HL):
                        hl += 1
                        out.add("HL", str(hl), str(subscriber_hl), "23", "0")
                        out.add("PAT", patient.relationship)
                        _person_name(out, "QC", patient.person, "", "")
                        if patient.person.address is not None:
                            _address(out, patient.person.address)
                        _demographics(out, patient.person)
                        for claim in chunk:
                            _claim(out, claim, institutional=institutional)


def _chunks(items: list[Claim], size: int) -> list[list[Claim]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _address(out: Segments, address: Address) -> None:
    out.add("N3", address.line1, address.line2)
    out.add("N4", address.city, address.state, address.postal_code)


def _person_name(out: Segments, entity: str, person: Person, id_qualifier: str, identifier: str) -> None:
    out.add(
        "NM1", entity, "1", person.last_name, person.first_name, person.middle_name, "", "", id_qualifier, identifier
    )


def _demographics(out: Segments, person: Person) -> None:
    assert person.birth_date is not None  # checked by _require_common
    out.add("DMG", "D8", d8(person.birth_date), person.gender)


def _subscriber(out: Segments, subscriber: Subscriber, *, is_patient: bool, institutional: bool) -> None:
    out.add(
        "SBR",
        subscriber.responsibility,
        "18" if is_patient else "",
        subscriber.group_number,
        subscriber.group_name,
        "" if institutional else subscriber.insurance_type,
        "",
        "",
        "",
        subscriber.claim_filing_indicator,
    )
    person = subscriber.person
    _person_name(out, "IL", person, "MI", subscriber.member_id)
    if person.address is not None:
        _address(out, person.address)
    if is_patient:
        _demographics(out, person)
    payer = subscriber.payer
    out.add("NM1", "PR", "2", payer.name, "", "", "", "", "PI", payer.payer_id)
    if payer.address is not None:
        _address(out, payer.address)


def _provider(out: Segments, entity: str, provider: Provider, prv_code: str = "") -> None:
    out.add(
        "NM1", entity, "1", provider.last_name, provider.first_name, provider.middle_name, "", "", "XX", provider.npi
    )
    if prv_code and provider.taxonomy:
        out.add("PRV", prv_code, "PXC", provider.taxonomy)


def _claim(out: Segments, claim: Claim, *, institutional: bool) -> None:
    # CLM05: facility code + A (UB-04 type of bill) for 837I, place of service + B (CMS-1500) for 837P; CLM06
    # (provider signature) is not used in 837I.
    if institutional:
        facility, signature = composite(claim.facility_code, "A", claim.frequency_code), ""
    else:
        facility, signature = composite(claim.place_of_service, "B", claim.frequency_code), claim.provider_signature
    out.add(
        "CLM",
        claim.patient_control_number,
        amount(claim.total_charge),
        "",
        "",
        facility,
        signature,
        claim.assignment,
        claim.benefits_assigned,
        claim.release_of_information,
    )
    if institutional:
        assert claim.statement_start is not None  # checked by _require_institutional
        out.add("DTP", "434", "RD8", f"{d8(claim.statement_start)}-{d8(claim.statement_end or claim.statement_start)}")
        if claim.admission_date is not None:
            out.add("DTP", "435", "D8", d8(claim.admission_date))
        out.add("CL1", claim.admission_type, claim.admission_source, claim.patient_status)
    if claim.prior_authorization:
        out.add("REF", "G1", claim.prior_authorization)
    if claim.original_claim_number:
        out.add("REF", "F8", claim.original_claim_number)
    if claim.medical_record_number:
        out.add("REF", "EA", claim.medical_record_number)

    diagnoses = claim.diagnoses
    if institutional:
        out.add("HI", composite("ABK", diagnoses[0]))
        if claim.reason_for_visit:
            out.add("HI", *(composite("APR", dotless(code)) for code in claim.reason_for_visit[:3]))
        others = diagnoses[1:]
        for i in range(0, len(others), _HI_PER_SEGMENT):
            out.add("HI", *(composite("ABF", code) for code in others[i : i + _HI_PER_SEGMENT]))
        spans = [composite("BI", s.code, "RD8", f"{d8(s.start)}-{d8(s.end)}") for s in claim.occurrence_spans]
        _hi_chunks(out, spans)
        _hi_chunks(out, [composite("BH", o.code, "D8", d8(o.on)) for o in claim.occurrences])
    else:
        out.add("HI", composite("ABK", diagnoses[0]), *(composite("ABF", code) for code in diagnoses[1:]))
    _hi_chunks(out, [composite("BG", code) for code in claim.condition_codes])

    if institutional:
        assert claim.attending is not None
        _provider(out, "71", claim.attending, "AT")
        if claim.rendering is not None:
            _provider(out, "82", claim.rendering)
        _facility(out, claim)
    else:
        if claim.referring is not None:
            _provider(out, "DN", claim.referring)
        if claim.rendering is not None:
            _provider(out, "82", claim.rendering, "PE")
        _facility(out, claim)
        if claim.supervising is not None:
            _provider(out, "DQ", claim.supervising)

    for coverage in claim.other_coverages:
        _other_coverage(out, coverage, institutional=institutional)

    # Line adjudications indexed once by line number (no scan of every coverage per line).
    by_line: dict[int, list[tuple[OtherCoverage, LineAdjudication]]] = defaultdict(list)
    for coverage in claim.other_coverages:
        for adj in coverage.line_adjudications:
            by_line[adj.line_number].append((coverage, adj))

    for number, line in enumerate(claim.lines, start=1):
        out.add("LX", str(number))
        _line(out, claim, line, institutional=institutional)
        for coverage, adj in by_line.get(number, ()):
            _line_adjudication(out, coverage, adj, institutional=institutional)


def _hi_chunks(out: Segments, composites: list[str]) -> None:
    for i in range(0, len(composites), _HI_PER_SEGMENT):
        out.add("HI", *composites[i : i + _HI_PER_SEGMENT])


def _facility(out: Segments, claim: Claim) -> None:
    facility = claim.service_facility
    if facility is None:
        return
    out.add("NM1", "77", "2", facility.name, "", "", "", "", "XX" if facility.npi else "", facility.npi)
    _address(out, facility.address)


def _adjustments(out: Segments, adjustments: tuple[Adjustment, ...]) -> None:
    """CAS: one segment per group code, up to six reason/amount/quantity triplets each."""
    groups: dict[str, list[Adjustment]] = defaultdict(list)
    for adj in adjustments:
        groups[adj.group].append(adj)
    for group, items in groups.items():
        for i in range(0, len(items), _CAS_PER_SEGMENT):
            elements = [group]
            for adj in items[i : i + _CAS_PER_SEGMENT]:
                elements += [adj.reason, amount(adj.amount), quantity(adj.quantity) if adj.quantity is not None else ""]
            out.add("CAS", *elements)


def _other_coverage(out: Segments, coverage: OtherCoverage, *, institutional: bool) -> None:
    out.add(
        "SBR",
        coverage.responsibility,
        coverage.relationship,
        coverage.group_number,
        coverage.group_name,
        "" if institutional else coverage.insurance_type,
        "",
        "",
        "",
        coverage.claim_filing_indicator,
    )
    _adjustments(out, coverage.adjustments)
    if coverage.paid_amount is not None:
        out.add("AMT", "D", amount(coverage.paid_amount))
    if coverage.remaining_patient_liability is not None:
        out.add("AMT", "EAF", amount(coverage.remaining_patient_liability))
    out.add("OI", "", "", "Y", "", "", "Y")
    _person_name(out, "IL", coverage.subscriber, "MI", coverage.member_id)
    if coverage.subscriber.address is not None:
        _address(out, coverage.subscriber.address)
    payer = coverage.payer
    out.add("NM1", "PR", "2", payer.name, "", "", "", "", "PI", payer.payer_id)
    if payer.address is not None:
        _address(out, payer.address)
    if coverage.adjudication_date is not None and not coverage.line_adjudications:
        out.add("DTP", "573", "D8", d8(coverage.adjudication_date))
    if coverage.payer_claim_control_number:
        out.add("REF", "F8", coverage.payer_claim_control_number)


def _procedure(code: str, modifiers: tuple[str, ...]) -> str:
    return composite("HC", code, *modifiers)


def _line(out: Segments, claim: Claim, line: ServiceLine, *, institutional: bool) -> None:
    if institutional:
        out.add(
            "SV2",
            line.revenue_code,
            _procedure(line.procedure_code, line.modifiers) if line.procedure_code else "",
            amount(line.charge),
            line.unit_basis,
            quantity(line.units),
        )
    else:
        pos = line.place_of_service if line.place_of_service != claim.place_of_service else ""
        out.add(
            "SV1",
            _procedure(line.procedure_code, line.modifiers),
            amount(line.charge),
            "UN",
            quantity(line.units),
            pos,
            "",
            composite(*(str(p) for p in line.diagnosis_pointers)),
        )
    qualifier, value = period(line.service_date, line.service_date_end)
    out.add("DTP", "472", qualifier, value)
    if line.control_number:
        out.add("REF", "6R", line.control_number)
    # Loop 2420A (837P) / 2420C (837I): only when the line's provider is not the claim's (the guides forbid
    # repeating it). 837I's 2420C carries no taxonomy; 837P's supervising provider is loop 2420D.
    if line.rendering is not None and line.rendering != claim.rendering:
        _provider(out, "82", line.rendering, "" if institutional else "PE")
    if not institutional and line.supervising is not None and line.supervising != claim.supervising:
        _provider(out, "DQ", line.supervising)


def _line_adjudication(out: Segments, coverage: OtherCoverage, adj: LineAdjudication, *, institutional: bool) -> None:
    out.add(
        "SVD",
        coverage.payer.payer_id,
        amount(adj.paid_amount),
        _procedure(adj.procedure_code, adj.modifiers),
        adj.revenue_code if institutional else "",
        quantity(adj.units),
    )
    _adjustments(out, adj.adjustments)
    out.add("DTP", "573", "D8", d8(adj.adjudication_date))
    if adj.remaining_patient_liability is not None:
        out.add("AMT", "EAF", amount(adj.remaining_patient_liability))


def group_by_payer(claims: Iterable[Claim]) -> list[tuple[str, tuple[Claim, ...]]]:
    """Claims grouped by the payer id they go to, in first-seen order: one ``ClaimTransaction`` per payer is
    OpenIOP's choice (a payer's 999 rejection of one transaction set then holds back no other payer's claims)."""
    groups: dict[str, list[Claim]] = defaultdict(list)
    for claim in claims:
        groups[claim.subscriber.payer.payer_id].append(claim)
    return [(payer_id, tuple(items)) for payer_id, items in groups.items()]
