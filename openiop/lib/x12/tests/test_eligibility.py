"""270 writer (checked against the 005010X279A1 segment order: pyx12 has no 5010 map for it) and 271 reader."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from openiop.lib.x12 import EligibilityRequest, Patient, read_271, validate, validate_envelope, write_270
from openiop.lib.x12.reading import segments
from openiop.lib.x12.tests import samples as s

# 005010X279A1 (270): each loop's segments in the guide's order. A segment may repeat or be skipped, never go back.
LOOPS = {
    "HEADER": ["ST", "BHT"],
    "2000A": ["HL", "NM1", "PRV"],
    "2000B": ["HL", "NM1", "REF", "N3", "N4", "PRV"],
    "2000C": ["HL", "TRN", "NM1", "REF", "N3", "N4", "PRV", "DMG", "INS", "HI", "DTP"],
    "2110C": ["EQ", "AMT", "III", "REF", "DTP"],
    "2000D": ["HL", "TRN", "NM1", "REF", "N3", "N4", "PRV", "DMG", "INS", "HI", "DTP"],
    "2110D": ["EQ", "III", "REF", "DTP"],
    "TRAILER": ["SE"],
}
HL_LOOPS = {"20": "2000A", "21": "2000B", "22": "2000C", "23": "2000D"}


def assert_x279a1_order(text: str) -> list[str]:
    """Walk the 270's segments loop by loop; return the loops in order."""
    segs, _ = segments(text, expect="270")
    loop, index = "", 0
    seen: list[str] = []
    for seg in segs:
        if seg.id in ("ISA", "GS", "GE", "IEA"):
            continue
        if seg.id == "ST":
            loop, index = "HEADER", 0
        elif seg.id == "HL":
            loop, index = HL_LOOPS[seg.get(3)], 0
        elif seg.id == "EQ" and loop in ("2000C", "2000D", "2110C", "2110D"):
            loop, index = "2110" + loop[-1], 0
        elif seg.id == "SE":
            loop, index = "TRAILER", 0
        order = LOOPS[loop]
        assert seg.id in order[index:], f"{seg.id} out of order in loop {loop}"
        index = order.index(seg.id, index)
        if not seen or seen[-1] != loop:
            seen.append(loop)
    return seen


def request(**changes: object) -> EligibilityRequest:
    base = EligibilityRequest(
        envelope=s.envelope(control_number=77),
        control_number="0001",
        payer=s.ACME,
        provider_name="Harbor Behavioral Health",
        provider_npi="1234567893",
        subscriber=s.SUBSCRIBER,
        member_id="ACM123456",
        trace_number="TRACE-0001",
        trace_originator="1371234567",
        service_types=("30", "MH", "A8", "AI"),
        service_date=date(2026, 3, 1),
        group_number="GRP777",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_270_for_a_subscriber_follows_the_guide_and_round_trips() -> None:
    text = write_270(request())
    assert validate_envelope(text) == []
    assert assert_x279a1_order(text) == ["HEADER", "2000A", "2000B", "2000C", "2110C", "TRAILER"]
    segs, _ = segments(text, expect="270")
    by_id = {seg.id: seg for seg in segs}
    assert by_id["GS"].get(1) == "HS" and by_id["GS"].get(8) == "005010X279A1"
    assert by_id["ST"].get(3) == "005010X279A1"
    assert by_id["BHT"].get(1) == "0022" and by_id["BHT"].get(2) == "13"
    assert [seg.get(1) for seg in segs if seg.id == "EQ"] == ["30", "MH", "A8", "AI"]
    assert (by_id["TRN"].get(1), by_id["TRN"].get(2), by_id["TRN"].get(3)) == ("1", "TRACE-0001", "1371234567")
    names = {seg.get(1): seg for seg in segs if seg.id == "NM1"}
    assert names["IL"].get(9) == "ACM123456" and names["IL"].get(8) == "MI"
    assert names["1P"].get(9) == "1234567893" and names["PR"].get(9) == "ACME01"
    assert (by_id["DMG"].get(2), by_id["DMG"].get(3)) == ("19840517", "F")
    assert (by_id["DTP"].get(1), by_id["DTP"].get(3)) == ("291", "20260301")
    assert by_id["ISA"].get(13) == "000000077"


def test_270_for_a_dependent_asks_under_hl_23() -> None:
    text = write_270(request(dependent=Patient(s.CHILD, "19")))
    assert validate_envelope(text) == []
    assert assert_x279a1_order(text) == ["HEADER", "2000A", "2000B", "2000C", "2000D", "2110D", "TRAILER"]
    segs, _ = segments(text, expect="270")
    assert [seg.get(4) for seg in segs if seg.id == "HL"] == ["1", "1", "1", "0"]
    assert [seg.get(1) for seg in segs if seg.id == "NM1"] == ["PR", "1P", "IL", "03"]
    assert len([seg for seg in segs if seg.id == "TRN"]) == 1


def test_270_refuses_a_bad_trace_originator() -> None:
    with pytest.raises(ValueError, match="trace_originator"):
        request(trace_originator="123")


def test_271_benefits() -> None:
    response = read_271((Path(__file__).parent / "data" / "271.x12").read_text())
    assert (response.payer_name, response.payer_id) == ("Acme Health Plan", "ACME01")
    subscriber, dependent = response.people
    assert subscriber.trace_number == "TRACE-0001" and subscriber.member_id == "ACM123456"
    assert subscriber.birth_date == date(1984, 5, 17)
    assert subscriber.active
    coverage = subscriber.benefits_for("1")[0]
    assert coverage.service_types == ("30", "MH", "A8") and coverage.plan == "Acme Gold PPO"
    assert coverage.dates == (("291", date(2026, 1, 1), date(2026, 12, 31)),)
    assert coverage.text == "Active coverage"
    (copay,) = subscriber.benefits_for("B", "MH")
    assert copay.amount == Decimal(25) and copay.in_network == "Y" and copay.messages
    (coinsurance,) = subscriber.benefits_for("A")
    assert coinsurance.percent == Decimal("0.2") and coinsurance.in_network == "N"
    assert subscriber.remaining_visits == Decimal(18)
    assert subscriber.benefits_for("C")[0].amount == Decimal(500)
    # The LS/LE entity (NM1*P3) did not overwrite the subscriber's name.
    assert (subscriber.last_name, subscriber.first_name) == ("Doe", "Jordan")
    assert dependent.level == "23" and not dependent.active
    assert [(r.valid, r.reason, r.follow_up) for r in dependent.rejections] == [("N", "67", "C")]


def test_pyx12_has_no_5010_map_for_the_270() -> None:
    problems = validate(write_270(request()))
    assert len(problems) == 1 and "Map not found" in problems[0].message


def test_271_repetition_separator_comes_from_isa11() -> None:
    text = (Path(__file__).parent / "data" / "271.x12").read_text().replace("^", "{")
    assert read_271(text).people[0].benefits[0].service_types == ("30", "MH", "A8")
