"""The clearinghouse simulator answers our own 837 files with 999 and 277CA files that pyx12 finds valid and our
readers read back as the simulator meant."""

from __future__ import annotations

from datetime import UTC, datetime

from openiop.lib.x12 import ClaimTransaction, read_277ca, read_999, validate, write_837i
from openiop.lib.x12.simulate import acknowledge_277ca, acknowledge_999, read_837
from openiop.lib.x12.tests.samples import institutional_claim, interchange, secondary_claim

AT = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def _sent() -> str:
    return write_837i(
        interchange(
            ClaimTransaction("0001", (institutional_claim("OI1"), institutional_claim("OI2"))),
            ClaimTransaction("0002", (secondary_claim("OI3"),)),
        )
    )


def test_the_837_is_read_back_as_sent() -> None:
    sent = read_837(_sent())
    assert sent.transactions == ("0001", "0002") and sent.group_control_number == "7"
    assert [(c.transaction, c.control_number) for c in sent.claims] == [
        ("0001", "OI1"),
        ("0001", "OI2"),
        ("0002", "OI3"),
    ]


def test_a_999_accepting_one_set_and_rejecting_another_is_valid_and_reads_back() -> None:
    text = acknowledge_999(_sent(), at=AT, number=901, rejected=["0002"])
    assert validate(text) == []
    (group,) = read_999(text)
    assert group.group_control_number == "7" and group.status == "P"
    assert [(t.control_number, t.accepted) for t in group.transactions] == [("0001", True), ("0002", False)]
    assert group.transactions[1].segment_errors[0].segment_id == "NM1"


def test_a_277ca_accepting_and_rejecting_claims_is_valid_and_reads_back() -> None:
    text = acknowledge_277ca(_sent(), at=AT, number=903, rejected={"OI2": "Subscriber not found"})
    assert validate(text) == []
    report = read_277ca(text)
    outcomes = {c.patient_control_number: (c.outcome, c.payer_claim_number) for c in report.claims}
    assert outcomes == {"OI1": ("accepted", "ICNOI1"), "OI2": ("rejected", ""), "OI3": ("accepted", "ICNOI3")}
    assert "Subscriber not found" in next(c.message for c in report.claims if c.patient_control_number == "OI2")


def test_an_835_paying_partly_paying_denying_and_reversing_is_valid_and_reads_back() -> None:
    from decimal import Decimal

    from openiop.lib.x12 import read_835
    from openiop.lib.x12.simulate import Outcome, remit_835

    sent = _sent()
    outcomes = {
        "OI1": Outcome(allowed=Decimal(300), coinsurance=Decimal(30), copay=Decimal(10)),
        "OI2": Outcome("denied", carc="50", rarc="N130"),
    }
    text = remit_835(sent, at=AT, number=905, outcomes=outcomes, provider_adjustments=[("L6", "INT1", Decimal(-2))])
    assert validate(text) == []
    (remit,) = read_835(text)
    paid, denied = remit.claims
    first = read_837(sent).claims[0]
    assert paid.status_code == "1" and paid.patient_responsibility == 40
    assert paid.paid == 300 * len(first.lines) - 40
    assert paid.services[0].control_number == first.lines[0].control_number
    assert {(a.group, a.reason) for a in paid.services[0].adjustments} >= {("PR", "2"), ("PR", "3")}
    assert denied.denied and denied.paid == 0 and denied.services[0].remark_codes == ("N130",)
    assert remit.total_paid == paid.paid + 2 and remit.provider_adjustments[0].reason == "L6"

    back = remit_835(sent, at=AT, number=906, outcomes={"OI1": Outcome(reversal=True)})
    assert validate(back) == []
    (reversal,) = read_835(back)
    assert reversal.claims[0].reversal and reversal.claims[0].paid < 0
    assert reversal.total_paid == 0 and reversal.provider_adjustments[0].reason == "FB"
