"""Exhaustive PHQ-9 and GAD-7 scoring against formulas written out here, independently of the registry."""

from __future__ import annotations

import itertools
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.measures import instruments
from openiop.measures.instruments import InvalidAnswer, score_is_critical


def phq9_band(total: int) -> str:
    if total <= 4:
        return "minimal"
    if total <= 9:
        return "mild"
    if total <= 14:
        return "moderate"
    if total <= 19:
        return "moderately_severe"
    return "severe"


def gad7_band(total: int) -> str:
    if total <= 4:
        return "minimal"
    if total <= 9:
        return "mild"
    if total <= 14:
        return "moderate"
    return "severe"


def half_up(numerator: int, denominator: int) -> int:
    return int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_every_phq9_combination():
    phq9 = instruments.get("phq9")
    mismatches = []
    count = 0
    for combo in itertools.product(range(4), repeat=9):
        answers = {f"phq9_{i + 1}": v for i, v in enumerate(combo)}
        s = phq9.score(answers)
        total = sum(combo)
        expected = (total, phq9_band(total), combo[8] > 0, total >= 10, combo[0] + combo[1])
        got = (
            s.total,
            s.band.key if s.band else None,
            s.critical_items == ("phq9_9",),
            "positive screen" in s.flags,
            s.subscores["phq2"],
        )
        if got != expected or s.prorated or not s.complete or s.missing or s.missing_reason:
            mismatches.append(combo)
        if (combo[8] > 0) != score_is_critical(s):
            mismatches.append(combo)
        count += 1
    assert count == 4**9 == 262_144
    assert mismatches == []


def test_every_gad7_combination():
    gad7 = instruments.get("gad7")
    mismatches = []
    count = 0
    for combo in itertools.product(range(4), repeat=7):
        answers = {f"gad7_{i + 1}": v for i, v in enumerate(combo)}
        s = gad7.score(answers)
        total = sum(combo)
        expected = (total, gad7_band(total), total >= 10, combo[0] + combo[1])
        got = (s.total, s.band.key if s.band else None, "positive screen" in s.flags, s.subscores["gad2"])
        if got != expected or s.prorated or not s.complete or s.critical_items or score_is_critical(s):
            mismatches.append(combo)
        count += 1
    assert count == 4**7 == 16_384
    assert mismatches == []


def test_every_phq9_single_missing_item_is_prorated_half_up():
    """All 9 positions x 4^8 answers to the rest: total = round_half_up(sum * 9 / 8)."""
    phq9 = instruments.get("phq9")
    mismatches = []
    for missing in range(9):
        for combo in itertools.product(range(4), repeat=8):
            values = list(combo)
            answers: dict[str, int | None] = {}
            for i in range(9):
                answers[f"phq9_{i + 1}"] = None if i == missing else values.pop(0)
            s = phq9.score(answers)
            expected = half_up(sum(combo) * 9, 8)
            if (
                s.total != expected
                or not s.prorated
                or s.complete
                or s.missing != (f"phq9_{missing + 1}",)
                or s.band is None
                or s.band.key != phq9_band(expected)
            ):
                mismatches.append((missing, combo))
    assert mismatches == []


@given(st.lists(st.sampled_from([None, 0, 1, 2, 3]), min_size=7, max_size=7))
def test_gad7_missing_rule(values):
    gad7 = instruments.get("gad7")
    answers = {f"gad7_{i + 1}": v for i, v in enumerate(values)}
    s = gad7.score(answers)
    answered = [v for v in values if v is not None]
    n_missing = 7 - len(answered)
    if n_missing == 0:
        assert (s.total, s.prorated) == (sum(answered), False)
    elif n_missing == 1:
        assert (s.total, s.prorated) == (half_up(sum(answered) * 7, 6), True)
    else:
        assert s.total is None
        assert s.band is None
        prefix = "no items answered" if n_missing == 7 else f"{n_missing} of 7 items unanswered"
        assert s.missing_reason == f"{prefix}; GAD-7 is scored with at most 1 missing"


def test_phq9_two_missing_has_no_total_and_says_why():
    phq9 = instruments.get("phq9")
    s = phq9.score({f"phq9_{i}": 3 for i in range(1, 7)})
    assert s.total is None
    assert s.band is None
    assert s.missing == ("phq9_7", "phq9_8", "phq9_9")
    assert s.missing_reason == "3 of 9 items unanswered; PHQ-9 is scored with at most 1 missing"
    assert "item 9 unanswered" in s.flags


def test_phq9_worked_examples():
    """Worked examples checked by hand against the PHQ-9 instructions' bands."""
    phq9 = instruments.get("phq9")
    # Kroenke 2001 cut points: 5, 10, 15, 20 open mild, moderate, moderately severe, severe.
    for values, total, band in [
        ((0, 0, 0, 0, 0, 0, 0, 0, 0), 0, "minimal"),
        ((1, 1, 1, 1, 1, 0, 0, 0, 0), 5, "mild"),
        ((2, 2, 1, 1, 1, 1, 1, 1, 0), 10, "moderate"),
        ((3, 2, 2, 2, 2, 2, 1, 1, 0), 15, "moderately_severe"),
        ((3, 3, 3, 3, 2, 2, 2, 2, 0), 20, "severe"),
        ((3, 3, 3, 3, 3, 3, 3, 3, 3), 27, "severe"),
    ]:
        s = phq9.score({f"phq9_{i + 1}": v for i, v in enumerate(values)})
        assert (s.total, s.band.key if s.band else None) == (total, band)
    # One missing, 8 answered: 4 * 9 / 8 = 4.5 -> 5 and 20 * 9 / 8 = 22.5 -> 23 (banker's rounding would give 4
    # and 22); 11 * 9 / 8 = 12.375 -> 12 and 15 * 9 / 8 = 16.875 -> 17.
    for partial, expected in [(4, 5), (20, 23), (11, 12), (15, 17), (12, 14)]:
        answered = [3] * (partial // 3) + ([partial % 3] if partial % 3 else [])
        answered += [0] * (8 - len(answered))
        s = phq9.score({f"phq9_{i + 1}": v for i, v in enumerate(answered)})
        assert (s.total, s.prorated) == (expected, True)


def test_difficulty_item_is_asked_but_not_scored():
    phq9 = instruments.get("phq9")
    answers = {f"phq9_{i}": 1 for i in range(1, 10)}
    assert phq9.score(answers).complete
    assert phq9.score(answers | {"phq9_difficulty": 3}).total == 9
    assert phq9.item("phq9_difficulty").loinc == "69722-7"


def test_bad_answers_are_rejected_with_the_item_code():
    phq9 = instruments.get("phq9")
    with pytest.raises(InvalidAnswer) as excinfo:
        phq9.score({"phq9_1": 4})
    assert excinfo.value.item_code == "phq9_1"
    with pytest.raises(InvalidAnswer):
        phq9.score({"phq9_10": 1})
    with pytest.raises(InvalidAnswer):
        phq9.score({"phq9_1": True})
    with pytest.raises(TypeError):
        phq9.score({}, sex="female")


def test_registry_lookup():
    assert instruments.get("phq9").loinc_total == "44261-6"
    assert instruments.get("gad7").loinc_total == "70274-6"
    with pytest.raises(KeyError):
        instruments.get("nope")
    assert {i.code for i in instruments.enabled_by_default()} >= {"phq9", "gad7"}
