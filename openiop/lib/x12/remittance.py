"""835 reader: what a payer paid, adjusted and denied, claim by claim and line by line (005010X221A1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from openiop.lib.x12 import codes
from openiop.lib.x12.reading import Seg, date8, date_range, money, optional_money, segments

STATUS_DENIED = "4"
STATUS_REVERSAL = "22"


@dataclass(frozen=True)
class CasAdjustment:
    """One CAS triplet as the payer sent it: group (CO, PR, OA, PI, CR), CARC reason, amount, quantity."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None

    @property
    def reason_text(self) -> str:
        return codes.describe_carc(self.reason)

    @property
    def group_text(self) -> str:
        return codes.describe_group(self.group)


@dataclass(frozen=True)
class ServicePayment:
    """Loop 2110 (SVC): one adjudicated line. ``control_number`` is our REF*6R when the payer echoes it."""

    qualifier: str
    procedure_code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    revenue_code: str
    units: Decimal
    service_start: date | None
    service_end: date | None
    adjustments: tuple[CasAdjustment, ...]
    remark_codes: tuple[str, ...]
    control_number: str


@dataclass(frozen=True)
class ClaimPayment:
    """Loop 2100 (CLP): one claim. ``patient_control_number`` is our CLM01; ``status_code`` CLP02 (1 primary,
    2 secondary, 4 denied, 22 reversal...); ``payer_claim_number`` CLP07, quoted back in REF*F8 on a replacement or
    void. A reversal carries negative amounts."""

    patient_control_number: str
    status_code: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal | None
    filing_indicator: str
    payer_claim_number: str
    facility_code: str
    frequency_code: str
    member_id: str
    statement_start: date | None
    statement_end: date | None
    adjustments: tuple[CasAdjustment, ...]
    remark_codes: tuple[str, ...]
    services: tuple[ServicePayment, ...]

    @property
    def status_text(self) -> str:
        return codes.describe(codes.CLAIM_STATUS, self.status_code)

    @property
    def denied(self) -> bool:
        return self.status_code == STATUS_DENIED

    @property
    def reversal(self) -> bool:
        return self.status_code == STATUS_REVERSAL


@dataclass(frozen=True)
class ProviderAdjustment:
    """One PLB adjustment: not tied to a claim (interest, overpayment recovery WO, forward balance FB...).
    A positive amount reduces the payment, a negative one adds to it."""

    provider_id: str
    fiscal_period_end: date | None
    reason: str
    reference: str
    amount: Decimal


@dataclass(frozen=True)
class Remittance:
    """One 835 transaction set: one payment (or notice of no payment) from one payer to one payee."""

    payer_name: str
    payer_id: str
    payee_name: str
    payee_id: str
    handling_code: str
    total_paid: Decimal
    credit_debit: str
    payment_method: str
    payment_date: date | None
    trace_number: str
    trace_originator: str
    production_date: date | None
    claims: tuple[ClaimPayment, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...]


@dataclass
class _Service:
    seg: Seg
    start: date | None = None
    end: date | None = None
    adjustments: list[CasAdjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    control_number: str = ""

    def build(self) -> ServicePayment:
        seg = self.seg
        procedure = seg.components(1)
        units = seg.get(5)
        return ServicePayment(
            qualifier=seg.get(1, 1),
            procedure_code=seg.get(1, 2),
            modifiers=tuple(m for m in procedure[2:6] if m),
            charge=money(seg.get(2)),
            paid=money(seg.get(3)),
            revenue_code=seg.get(4),
            units=money(units) if units else Decimal(1),
            service_start=self.start,
            service_end=self.end,
            adjustments=tuple(self.adjustments),
            remark_codes=tuple(self.remarks),
            control_number=self.control_number,
        )


@dataclass
class _Claim:
    seg: Seg
    member_id: str = ""
    start: date | None = None
    end: date | None = None
    adjustments: list[CasAdjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    services: list[ServicePayment] = field(default_factory=list)

    def build(self) -> ClaimPayment:
        seg = self.seg
        return ClaimPayment(
            patient_control_number=seg.get(1),
            status_code=seg.get(2),
            charge=money(seg.get(3)),
            paid=money(seg.get(4)),
            patient_responsibility=optional_money(seg.get(5)),
            filing_indicator=seg.get(6),
            payer_claim_number=seg.get(7),
            facility_code=seg.get(8),
            frequency_code=seg.get(9),
            member_id=self.member_id,
            statement_start=self.start,
            statement_end=self.end,
            adjustments=tuple(self.adjustments),
            remark_codes=tuple(self.remarks),
            services=tuple(self.services),
        )


def _cas(seg: Seg) -> list[CasAdjustment]:
    group = seg.get(1)
    found = []
    for first in range(2, 20, 3):
        reason = seg.get(first)
        if not reason:
            break
        qty = seg.get(first + 2)
        found.append(CasAdjustment(group, reason, money(seg.get(first + 1)), money(qty) if qty else None))
    return found


def _plb(seg: Seg) -> list[ProviderAdjustment]:
    found = []
    for first in range(3, 15, 2):
        if not seg.get(first, 1):
            break
        found.append(
            ProviderAdjustment(
                seg.get(1), date8(seg.get(2)), seg.get(first, 1), seg.get(first, 2), money(seg.get(first + 1))
            )
        )
    return found


class _Builder:
    def __init__(self) -> None:
        self.header: dict[str, Seg] = {}
        self.payer_name = self.payer_id = self.payee_name = self.payee_id = ""
        self.party = ""
        self.claims: list[ClaimPayment] = []
        self.plb: list[ProviderAdjustment] = []
        self.claim: _Claim | None = None
        self.service: _Service | None = None

    def close_service(self) -> None:
        if self.claim is not None and self.service is not None:
            self.claim.services.append(self.service.build())
        self.service = None

    def close_claim(self) -> None:
        self.close_service()
        if self.claim is not None:
            self.claims.append(self.claim.build())
        self.claim = None

    def add(self, seg: Seg) -> None:
        sid = seg.id
        if sid == "CLP":
            self.close_claim()
            self.claim = _Claim(seg)
        elif sid == "SVC" and self.claim is not None:
            self.close_service()
            self.service = _Service(seg)
        elif sid == "PLB":
            self.close_claim()
            self.plb.extend(_plb(seg))
        elif sid == "LX":
            self.close_claim()
        elif self.service is not None:
            self._service_segment(self.service, seg)
        elif self.claim is not None:
            self._claim_segment(self.claim, seg)
        else:
            self._header_segment(seg)

    def _header_segment(self, seg: Seg) -> None:
        sid = seg.id
        if sid in ("BPR", "TRN") or (sid == "DTM" and seg.get(1) == "405"):
            self.header[sid] = seg
        elif sid == "N1":
            self.party = seg.get(1)
            if self.party == "PR":
                self.payer_name, self.payer_id = seg.get(2), seg.get(4)
            elif self.party == "PE":
                self.payee_name, self.payee_id = seg.get(2), seg.get(4)
        elif sid == "REF" and self.party == "PR" and seg.get(1) == "2U" and not self.payer_id:
            self.payer_id = seg.get(2)

    @staticmethod
    def _claim_segment(claim: _Claim, seg: Seg) -> None:
        sid = seg.id
        if sid == "CAS":
            claim.adjustments.extend(_cas(seg))
        elif sid == "NM1" and seg.get(1) == "QC" and not claim.member_id:
            claim.member_id = seg.get(9)
        elif sid == "NM1" and seg.get(1) == "IL":
            claim.member_id = seg.get(9) or claim.member_id
        elif sid == "MOA":
            claim.remarks.extend(seg.get(i) for i in range(3, 8) if seg.get(i))
        elif sid == "MIA":
            claim.remarks.extend(seg.get(i) for i in (5, 20, 21, 22, 23, 24) if seg.get(i))
        elif sid == "DTM" and seg.get(1) == "232":
            claim.start = date8(seg.get(2))
        elif sid == "DTM" and seg.get(1) == "233":
            claim.end = date8(seg.get(2))

    @staticmethod
    def _service_segment(service: _Service, seg: Seg) -> None:
        sid = seg.id
        if sid == "DTM":
            qualifier, value = seg.get(1), seg.get(2)
            if qualifier == "472":
                service.start, service.end = date_range("D8", value)
            elif qualifier == "150":
                service.start = date8(value)
            elif qualifier == "151":
                service.end = date8(value)
        elif sid == "CAS":
            service.adjustments.extend(_cas(seg))
        elif sid == "REF" and seg.get(1) == "6R":
            service.control_number = seg.get(2)
        elif sid == "LQ" and seg.get(1) == "HE":
            service.remarks.append(seg.get(2))

    def build(self) -> Remittance:
        self.close_claim()
        bpr = self.header.get("BPR") or Seg("BPR", ())
        trn = self.header.get("TRN") or Seg("TRN", ())
        dtm = self.header.get("DTM")
        return Remittance(
            payer_name=self.payer_name,
            payer_id=self.payer_id,
            payee_name=self.payee_name,
            payee_id=self.payee_id,
            handling_code=bpr.get(1),
            total_paid=money(bpr.get(2)),
            credit_debit=bpr.get(3),
            payment_method=bpr.get(4),
            payment_date=date8(bpr.get(16)),
            trace_number=trn.get(2),
            trace_originator=trn.get(3),
            production_date=date8(dtm.get(2)) if dtm is not None else None,
            claims=tuple(self.claims),
            provider_adjustments=tuple(self.plb),
        )


def read_835(text: str) -> list[Remittance]:
    """Every payment (835 transaction set) in the file, in file order."""
    segs, _ = segments(text, expect="835")
    found: list[Remittance] = []
    builder: _Builder | None = None
    for seg in segs:
        if seg.id == "ST":
            builder = _Builder() if seg.get(1) == "835" else None
        elif seg.id == "SE":
            if builder is not None:
                found.append(builder.build())
            builder = None
        elif builder is not None:
            builder.add(seg)
    return found
