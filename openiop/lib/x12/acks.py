"""Readers for what comes back after an 837 is sent: the 999 (was the file well formed?) and the 277CA (was each
claim accepted into the payer's adjudication?)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from openiop.lib.x12 import codes
from openiop.lib.x12.reading import Seg, date8, date_range, optional_money, segments


@dataclass(frozen=True)
class ElementError:
    """IK4: ``position`` in the segment (IK401-1), ``component`` (IK401-2), the data element number (IK402),
    the error code (IK403) with its text, and the bad value when the sender quoted it (IK404)."""

    position: int
    component: int | None
    data_element: str
    code: str
    text: str
    bad_value: str = ""


@dataclass(frozen=True)
class SegmentError:
    """IK3: the segment id, its position in the transaction set (ST = 1), the loop, the error code with its text."""

    segment_id: str
    position: int
    loop: str
    code: str
    text: str
    elements: tuple[ElementError, ...] = ()


@dataclass(frozen=True)
class TransactionAck:
    """AK2..IK5: one of our transaction sets (``control_number`` is our ST02)."""

    transaction_set_id: str
    control_number: str
    version: str
    status: str
    status_text: str
    syntax_errors: tuple[str, ...]
    segment_errors: tuple[SegmentError, ...]

    @property
    def accepted(self) -> bool:
        """A or E: the payer took the transaction set (E: with errors noted, still accepted)."""
        return self.status in ("A", "E")


@dataclass(frozen=True)
class GroupAck:
    """AK1..AK9: one of our functional groups (``group_control_number`` is our GS06)."""

    functional_id: str
    group_control_number: str
    version: str
    status: str
    status_text: str
    sets_included: int
    sets_received: int
    sets_accepted: int
    transactions: tuple[TransactionAck, ...]


def read_999(text: str) -> list[GroupAck]:
    """Every functional group a 999 answers, with each transaction set's status and errors."""
    segs, _ = segments(text, expect="999")
    groups: list[GroupAck] = []
    ak1: Seg | None = None
    transactions: list[TransactionAck] = []
    ak2: Seg | None = None
    seg_errors: list[SegmentError] = []
    ik3: Seg | None = None
    elements: list[ElementError] = []

    def close_ik3() -> None:
        nonlocal ik3, elements
        if ik3 is not None:
            code = ik3.get(4)
            seg_errors.append(
                SegmentError(
                    ik3.get(1),
                    _int(ik3.get(2)),
                    ik3.get(3),
                    code,
                    codes.describe(codes.SEGMENT_ERRORS, code) if code else "",
                    tuple(elements),
                )
            )
        ik3, elements = None, []

    for seg in segs:
        if seg.id == "AK1":
            ak1, transactions = seg, []
        elif seg.id == "AK2":
            ak2, seg_errors = seg, []
        elif seg.id == "IK3":
            close_ik3()
            ik3 = seg
        elif seg.id == "IK4":
            code = seg.get(3)
            component = seg.get(1, 2)
            elements.append(
                ElementError(
                    _int(seg.get(1, 1)),
                    _int(component) if component else None,
                    seg.get(2),
                    code,
                    codes.describe(codes.ELEMENT_ERRORS, code),
                    seg.get(4),
                )
            )
        elif seg.id == "IK5" and ak2 is not None:
            close_ik3()
            status = seg.get(1)
            transactions.append(
                TransactionAck(
                    ak2.get(1),
                    ak2.get(2),
                    ak2.get(3),
                    status,
                    codes.describe(codes.ACK_CODES, status),
                    tuple(seg.get(i) for i in range(2, 7) if seg.get(i)),
                    tuple(seg_errors),
                )
            )
            ak2 = None
        elif seg.id == "AK9" and ak1 is not None:
            status = seg.get(1)
            groups.append(
                GroupAck(
                    ak1.get(1),
                    ak1.get(2),
                    ak1.get(3),
                    status,
                    codes.describe(codes.ACK_CODES, status),
                    _int(seg.get(2)),
                    _int(seg.get(3)),
                    _int(seg.get(4)),
                    tuple(transactions),
                )
            )
            ak1 = None
    return groups


@dataclass(frozen=True)
class ClaimStatus:
    """One STC composite: category (A1, A2, A3, A6, A7...), status code, entity code, with the category's text."""

    category: str
    code: str
    entity: str
    category_text: str


@dataclass(frozen=True)
class StatusReport:
    """One STC segment: its status composites (STC01, STC10, STC11), date, action code, amount and free text."""

    statuses: tuple[ClaimStatus, ...]
    effective: date | None
    action: str
    amount: Decimal | None
    message: str

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(s.category for s in self.statuses)


@dataclass(frozen=True)
class ClaimAcknowledgment:
    """One claim in a 277CA (loop 2200D): ``patient_control_number`` is our CLM01 (TRN02), ``payer_claim_number`` the
    payer's REF*1K (needed later for a replacement or void, REF*F8)."""

    patient_control_number: str
    payer_claim_number: str
    clearinghouse_trace: str
    reports: tuple[StatusReport, ...]
    total_charge: Decimal | None
    service_start: date | None
    service_end: date | None
    billing_provider_id: str

    @property
    def outcome(self) -> str:
        """rejected if any status is a rejection category (A3, A4, A6, A7, A8, E0), accepted if any is A1, A2 or
        A5, else pending (forwarded, or a category we do not classify)."""
        categories = {c for r in self.reports for c in r.categories}
        if categories & codes.REJECTED_CATEGORIES:
            return "rejected"
        if categories & codes.ACCEPTED_CATEGORIES:
            return "accepted"
        return "pending"

    @property
    def message(self) -> str:
        return " ".join(r.message for r in self.reports if r.message)


@dataclass(frozen=True)
class ClaimAcknowledgmentReport:
    """A 277CA: who sent it, the statuses for the whole batch (2200B) and per billing provider (2200C), and each
    claim."""

    payer_name: str
    payer_id: str
    batch_reports: tuple[StatusReport, ...]
    provider_reports: tuple[tuple[str, StatusReport], ...]
    claims: tuple[ClaimAcknowledgment, ...]


def _stc(seg: Seg) -> StatusReport:
    statuses = []
    for element in (1, 10, 11):
        category = seg.get(element, 1)
        if category:
            statuses.append(
                ClaimStatus(
                    category,
                    seg.get(element, 2),
                    seg.get(element, 3),
                    codes.describe(codes.STATUS_CATEGORIES, category),
                )
            )
    return StatusReport(tuple(statuses), date8(seg.get(2)), seg.get(3), optional_money(seg.get(4)), seg.get(12))


@dataclass
class _ClaimBuilder:
    patient_control_number: str
    billing_provider_id: str
    payer_claim_number: str = ""
    clearinghouse_trace: str = ""
    reports: list[StatusReport] = field(default_factory=list)
    service_start: date | None = None
    service_end: date | None = None
    in_service_lines: bool = False

    def build(self) -> ClaimAcknowledgment:
        return ClaimAcknowledgment(
            self.patient_control_number,
            self.payer_claim_number,
            self.clearinghouse_trace,
            tuple(self.reports),
            next((r.amount for r in self.reports if r.amount is not None), None),
            self.service_start,
            self.service_end,
            self.billing_provider_id,
        )


def read_277ca(text: str) -> ClaimAcknowledgmentReport:
    """Claim-level acknowledgment (005010X214): each claim's status by our patient control number."""
    segs, _ = segments(text, expect="277")
    payer_name = payer_id = level = provider_id = ""
    batch: list[StatusReport] = []
    providers: list[tuple[str, StatusReport]] = []
    claims: list[ClaimAcknowledgment] = []
    claim: _ClaimBuilder | None = None

    for seg in segs:
        sid = seg.id
        if sid == "HL":
            if claim is not None:
                claims.append(claim.build())
                claim = None
            level = seg.get(3)
        elif sid == "NM1" and level == "20":
            payer_name, payer_id = seg.get(3), seg.get(9)
        elif sid == "NM1" and level == "19":
            provider_id = seg.get(9)
        elif sid == "TRN" and level == "PT":
            if claim is not None:
                claims.append(claim.build())
            claim = _ClaimBuilder(seg.get(2), provider_id)
        elif sid == "STC":
            report = _stc(seg)
            if level == "21":
                batch.append(report)
            elif level == "19":
                providers.append((provider_id, report))
            elif claim is not None and not claim.in_service_lines:
                claim.reports.append(report)
        elif claim is None or claim.in_service_lines:
            continue  # service line statuses (loop 2220D) are not read: the claim-level status decides
        elif sid == "SVC":
            claim.in_service_lines = True
        elif sid == "REF" and seg.get(1) == "1K":
            claim.payer_claim_number = seg.get(2)
        elif sid == "REF" and seg.get(1) == "D9":
            claim.clearinghouse_trace = seg.get(2)
        elif sid == "DTP" and seg.get(1) == "472":
            claim.service_start, claim.service_end = date_range(seg.get(2), seg.get(3))
    if claim is not None:
        claims.append(claim.build())
    return ClaimAcknowledgmentReport(payer_name, payer_id, tuple(batch), tuple(providers), tuple(claims))


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0
