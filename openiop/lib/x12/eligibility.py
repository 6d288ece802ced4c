"""Eligibility: the 270 inquiry writer and the 271 response reader (005010X279A1).

pyx12 has no 5010 map for 270/271 (its maps are 4010), so the 270 is checked by our tests against the guide's
segment order and by ``validate_envelope`` for its envelope and HL structure. The 271 reader keeps every raw code
(EB01, EB03, EB06, EB09...) next to the few things a biller reads first: is coverage active, the copay and
coinsurance, the visits left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from openiop.lib.x12 import codes
from openiop.lib.x12._syntax import Checked, Segments, d8, hhmm
from openiop.lib.x12.envelope import write_interchange
from openiop.lib.x12.model import Envelope, Patient, Payer, Person
from openiop.lib.x12.reading import Seg, date8, date_range, optional_money, segments

VERSION_270 = "005010X279A1"
ACTIVE_CODES = frozenset({"1", "2", "3", "4", "5"})


@dataclass(frozen=True)
class EligibilityRequest(Checked):
    """One inquiry about one subscriber (or a dependent of theirs), for one or more service types.

    ``trace_number`` (TRN02) comes back in the 271 to match the answer; ``trace_originator`` (TRN03) is 10
    characters, "1" followed by the provider's EIN. ``service_types``: EQ01 codes, e.g. 30 plan coverage, MH mental
    health, A6 psychotherapy, A8 psychiatric outpatient, AI substance use.
    """

    envelope: Envelope
    control_number: str
    payer: Payer
    provider_name: str
    provider_npi: str
    subscriber: Person
    member_id: str
    trace_number: str
    trace_originator: str
    service_types: tuple[str, ...] = ("30",)
    service_date: date | None = None
    dependent: Patient | None = None
    group_number: str = ""
    reference: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 4 <= len(self.control_number) <= 9:
            raise ValueError("EligibilityRequest.control_number: 4 to 9 characters (ST02).")
        if not self.service_types:
            raise ValueError("EligibilityRequest.service_types: at least one service type code (EQ01).")
        if len(self.trace_originator) != 10:
            raise ValueError("EligibilityRequest.trace_originator: 10 characters (TRN03, '1' + EIN).")


def write_270(request: EligibilityRequest, *, newlines: bool = False) -> str:
    """The 270 file for ``request``: information source (payer, HL 20), receiver (provider, HL 21), subscriber
    (HL 22) and, for a dependent, HL 23."""

    def body(out: Segments, req: EligibilityRequest) -> None:
        created = req.envelope.created_at
        out.add("BHT", "0022", "13", req.reference or req.control_number, d8(created), hhmm(created))
        out.add("HL", "1", "", "20", "1")
        out.add("NM1", "PR", "2", req.payer.name, "", "", "", "", "PI", req.payer.payer_id)
        out.add("HL", "2", "1", "21", "1")
        out.add("NM1", "1P", "2", req.provider_name, "", "", "", "", "XX", req.provider_npi)
        out.add("HL", "3", "2", "22", "1" if req.dependent else "0")
        if req.dependent is None:
            out.add("TRN", "1", req.trace_number, req.trace_originator)
        person = req.subscriber
        out.add("NM1", "IL", "1", person.last_name, person.first_name, person.middle_name, "", "", "MI", req.member_id)
        if req.group_number:
            out.add("REF", "6P", req.group_number)
        if req.dependent is None:
            _demographics_and_inquiry(out, person, req)
            return
        dep = req.dependent.person
        out.add("HL", "4", "3", "23", "0")
        out.add("TRN", "1", req.trace_number, req.trace_originator)
        out.add("NM1", "03", "1", dep.last_name, dep.first_name, dep.middle_name)
        _demographics_and_inquiry(out, dep, req, relationship=req.dependent.relationship)

    return write_interchange(
        request.envelope,
        functional_id="HS",
        transaction_set_id="270",
        version=VERSION_270,
        transactions=[request],
        control_number=lambda r: r.control_number,
        body=body,
        newlines=newlines,
    )


def _demographics_and_inquiry(out: Segments, person: Person, req: EligibilityRequest, relationship: str = "") -> None:
    if person.birth_date is not None:
        out.add("DMG", "D8", d8(person.birth_date), person.gender)
    if relationship:
        out.add("INS", "N", relationship)
    if req.service_date is not None:
        out.add("DTP", "291", "D8", d8(req.service_date))
    for code in req.service_types:
        out.add("EQ", code)


@dataclass(frozen=True)
class Benefit:
    """One EB segment with the DTP and MSG that follow it. Raw codes kept: ``code`` EB01, ``coverage_level`` EB02,
    ``service_types`` EB03 (repeats), ``insurance_type`` EB04, ``plan`` EB05, ``time_period`` EB06 (27 visit,
    29 remaining, 23 calendar year...), ``amount`` EB07, ``percent`` EB08 (0.2 = 20%), ``quantity_qualifier`` EB09
    (VS visits, DY days), ``quantity`` EB10, ``authorization_required`` EB11, ``in_network`` EB12 (Y, N, W both)."""

    code: str
    coverage_level: str
    service_types: tuple[str, ...]
    insurance_type: str
    plan: str
    time_period: str
    amount: Decimal | None
    percent: Decimal | None
    quantity_qualifier: str
    quantity: Decimal | None
    authorization_required: str
    in_network: str
    procedure: tuple[str, ...]
    dates: tuple[tuple[str, date | None, date | None], ...]
    messages: tuple[str, ...]

    @property
    def text(self) -> str:
        return codes.describe(codes.BENEFITS, self.code)


@dataclass(frozen=True)
class Rejection:
    """AAA: the payer could not answer (``reason`` AAA03, e.g. 72 invalid member id, 75 subscriber not found;
    ``follow_up`` AAA04, e.g. C correct and resubmit). ``level``: the HL level code it was under (20, 21, 22, 23)."""

    level: str
    valid: str
    reason: str
    follow_up: str


@dataclass(frozen=True)
class CoveredPerson:
    """The answer about one subscriber (HL 22) or dependent (HL 23)."""

    level: str
    trace_number: str
    member_id: str
    last_name: str
    first_name: str
    birth_date: date | None
    dates: tuple[tuple[str, date | None, date | None], ...]
    benefits: tuple[Benefit, ...]
    rejections: tuple[Rejection, ...]

    @property
    def active(self) -> bool:
        """True when an EB01 says active coverage (1 to 5) and none says inactive (6, 7, 8)."""
        found = {b.code for b in self.benefits}
        return bool(found & ACTIVE_CODES) and not found & {"6", "7", "8"}

    def benefits_for(self, code: str, service_type: str = "") -> list[Benefit]:
        return [b for b in self.benefits if b.code == code and (not service_type or service_type in b.service_types)]

    @property
    def remaining_visits(self) -> Decimal | None:
        """EB10 of the first benefit counting visits (EB09 VS), preferring one marked remaining (EB06 29)."""
        visits = [b for b in self.benefits if b.quantity_qualifier == "VS" and b.quantity is not None]
        visits.sort(key=lambda b: b.time_period != "29")
        return visits[0].quantity if visits else None


@dataclass(frozen=True)
class EligibilityResponse:
    """A 271: the payer, rejections above the subscriber level, and each person answered about."""

    payer_name: str
    payer_id: str
    rejections: tuple[Rejection, ...]
    people: tuple[CoveredPerson, ...]


@dataclass
class _Person:
    level: str
    trace_number: str = ""
    member_id: str = ""
    last_name: str = ""
    first_name: str = ""
    birth_date: date | None = None
    dates: list[tuple[str, date | None, date | None]] = field(default_factory=list)
    benefits: list[Benefit] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def _benefit(
    seg: Seg, repetition: str, dates: list[tuple[str, date | None, date | None]], messages: list[str]
) -> Benefit:
    return Benefit(
        code=seg.get(1),
        coverage_level=seg.get(2),
        service_types=tuple(s for s in seg.get(3).split(repetition) if s),
        insurance_type=seg.get(4),
        plan=seg.get(5),
        time_period=seg.get(6),
        amount=optional_money(seg.get(7)),
        percent=optional_money(seg.get(8)),
        quantity_qualifier=seg.get(9),
        quantity=optional_money(seg.get(10)),
        authorization_required=seg.get(11),
        in_network=seg.get(12),
        procedure=tuple(c for c in seg.components(13) if c),
        dates=tuple(dates),
        messages=tuple(messages),
    )


def read_271(text: str) -> EligibilityResponse:
    """The benefits of each person in a 271 (005010X279A1); raw codes kept, see ``codes.BENEFITS``."""
    segs, repetition = segments(text, expect="271")
    payer_name = payer_id = level = ""
    top_rejections: list[Rejection] = []
    people: list[_Person] = []
    person: _Person | None = None
    eb: Seg | None = None
    eb_dates: list[tuple[str, date | None, date | None]] = []
    eb_messages: list[str] = []
    in_entity = False  # inside LS..LE (a benefit's related entity): its NM1 is not the person's

    def close_eb() -> None:
        nonlocal eb, eb_dates, eb_messages
        if eb is not None and person is not None:
            person.benefits.append(_benefit(eb, repetition, eb_dates, eb_messages))
        eb, eb_dates, eb_messages = None, [], []

    for seg in segs:
        sid = seg.id
        if sid == "LS":
            in_entity = True
        elif sid == "LE":
            in_entity = False
        elif in_entity:
            continue
        elif sid == "HL":
            close_eb()
            level = seg.get(3)
            person = None
            if level in ("22", "23"):
                person = _Person(level)
                people.append(person)
        elif sid == "NM1" and level == "20":
            payer_name, payer_id = seg.get(3), seg.get(9)
        elif sid == "AAA":
            rejection = Rejection(level, seg.get(1), seg.get(3), seg.get(4))
            if person is None:
                top_rejections.append(rejection)
            else:
                person.rejections.append(rejection)
        elif person is None:
            continue
        elif sid == "TRN" and not person.trace_number and seg.get(1) == "2":
            person.trace_number = seg.get(2)
        elif sid == "NM1" and eb is None:
            person.last_name, person.first_name = seg.get(3), seg.get(4)
            person.member_id = seg.get(9) or person.member_id
        elif sid == "REF" and eb is None and seg.get(1) == "MI":
            person.member_id = seg.get(2)
        elif sid == "DMG" and eb is None:
            person.birth_date = date8(seg.get(2))
        elif sid == "DTP":
            when = (seg.get(1), *date_range(seg.get(2), seg.get(3)))
            if eb is None:
                person.dates.append(when)
            else:
                eb_dates.append(when)
        elif sid == "EB":
            close_eb()
            eb = seg
        elif sid == "MSG" and eb is not None:
            eb_messages.append(seg.get(1))
    close_eb()
    return EligibilityResponse(
        payer_name,
        payer_id,
        tuple(top_rejections),
        tuple(
            CoveredPerson(
                p.level,
                p.trace_number,
                p.member_id,
                p.last_name,
                p.first_name,
                p.birth_date,
                tuple(p.dates),
                tuple(p.benefits),
                tuple(p.rejections),
            )
            for p in people
        ),
    )
