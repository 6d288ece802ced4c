"""A clearinghouse's answers to one of our 837 files, for the demo and the tests: the 999 that says whether each
transaction set was readable, the 277CA that accepts or rejects each claim, and the 835 that pays, partly pays,
denies or reverses them.

Nothing in production calls this: real acknowledgements come from the clearinghouse. The answers are built from
the 837 itself (its envelope, its ST control numbers, each claim's CLM01, charge and lines), so they match what the
claims app sent, and the tests check that pyx12 finds them valid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from openiop.lib.x12._syntax import amount
from openiop.lib.x12.reading import Seg, segments


@dataclass(frozen=True)
class SentLine:
    procedure: str  # SV1-01 / SV2-02 as written (HC:S9480:HO)
    revenue_code: str
    charge: Decimal
    units: str
    service_date: str  # DTP*472's D8 value (the first day of a range)
    control_number: str  # REF*6R


@dataclass(frozen=True)
class SentClaim:
    transaction: str  # ST02
    control_number: str  # CLM01
    charge: str  # CLM02, as written
    payer_name: str
    payer_id: str
    last_name: str = ""
    first_name: str = ""
    member_id: str = ""
    service_dates: str = ""  # DTP*472's D8 or RD8 value: the statement period or the first line's date
    facility: str = ""  # CLM05-1: type of bill facility code (837I) or place of service (837P)
    frequency: str = ""  # CLM05-3
    lines: tuple[SentLine, ...] = ()


@dataclass(frozen=True)
class SentFile:
    sender_id: str
    receiver_id: str
    group_control_number: str
    version: str
    transactions: tuple[str, ...]
    claims: tuple[SentClaim, ...]
    billing_provider_npi: str


def read_837(text: str) -> SentFile:
    """What the simulator needs from one of our 837 files."""
    segs, _ = segments(text, expect="837")
    sender = receiver = group = version = npi = ""
    transactions: list[str] = []
    claims: list[SentClaim] = []
    current = payer_name = payer_id = last = first = member = ""
    dates: dict[int, str] = {}
    lines: dict[int, list[SentLine]] = {}
    for seg in segs:
        if seg.id == "ISA":
            sender, receiver = seg.get(6).strip(), seg.get(8).strip()
        elif seg.id == "GS":
            group, version = seg.get(6), seg.get(8)
        elif seg.id == "ST":
            current = seg.get(2)
            transactions.append(current)
        elif seg.id == "NM1" and seg.get(1) == "85" and not npi:
            npi = seg.get(9)
        elif seg.id == "NM1" and seg.get(1) == "PR":
            payer_name, payer_id = seg.get(3), seg.get(9)
        elif seg.id == "NM1" and seg.get(1) == "IL":
            last, first, member = seg.get(3), seg.get(4), seg.get(9)
        elif seg.id == "NM1" and seg.get(1) == "QC":
            last, first = seg.get(3), seg.get(4)  # the patient, under the subscriber's member id
        elif seg.id == "CLM":
            claims.append(
                SentClaim(
                    current, seg.get(1), seg.get(2), payer_name, payer_id, last, first, member,
                    facility=seg.get(5, 1), frequency=seg.get(5, 3),
                )
            )  # fmt: skip
            lines[len(claims) - 1] = []
        elif seg.id in ("SV1", "SV2") and claims:
            lines[len(claims) - 1].append(_sent_line(seg))
        elif seg.id == "DTP" and seg.get(1) == "472" and claims and lines[len(claims) - 1]:
            line = lines[len(claims) - 1][-1]
            lines[len(claims) - 1][-1] = replace(line, service_date=seg.get(3).split("-")[0])
        elif seg.id == "REF" and seg.get(1) == "6R" and claims and lines[len(claims) - 1]:
            lines[len(claims) - 1][-1] = replace(lines[len(claims) - 1][-1], control_number=seg.get(2))
        elif seg.id == "DTP" and seg.get(1) in ("434", "472") and claims and len(claims) - 1 not in dates:
            value = seg.get(3)
            dates[len(claims) - 1] = value if "-" in value else f"{value}-{value}"
    claims = [replace(c, service_dates=dates.get(i, ""), lines=tuple(lines.get(i, ()))) for i, c in enumerate(claims)]
    return SentFile(sender, receiver, group, version, tuple(transactions), tuple(claims), npi)


def _sent_line(seg: Seg) -> SentLine:
    """SV2 (837I: revenue code, procedure, charge, DA, units) or SV1 (837P: procedure, charge, UN, units)."""
    if seg.id == "SV2":
        procedure = ":".join(seg.components(2))
        return SentLine(procedure, seg.get(1), Decimal(seg.get(3)), seg.get(5) or "1", "", "")
    procedure = ":".join(seg.components(1))
    return SentLine(procedure, "", Decimal(seg.get(2)), seg.get(4) or "1", "", "")


def _interchange(sent: SentFile, functional_id: str, version: str, number: int, at: datetime, body: list[str]) -> str:
    """The clearinghouse's envelope: sender and receiver swapped, its own control numbers."""
    isa = "*".join(
        (
            "ISA", "00", " " * 10, "00", " " * 10, "ZZ", sent.receiver_id.ljust(15), "ZZ", sent.sender_id.ljust(15),
            at.strftime("%y%m%d"), at.strftime("%H%M"), "^", "00501", f"{number:09d}", "0", "T", ":",
        )
    )  # fmt: skip
    gs = f"GS*{functional_id}*{sent.receiver_id}*{sent.sender_id}*{at:%Y%m%d}*{at:%H%M}*{number}*X*{version}"
    return "~\n".join([isa, gs, *body, f"GE*1*{number}", f"IEA*1*{number:09d}"]) + "~\n"


def acknowledge_999(text: str, *, at: datetime, number: int, rejected: Iterable[str] = ()) -> str:
    """A 999 for the 837 ``text``: every transaction set accepted, except those whose ST02 is in ``rejected``
    (reported with an NM1 element error, as a missing identifier would be)."""
    sent = read_837(text)
    refused = set(rejected)
    body = ["ST*999*0001*005010X231A1", f"AK1*HC*{sent.group_control_number}*{sent.version}"]
    for transaction in sent.transactions:
        body.append(f"AK2*837*{transaction}*{sent.version}")
        if transaction in refused:
            body += ["IK3*NM1*8*2010*8", "IK4*9*67*1", "IK5*R*5"]
        else:
            body.append("IK5*A")
    total = len(sent.transactions)
    accepted = total - len(refused & set(sent.transactions))
    code = "A" if accepted == total else ("R" if accepted == 0 else "P")
    body.append(f"AK9*{code}*{total}*{total}*{accepted}")
    body.append(f"SE*{len(body) + 1}*0001")
    return _interchange(sent, "FA", "005010X231A1", number, at, body)


def acknowledge_277ca(
    text: str,
    *,
    at: datetime,
    number: int,
    rejected: dict[str, str] | None = None,
    payer_claim_number: Callable[[str], str] = lambda pcn: f"ICN{pcn}",
) -> str:
    """A 277CA for the 837 ``text``: each claim accepted into adjudication (A2, with the payer's claim number), or
    rejected (A7) with the reason given in ``rejected`` by its CLM01. One payer: the first claim's."""
    sent = read_837(text)
    refused = rejected or {}
    first = sent.claims[0]
    body = [
        "ST*277*0001*005010X214",
        f"BHT*0085*08*277CA{number}*{at:%Y%m%d}*{at:%H%M}*TH",
        "HL*1**20*1",
        f"NM1*PR*2*{first.payer_name}*****PI*{first.payer_id}",
        "TRN*1*0001",
        f"DTP*050*D8*{at:%Y%m%d}",
        f"DTP*009*D8*{at:%Y%m%d}",
        "HL*2*1*21*1",
        f"NM1*41*2*SUBMITTER*****46*{sent.sender_id}",
        "TRN*2*0001",
        f"STC*A1:19:PR*{at:%Y%m%d}*WQ*{sum(float(c.charge) for c in sent.claims):g}",
        "HL*3*2*19*1",
        f"NM1*85*2*BILLING PROVIDER*****XX*{sent.billing_provider_npi}",
        "TRN*1*0",
        f"STC*A1:19:85**WQ*{sum(float(c.charge) for c in sent.claims):g}",
    ]
    hl = 3
    for claim in sent.claims:
        hl += 1
        body += [
            f"HL*{hl}*3*PT",
            f"NM1*QC*1*{claim.last_name}*{claim.first_name}****MI*{claim.member_id}",
            f"TRN*2*{claim.control_number}",
        ]
        if claim.control_number in refused:
            body.append(f"STC*A7:562:85*{at:%Y%m%d}*U*{claim.charge}********{refused[claim.control_number]}")
        else:
            body += [
                f"STC*A2:20:PR*{at:%Y%m%d}*WQ*{claim.charge}",
                f"REF*1K*{payer_claim_number(claim.control_number)}",
            ]
        body.append(f"DTP*472*RD8*{claim.service_dates}")
    body.append(f"SE*{len(body) + 1}*0001")
    return _interchange(sent, "HN", "005010X214", number, at, body)


@dataclass(frozen=True)
class Outcome:
    """How the payer answers one claim in ``remit_835``.

    ``paid``: each line allowed at ``allowed`` (its charge when None; the difference is CO-45), the patient's share
    (PR-1 deductible, PR-2 coinsurance, PR-3 copay) taken from the first line, ``denied_lines`` (1-based) denied
    with ``carc``/``rarc``. ``denied``: CLP02 4, every line CO-``carc`` for its charge with RARC ``rarc``.
    ``reversal=True`` sends the same answer negated with CLP02 22 (taking back an earlier payment)."""

    kind: str = "paid"
    allowed: Decimal | None = None
    deductible: Decimal = Decimal(0)
    coinsurance: Decimal = Decimal(0)
    copay: Decimal = Decimal(0)
    carc: str = "50"
    rarc: str = "N130"
    denied_lines: tuple[int, ...] = ()
    status: str = "1"
    reversal: bool = False
    payer_claim_number: str = ""


@dataclass
class _Answer:
    segments: list[str]
    charge: Decimal
    paid: Decimal


def _cas(adjustments: list[tuple[str, str, Decimal]], sign: int) -> list[str]:
    """One CAS per group, up to six reason/amount pairs each, in the order the groups first appear."""
    out: list[str] = []
    for group in dict.fromkeys(g for g, _, _ in adjustments):
        pairs = [f"{reason}*{amount(sign * value)}" for g, reason, value in adjustments if g == group and value]
        if pairs:
            out.append(f"CAS*{group}*" + "**".join(pairs))
    return out


def _answer(claim: SentClaim, outcome: Outcome) -> _Answer:
    sign = -1 if outcome.reversal else 1
    denied = outcome.kind == "denied"
    lines: list[str] = []
    total_paid = Decimal(0)
    patient = Decimal(0)
    for number, line in enumerate(claim.lines, start=1):
        adjustments: list[tuple[str, str, Decimal]] = []
        remarks: list[str] = []
        if denied or number in outcome.denied_lines:
            adjustments.append(("CO", outcome.carc, line.charge))
            remarks.append(outcome.rarc)
            paid = Decimal(0)
        else:
            allowed = line.charge if outcome.allowed is None else min(outcome.allowed, line.charge)
            adjustments.append(("CO", "45", line.charge - allowed))
            share = [("PR", "1", outcome.deductible), ("PR", "2", outcome.coinsurance), ("PR", "3", outcome.copay)]
            if number == 1:
                adjustments += share
                patient += sum((v for _, _, v in share), Decimal(0))
            paid = allowed - sum((v for g, _, v in adjustments if g == "PR"), Decimal(0))
        total_paid += paid
        lines.append(
            f"SVC*{line.procedure}*{amount(sign * line.charge)}*{amount(sign * paid)}*{line.revenue_code}*{line.units}"
        )
        lines.append(f"DTM*472*{line.service_date}")
        lines += _cas(adjustments, sign)
        if line.control_number:
            lines.append(f"REF*6R*{line.control_number}")
        lines += [f"LQ*HE*{code}" for code in remarks if code]
    charge = Decimal(claim.charge)
    status = "22" if outcome.reversal else ("4" if denied else outcome.status)
    icn = outcome.payer_claim_number or f"ICN{claim.control_number}"
    responsibility = amount(sign * patient) if patient else ""
    head = [
        f"CLP*{claim.control_number}*{status}*{amount(sign * charge)}*{amount(sign * total_paid)}*{responsibility}"
        f"*12*{icn}*{claim.facility}*{claim.frequency or '1'}",
        f"NM1*QC*1*{claim.last_name}*{claim.first_name}****MI*{claim.member_id}",
    ]
    return _Answer(head + lines, sign * charge, sign * total_paid)


def remit_835(
    text: str,
    *,
    at: datetime,
    number: int,
    outcomes: Mapping[str, Outcome],
    trace: str = "",
    provider_adjustments: Iterable[tuple[str, str, Decimal]] = (),
) -> str:
    """An 835 paying, partly paying, denying or reversing the claims of the 837 ``text`` named (by CLM01) in
    ``outcomes``; the others are left out, as a payer leaves out claims it has not finished. One payer: the first
    named claim's. ``provider_adjustments`` are PLB (reason, reference, amount). The payment (BPR02) is the claims'
    payments less the PLB amounts; when that is negative (a reversal bigger than the payments), a PLB FB carries the
    balance forward and the payment is 0."""
    sent = read_837(text)
    claims = [c for c in sent.claims if c.control_number in outcomes]
    if not claims:
        raise ValueError("outcomes names no claim of this file")
    answers = [_answer(c, outcomes[c.control_number]) for c in claims]
    plb = list(provider_adjustments)
    total = sum((a.paid for a in answers), Decimal(0)) - sum((p[2] for p in plb), Decimal(0))
    if total < 0:
        plb.append(("FB", f"BAL{number}", total))
        total = Decimal(0)
    trace = trace or f"EFT{number:09d}"
    day = f"{at:%Y%m%d}"
    if total:
        bpr = f"BPR*I*{amount(total)}*C*ACH*CCP*01*011000015*DA*123456789*1512345678**01*071000013*DA*987654321*{day}"
    else:
        bpr = f"BPR*H*0*C*NON************{day}"
    first = claims[0]
    body = [
        "ST*835*0001",
        bpr,
        f"TRN*1*{trace}*1512345678",
        f"DTM*405*{day}",
        f"N1*PR*{first.payer_name}",
        "N3*1 PAYER PLAZA",
        "N4*CHICAGO*IL*60601",
        f"REF*2U*{first.payer_id}",
        "PER*BL*PROVIDER SERVICES*TE*8005550199",
        f"N1*PE*BILLING PROVIDER*XX*{sent.billing_provider_npi}",
        "LX*1",
    ]
    for answer in answers:
        body += answer.segments
    for reason, reference, value in plb:
        body.append(f"PLB*{sent.billing_provider_npi}*{at.year}1231*{reason}:{reference}*{amount(value)}")
    body.append(f"SE*{len(body) + 1}*0001")
    return _interchange(sent, "HP", "005010X221A1", number, at, body)


@dataclass(frozen=True)
class SentInquiry:
    """What the 271 simulator needs from one of our 270 files."""

    sender_id: str
    receiver_id: str
    reference: str  # BHT03
    payer_name: str
    payer_id: str
    provider_name: str
    provider_npi: str
    trace_number: str
    trace_originator: str
    member_id: str
    subscriber: tuple[str, str]  # last, first
    dependent: tuple[str, str] | None
    birth_date: str  # DMG02 of the person asked about
    service_types: tuple[str, ...]


def read_270(text: str) -> SentInquiry:
    segs, _ = segments(text, expect="270")
    values: dict[str, str] = {}
    subscriber = ("", "")
    dependent: tuple[str, str] | None = None
    service_types: list[str] = []
    for seg in segs:
        if seg.id == "ISA":
            values["sender"], values["receiver"] = seg.get(6).strip(), seg.get(8).strip()
        elif seg.id == "BHT":
            values["reference"] = seg.get(3)
        elif seg.id == "NM1" and seg.get(1) == "PR":
            values["payer_name"], values["payer_id"] = seg.get(3), seg.get(9)
        elif seg.id == "NM1" and seg.get(1) == "1P":
            values["provider_name"], values["provider_npi"] = seg.get(3), seg.get(9)
        elif seg.id == "NM1" and seg.get(1) == "IL":
            subscriber, values["member_id"] = (seg.get(3), seg.get(4)), seg.get(9)
        elif seg.id == "NM1" and seg.get(1) == "03":
            dependent = (seg.get(3), seg.get(4))
        elif seg.id == "TRN":
            values["trace"], values["originator"] = seg.get(2), seg.get(3)
        elif seg.id == "DMG":
            values["birth_date"] = seg.get(2)
        elif seg.id == "EQ":
            service_types.append(seg.get(1))
    get = values.get
    return SentInquiry(
        get("sender", ""), get("receiver", ""), get("reference", ""), get("payer_name", ""), get("payer_id", ""),
        get("provider_name", ""), get("provider_npi", ""), get("trace", ""), get("originator", ""),
        get("member_id", ""), subscriber, dependent, get("birth_date", ""), tuple(service_types),
    )  # fmt: skip


def answer_270(
    text: str,
    *,
    at: datetime,
    number: int,
    active: bool = True,
    copay: str = "25",
    coinsurance: str = "",
    deductible: str = "",
    visits: int | None = None,
    plan: str = "Gold PPO",
    group: str = "",
    coverage_from: date | None = None,
    coverage_to: date | None = None,
    message: str = "",
) -> str:
    """The payer's 271 for our 270 ``text``, addressed back to the sender with the inquiry's trace number (TRN*2).

    Active: EB*1 for the service types asked (with the plan's dates), an in-network copay per visit for the mental
    health types asked (EB*B, EB06 27 per visit), optional coinsurance (EB*A, a fraction such as "0.2") and
    calendar-year deductible (EB*C), and ``visits`` remaining (EB*F with EB06 29, EB09 VS). Inactive: EB*6 only.
    """
    sent = read_270(text)
    asked = [s for s in sent.service_types if s != "30"] or ["30"]
    start = coverage_from or date(at.year, 1, 1)
    end = coverage_to or date(at.year, 12, 31)
    person = sent.dependent or sent.subscriber
    body = [
        "ST*271*0001*005010X279A1",
        f"BHT*0022*11*{sent.reference}*{at:%Y%m%d}*{at:%H%M}",
        "HL*1**20*1",
        f"NM1*PR*2*{sent.payer_name}*****PI*{sent.payer_id}",
        "HL*2*1*21*1",
        f"NM1*1P*2*{sent.provider_name}*****XX*{sent.provider_npi}",
        f"HL*3*2*22*{1 if sent.dependent else 0}",
    ]
    trace = f"TRN*2*{sent.trace_number}*{sent.trace_originator}"
    if sent.dependent is None:
        body.append(trace)
    body.append(f"NM1*IL*1*{sent.subscriber[0]}*{sent.subscriber[1]}****MI*{sent.member_id}")
    if group:
        body.append(f"REF*6P*{group}*{plan}")
    if sent.dependent is not None:
        body += ["HL*4*3*23*0", trace, f"NM1*03*1*{person[0]}*{person[1]}"]
    if sent.birth_date:
        body.append(f"DMG*D8*{sent.birth_date}")
    body.append(f"DTP*346*D8*{start:%Y%m%d}")
    if not active:
        body += [f"EB*6*IND*{'^'.join(sent.service_types)}", f"DTP*347*D8*{end:%Y%m%d}"]
    else:
        body += [f"EB*1*IND*{'^'.join(sent.service_types)}*HM*{plan}", f"DTP*291*RD8*{start:%Y%m%d}-{end:%Y%m%d}"]
        if copay:
            body.append(f"EB*B*IND*{'^'.join(asked)}*HM**27*{copay}*****Y")
            if message:
                body.append(f"MSG*{message}")
        if coinsurance:
            body.append(f"EB*A*IND*{'^'.join(asked)}*HM**27**{coinsurance}****Y")
        if deductible:
            body.append(f"EB*C*IND*30*HM**23*{deductible}*****Y")
        if visits is not None:
            body.append(f"EB*F*IND*{'^'.join(asked)}*HM**29***VS*{visits}**Y")
    body.append(f"SE*{len(body) + 1}*0001")
    inquiry = SentFile(sent.sender_id, sent.receiver_id, "", "", (), (), "")
    return _interchange(inquiry, "HB", "005010X279A1", number, at, body)
