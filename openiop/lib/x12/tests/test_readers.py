"""999, 277CA and 835 readers on invented files that pyx12 itself validates with 0 errors."""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from openiop.lib.x12 import X12ReadError, read_277ca, read_835, read_999, validate

DATA = Path(__file__).parent / "data"


def fixture(name: str) -> str:
    return (DATA / name).read_text()


@pytest.mark.parametrize("name", ["999_partial.x12", "999_accepted.x12", "277ca.x12", "835.x12"])
def test_fixtures_are_valid_x12(name: str) -> None:
    problems = validate(fixture(name))
    assert problems == [], "\n".join(str(p) for p in problems)


def test_999_accepted() -> None:
    (group,) = read_999(fixture("999_accepted.x12"))
    assert (group.functional_id, group.group_control_number, group.version) == ("HC", "8", "005010X223A2")
    assert group.status == "A" and group.status_text == "Accepted"
    (ts,) = group.transactions
    assert ts.accepted and ts.control_number == "0001" and ts.segment_errors == ()


def test_999_partial_with_a_rejected_set_and_its_errors() -> None:
    (group,) = read_999(fixture("999_partial.x12"))
    assert group.status == "P" and (group.sets_included, group.sets_received, group.sets_accepted) == (2, 2, 1)
    accepted, rejected = group.transactions
    assert accepted.accepted and accepted.control_number == "0001"
    assert not rejected.accepted and rejected.control_number == "0002" and rejected.status == "R"
    assert rejected.syntax_errors == ("5",)
    nm1, dtp = rejected.segment_errors
    assert (nm1.segment_id, nm1.position, nm1.loop, nm1.code) == ("NM1", 8, "2010", "8")
    (element,) = nm1.elements
    assert (element.position, element.data_element, element.code) == (9, "67", "1")
    assert element.text == "Required element missing"
    assert (dtp.segment_id, dtp.position) == ("DTP", 30)
    assert dtp.elements[0].code == "8" and dtp.elements[0].bad_value == "20260230"


def test_277ca_one_accepted_one_rejected_claim() -> None:
    report = read_277ca(fixture("277ca.x12"))
    assert (report.payer_name, report.payer_id) == ("Acme Health Plan", "ACME01")
    assert report.batch_reports[0].categories == ("A1",)
    assert report.provider_reports[0][0] == "1234567893"
    accepted, rejected = report.claims
    assert accepted.patient_control_number == "OIOP-2001" and accepted.outcome == "accepted"
    assert accepted.payer_claim_number == "PAY2026000123"
    assert accepted.total_charge == Decimal("755.5")
    assert (accepted.service_start, accepted.service_end) == (date(2026, 2, 2), date(2026, 2, 5))
    assert rejected.patient_control_number == "OIOP-1001" and rejected.outcome == "rejected"
    status = rejected.reports[0].statuses[0]
    assert (status.category, status.code, status.entity) == ("A7", "562", "85")
    assert status.category_text.startswith("Rejected")
    assert rejected.message == "Billing provider NPI is not on file"
    assert rejected.payer_claim_number == ""


def test_835_payment_header_and_plb() -> None:
    (remit,) = read_835(fixture("835.x12"))
    assert (remit.payer_name, remit.payer_id) == ("Acme Health Plan", "ACME01")
    assert (remit.payee_name, remit.payee_id) == ("Harbor Behavioral Health", "1234567893")
    assert remit.total_paid == Decimal("452.5") and remit.payment_method == "ACH"
    assert remit.trace_number == "EFT20260310001" and remit.payment_date == date(2026, 3, 10)
    assert remit.production_date == date(2026, 3, 9)
    wo, interest = remit.provider_adjustments
    assert (wo.reason, wo.reference, wo.amount) == ("WO", "PAYOLD001", Decimal("150"))
    assert (interest.reason, interest.amount) == ("L6", Decimal("-2.5"))
    # The payment balances: claims paid minus provider adjustments.
    assert sum(c.paid for c in remit.claims) - sum(a.amount for a in remit.provider_adjustments) == remit.total_paid


def test_835_partial_payment_with_contractual_and_patient_adjustments() -> None:
    (remit,) = read_835(fixture("835.x12"))
    paid = remit.claims[0]
    assert paid.patient_control_number == "OIOP-1001" and paid.status_code == "1"
    assert paid.status_text == "Processed as primary"
    assert (paid.charge, paid.paid, paid.patient_responsibility) == (Decimal(1350), Decimal(900), Decimal(150))
    assert paid.payer_claim_number == "PAY2026000999" and paid.member_id == "ACM123456"
    assert (paid.statement_start, paid.statement_end) == (date(2026, 2, 2), date(2026, 2, 4))
    assert len(paid.services) == 3
    line = paid.services[2]
    assert (line.procedure_code, line.revenue_code, line.units) == ("S9480", "0905", Decimal(1))
    assert (line.charge, line.paid, line.control_number) == (Decimal(450), Decimal(300), "L003")
    assert line.service_start == date(2026, 2, 4)
    assert [(a.group, a.reason, a.amount) for a in line.adjustments] == [("CO", "45", 100), ("PR", "3", 50)]
    assert line.adjustments[0].reason_text.startswith("Charge is above")
    assert line.adjustments[1].group_text.startswith("Patient responsibility")
    patient_share = sum(a.amount for svc in paid.services for a in svc.adjustments if a.group == "PR")
    assert patient_share == paid.patient_responsibility


def test_835_denied_claim_with_remark_codes() -> None:
    (remit,) = read_835(fixture("835.x12"))
    denied = remit.claims[1]
    assert denied.denied and denied.paid == 0 and denied.status_text == "Denied"
    assert [s.modifiers for s in denied.services] == [("HO",), ("HQ",)]
    assert all(a.group == "CO" and a.reason == "50" for s in denied.services for a in s.adjustments)
    assert [s.remark_codes for s in denied.services] == [("N130",), ("N130",)]


def test_835_reversal_has_negative_amounts() -> None:
    (remit,) = read_835(fixture("835.x12"))
    reversal = remit.claims[2]
    assert reversal.reversal and reversal.status_code == "22"
    assert (reversal.charge, reversal.paid) == (Decimal(-450), Decimal(-300))
    assert [(a.group, a.amount) for a in reversal.adjustments] == [("CO", -100), ("PR", -50)]
    assert reversal.frequency_code == "8"


def test_readers_refuse_the_wrong_file() -> None:
    with pytest.raises(X12ReadError, match="835"):
        read_835(fixture("999_accepted.x12"))
    with pytest.raises(X12ReadError, match="not an X12 file"):
        read_999("not x12")
    with pytest.raises(X12ReadError):
        read_277ca("ISA*broken~")


@pytest.mark.parametrize("name", ["835.x12", "277ca.x12", "999_partial.x12"])
def test_truncated_or_scrambled_files_never_crash(name: str) -> None:
    """A damaged file is a problem list or an X12ReadError, never another exception (no 500 for any input)."""
    text = fixture(name)
    reader = {"835.x12": read_835, "277ca.x12": read_277ca, "999_partial.x12": read_999}[name]
    damaged = [text[:cut] for cut in range(0, len(text), max(1, len(text) // 12))]
    damaged += [text.replace("*", "", 3), text.replace("~", "*", 2), text.replace("20260", "2026X")]
    for i, broken in enumerate(damaged):
        with contextlib.suppress(X12ReadError):
            reader(broken)
        if i % 4 == 0:
            assert isinstance(validate(broken), list)


def test_readers_take_the_delimiters_from_the_isa() -> None:
    text = fixture("835.x12").replace("*", "|").replace(":", ">").replace("~\n", "\r\n")
    (remit,) = read_835(text)
    assert remit.total_paid == Decimal("452.5")
    assert remit.claims[1].services[0].modifiers == ("HO",)
    assert validate(text) == []
