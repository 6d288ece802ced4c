"""Worked examples for every instrument other than the exhaustively tested PHQ-9 and GAD-7, and registry rules."""

from __future__ import annotations

import itertools

import pytest

from openiop.measures import instruments
from openiop.measures.instruments import InvalidAnswer, score_is_critical
from openiop.measures.instruments.bam import days_to_score


def test_registry_codes_licences_and_defaults():
    assert set(instruments.REGISTRY) == {
        "phq9",
        "gad7",
        "auditc",
        "pcl5",
        "cssrs_screener",
        "cssrs_screener_slv",
        "bam",
        "audit",
        "dast10",
    }
    enabled = {i.code for i in instruments.enabled_by_default()}
    # Non-commercial instruments ship off, with their notice.
    assert "audit" not in enabled and "dast10" not in enabled
    for code in ("audit", "dast10"):
        notice = instruments.get(code).notice.lower()
        assert "non-commercial" in notice
    assert enabled == {"phq9", "gad7", "auditc", "pcl5", "cssrs_screener", "cssrs_screener_slv", "bam"}
    for instrument in instruments.REGISTRY.values():
        assert instrument.licence and instrument.source
        codes = [item.code for item in instrument.items]
        assert len(codes) == len(set(codes)), instrument.code
        assert all(item.text and item.options for item in instrument.items)
        assert instrument.focus <= {"mental_health", "substance_use"}
    # LOINC totals (docs/clinical-rules.md#loinc-codes); AUDIT and AUDIT-C must not be swapped.
    assert instruments.get("auditc").loinc_total == "75626-2"
    assert instruments.get("audit").loinc_total == "75624-7"
    assert instruments.get("dast10").loinc_total == "82667-7"
    assert [i.loinc for i in instruments.get("phq9").items][:9] == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ]
    assert [i.loinc for i in instruments.get("gad7").items][:7] == [
        "69725-0",
        "68509-9",
        "69733-4",
        "69734-2",
        "69735-9",
        "69689-8",
        "69736-7",
    ]
    assert (instruments.get("phq9").reliable_change, instruments.get("gad7").reliable_change) == (6, 4)
    assert instruments.get("pcl5").reliable_change == 10
    assert (instruments.get("phq9").remission_below, instruments.get("gad7").remission_below) == (5, 5)


def test_cssrs_for_picks_the_version():
    assert instruments.cssrs_for(first=True).code == "cssrs_screener"
    assert instruments.cssrs_for(first=False).code == "cssrs_screener_slv"


# --- AUDIT-C -----------------------------------------------------------------------------------------------------


def test_auditc_every_combination_and_cutoffs_by_sex():
    auditc = instruments.get("auditc")
    for q1, q2, q3 in itertools.product(range(5), repeat=3):
        answers = {"auditc_1": q1, "auditc_2": q2, "auditc_3": q3}
        # "Never" to question 1 scores the other two 0 (they are not asked).
        total = q1 + q2 + q3 if q1 else 0
        for sex, cut in (("male", 4), ("female", 3), (None, 3)):
            s = auditc.score(answers, sex=sex)
            assert s.total == total
            assert (s.band_key == "positive") == (total >= cut), (answers, sex)
            assert ("positive screen" in s.flags) == (total >= cut)
        assert ("at or above men's cut-off (>= 4)" in auditc.score(answers).flags) == (total >= 4)


def test_auditc_worked_example_and_missing():
    auditc = instruments.get("auditc")
    # Monthly or less (1), 3 or 4 drinks (1), less than monthly (1): 3, positive for a woman, not for a man.
    answers = {"auditc_1": 1, "auditc_2": 1, "auditc_3": 1}
    assert auditc.score(answers, sex="female").band_key == "positive"
    assert auditc.score(answers, sex="male").band_key == "negative"
    s = auditc.score({"auditc_1": 2, "auditc_2": 1})
    assert s.total is None and s.missing == ("auditc_3",)
    assert s.missing_reason == "1 of 3 items unanswered; AUDIT-C is scored only when every item is answered"
    assert auditc.score({"auditc_1": 0}).total == 0
    with pytest.raises(ValueError):
        auditc.score(answers, sex="m")


# --- AUDIT -------------------------------------------------------------------------------------------------------


def test_audit_items_9_and_10_score_0_2_4_and_zones():
    audit = instruments.get("audit")
    assert [o.value for o in audit.item("audit_9").options] == [0, 2, 4]
    assert [o.value for o in audit.item("audit_10").options] == [0, 2, 4]
    with pytest.raises(InvalidAnswer):
        audit.score({"audit_9": 1})
    # WHO manual zones: 7 is zone I, 8 zone II, 16 zone III, 20 zone IV.
    base = {f"audit_{n}": 0 for n in range(1, 11)}
    cases = [
        ({"audit_1": 2, "audit_2": 1, "audit_3": 2, "audit_4": 2}, 7, "zone_1"),
        ({"audit_1": 2, "audit_2": 1, "audit_3": 2, "audit_4": 1, "audit_10": 2}, 8, "zone_2"),
        ({"audit_1": 4, "audit_2": 4, "audit_3": 4, "audit_7": 2, "audit_9": 2}, 16, "zone_3"),
        ({"audit_1": 4, "audit_2": 4, "audit_3": 4, "audit_4": 4, "audit_10": 4}, 20, "zone_4"),
        ({f"audit_{n}": 4 for n in range(1, 11)}, 40, "zone_4"),
    ]
    for changes, total, zone in cases:
        s = audit.score(base | changes)
        assert (s.total, s.band_key) == (total, zone), changes
        assert s.subscores["auditc"] == sum((base | changes)[f"audit_{n}"] for n in (1, 2, 3))


def test_audit_skip_logic():
    audit = instruments.get("audit")
    # "Never" drinks: only questions 1, 9 and 10 are asked.
    never = {"audit_1": 0, "audit_9": 2, "audit_10": 0}
    assert [i.code for i in audit.visible_items(never)] == ["audit_1", "audit_9", "audit_10"]
    assert audit.score(never).total == 2
    # Stale answers to skipped questions are ignored.
    assert audit.score(never | {"audit_2": 4, "audit_5": 4}).total == 2
    # Questions 2 and 3 both 0: 4-8 skipped.
    light = {"audit_1": 1, "audit_2": 0, "audit_3": 0, "audit_9": 0, "audit_10": 0}
    assert "audit_4" not in [i.code for i in audit.visible_items(light)]
    assert audit.score(light).total == 1
    # Question 3 above 0: 4-8 asked and required.
    s = audit.score(light | {"audit_3": 1})
    assert s.total is None and s.missing == ("audit_4", "audit_5", "audit_6", "audit_7", "audit_8")


# --- DAST-10 -----------------------------------------------------------------------------------------------------


def test_dast10_every_combination_with_item_3_reversed():
    dast = instruments.get("dast10")
    for combo in itertools.product((0, 1), repeat=10):
        answers = {f"dast10_{i + 1}": v for i, v in enumerate(combo)}
        expected = sum(combo) - combo[2] + (1 - combo[2])
        s = dast.score(answers)
        assert s.total == expected
        band = (
            "none"
            if expected == 0
            else "low"
            if expected <= 2
            else "moderate"
            if expected <= 5
            else "substantial"
            if expected <= 8
            else "severe"
        )
        assert s.band_key == band


def test_dast10_worked_example():
    dast = instruments.get("dast10")
    # No drug use at all: "No" to everything but "Yes, always able to stop" (item 3) scores 0.
    none = {f"dast10_{n}": 0 for n in range(1, 11)} | {"dast10_3": 1}
    assert dast.score(none).total == 0
    # Uses drugs, more than one at a time, cannot always stop, feels guilty: 4, moderate.
    s = dast.score(none | {"dast10_1": 1, "dast10_2": 1, "dast10_3": 0, "dast10_5": 1})
    assert (s.total, s.band_key) == (4, "moderate")


# --- PCL-5 -------------------------------------------------------------------------------------------------------


def _pcl5(values: dict[int, int]) -> dict[str, int | None]:
    return {f"pcl5_{n}": values.get(n, 0) for n in range(1, 21)}


def test_pcl5_clusters_and_provisional_diagnosis():
    pcl5 = instruments.get("pcl5")
    # Exactly the minimum pattern: 1 B, 1 C, 2 D, 2 E rated 2 ("Moderately"): total 12, provisional yes.
    minimum = _pcl5({1: 2, 6: 2, 8: 2, 9: 2, 15: 2, 16: 2})
    s = pcl5.score(minimum)
    assert s.total == 12
    assert s.subscores == {"B": 2, "C": 2, "D": 4, "E": 4}
    assert "provisional PTSD" in s.flags
    assert s.band_key == "below_cutoff"
    # One D symptom rated 1 instead of 2 breaks the pattern even though the total barely changes.
    assert "provisional PTSD" not in pcl5.score(minimum | {"pcl5_9": 1}).flags
    # Every item 1 ("A little bit"): total 20, no endorsed symptom at all.
    assert "provisional PTSD" not in pcl5.score(_pcl5(dict.fromkeys(range(1, 21), 1))).flags


def test_pcl5_cutoff_default_33_and_configurable():
    pcl5 = instruments.get("pcl5")
    answers = _pcl5(dict.fromkeys(range(1, 17), 2))  # 16 items x 2 = 32
    assert pcl5.score(answers).total == 32
    assert pcl5.score(answers).band_key == "below_cutoff"
    assert pcl5.score(answers, cutoff=31).band_key == "probable_ptsd"
    assert "positive screen" in pcl5.score(answers, cutoff=31).flags
    s33 = pcl5.score(answers | {"pcl5_17": 1})
    assert (s33.total, s33.band_key) == (33, "probable_ptsd")
    with pytest.raises(ValueError):
        pcl5.score(answers, cutoff=0)


def test_pcl5_missing_gives_no_total_but_keeps_complete_clusters():
    pcl5 = instruments.get("pcl5")
    answers = _pcl5(dict.fromkeys(range(1, 21), 3)) | {"pcl5_20": None}
    s = pcl5.score(answers)
    assert s.total is None and s.band is None
    assert s.subscores == {"B": 15, "C": 6, "D": 21, "E": None}
    assert s.missing_reason == "1 of 20 items unanswered; PCL-5 is scored only when every item is answered"
    assert s.flags == ()


# --- C-SSRS ------------------------------------------------------------------------------------------------------


def _cssrs_expected(q: dict[str, int], *, slv: bool) -> str:
    """The triage written out from docs/clinical-rules.md#c-ssrs-screener, independently of the module."""
    behaviour = q.get("6") == 1
    recent = behaviour and (slv or q.get("6b") == 1)
    q2 = q.get("2") == 1
    if (q2 and (q.get("4") == 1 or q.get("5") == 1)) or recent:
        return "high"
    if (q2 and q.get("3") == 1) or behaviour:
        return "moderate"
    if q.get("1") == 1 or q2:
        return "low"
    return ""


@pytest.mark.parametrize("code", ["cssrs_screener", "cssrs_screener_slv"])
def test_cssrs_every_yes_no_path(code):
    instrument = instruments.get(code)
    slv = code.endswith("slv")
    paths = 0
    for q1, q2, q6 in itertools.product((0, 1), repeat=3):
        follow_ups: list[tuple[int, ...] | None] = list(itertools.product((0, 1), repeat=3)) if q2 else [None]
        for f in follow_ups:
            timing: list[int | None] = [0, 1] if (q6 and not slv) else [None]
            for q6b in timing:
                q = {"1": q1, "2": q2, "6": q6}
                if f is not None:
                    q |= {"3": f[0], "4": f[1], "5": f[2]}
                if q6b is not None:
                    q["6b"] = q6b
                answers = {f"{code}_{k}": v for k, v in q.items()}
                asked = [i.code.removeprefix(f"{code}_") for i in instrument.visible_items(answers)]
                expected_asked = (
                    ["1", "2"] + (["3", "4", "5"] if q2 else []) + ["6"] + (["6b"] if q6b is not None else [])
                )
                assert asked == expected_asked
                s = instrument.score(answers)
                assert s.complete and s.missing == ()
                assert s.risk == _cssrs_expected(q, slv=slv), q
                assert s.total == ["", "low", "moderate", "high"].index(s.risk)
                assert score_is_critical(s) == (s.risk in ("moderate", "high")), q
                paths += 1
    # 4 (Q1 x Q6 with Q2 no) + 4 x 8 (Q2 yes: 3-5), with Q6 yes doubled by 6b in the recent version.
    assert paths == (2 * 1 * 1 + 2 * 8) * (3 if not slv else 2)


def test_cssrs_skip_logic_ignores_hidden_answers_and_waits_for_missing():
    cssrs = instruments.get("cssrs_screener")
    # Q2 "No" hides 3-5, so a stale "Yes" to 4 does not make the risk high.
    s = cssrs.score({"cssrs_screener_1": 1, "cssrs_screener_2": 0, "cssrs_screener_4": 1, "cssrs_screener_6": 0})
    assert (s.risk, s.critical_items) == ("low", ())
    # Q2 "Yes" and 3-5 unanswered: no risk yet, but a "Yes" to 6 is critical already.
    s = cssrs.score({"cssrs_screener_1": 1, "cssrs_screener_2": 1, "cssrs_screener_6": 1})
    assert s.total is None and s.risk == ""
    assert s.missing == ("cssrs_screener_3", "cssrs_screener_4", "cssrs_screener_5", "cssrs_screener_6b")
    assert s.critical_items == ("cssrs_screener_6",) and score_is_critical(s)
    assert "every question asked is answered" in s.missing_reason


def test_cssrs_wording_by_version():
    recent, slv = instruments.get("cssrs_screener"), instruments.get("cssrs_screener_slv")
    assert recent.item("cssrs_screener_6").text.startswith("Have you ever done anything")
    assert slv.item("cssrs_screener_slv_6").text.startswith("Have you done anything")
    assert recent.lookback == "In the past month" and slv.lookback == "Since your last visit"
    assert "cssrs_screener_slv_6b" not in slv.item_codes


# --- BAM ---------------------------------------------------------------------------------------------------------


def test_bam_day_banding():
    expected = [0, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3] + [4] * 15
    assert [days_to_score(d) for d in range(31)] == expected
    with pytest.raises(ValueError):
        days_to_score(31)


WORKED_BAM = {
    "bam_1": 2,  # good health -> 2
    "bam_2": 5,  # 5 nights -> 2
    "bam_3": 10,  # 10 days -> 3
    "bam_4": 6,  # 6 days -> 2
    "bam_5": 2,  # 2 days -> 1
    "bam_6": 3,  # 3 days -> 1
    "bam_7a": 3,  # drug list: asked, not scored
    "bam_8": 2,
    "bam_9": 3,
    "bam_10": 4,  # 4 days -> 2
    "bam_11": 16,  # 16 days -> 4
    "bam_12": 1,
    "bam_13": 20,  # 20 days -> 4
    "bam_14": 4,
    "bam_15": 3,
    "bam_16": 8,  # 8 days -> 2
    "bam_17": 2,
}


def test_bam_worked_example_subscores_and_flags():
    bam = instruments.get("bam")
    s = bam.score(WORKED_BAM)
    # Use 2 + 1 + 1; Risk 2 + 2 + 3 + 2 + 4 + 3; Protective 3 + 2 + 1 + 4 + 4 + 2.
    assert s.subscores == {"use": 4, "risk": 16, "protective": 16}
    assert s.total is None and s.band is None and not bam.has_total
    assert s.flags == ("use >= 1", "risk >= 12")
    assert s.complete and s.missing_reason == ""
    # Thresholds are parameters.
    assert bam.score(WORKED_BAM, protective_at_most=16).flags == ("use >= 1", "risk >= 12", "protective <= 16")
    assert bam.score(WORKED_BAM, use_at=5, risk_at=17).flags == ()


def test_bam_skip_logic_and_missing():
    bam = instruments.get("bam")
    sober = WORKED_BAM | {"bam_4": 0, "bam_6": 0}
    visible = [i.code for i in bam.visible_items(sober)]
    assert "bam_5" not in visible and "bam_7a" not in visible
    # No drinking days: item 5 scores 0 even with a stale answer.
    assert bam.score(sober).subscores["use"] == 0
    assert "use >= 1" not in bam.score(sober).flags
    partial = dict(WORKED_BAM)
    del partial["bam_11"]
    s = bam.score(partial)
    assert s.subscores == {"use": 4, "risk": None, "protective": 16}
    assert s.missing == ("bam_11",) and "no risk subscore" in s.missing_reason
    # Item 4 unanswered: the use subscore waits for it rather than scoring item 5 as 0.
    del partial["bam_4"]
    assert bam.score(partial).subscores["use"] is None
