"""Reliable change, response, remission and not-on-track on series worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from openiop.measures import instruments
from openiop.measures.change import assess

PHQ9 = instruments.get("phq9")
GAD7 = instruments.get("gad7")
PCL5 = instruments.get("pcl5")
START = date(2025, 3, 3)


def weekly(*totals: int | None) -> list[tuple[date, int | None]]:
    return [(START + timedelta(weeks=i), t) for i, t in enumerate(totals)]


def test_phq9_responder_in_remission():
    # 18 -> 4 over 6 weeks: change -14 (>= 6 reliable), 77.8% drop (>= 50% response), 4 < 5 remission.
    c = assess(weekly(18, 15, 12, 9, 7, 5, 4), PHQ9)
    assert (c.baseline, c.latest, c.change, c.count) == (18, 4, -14, 7)
    assert c.percent_change == pytest.approx(-77.78, abs=0.01)
    assert c.weeks == 6
    assert c.reliably_improved and not c.reliably_deteriorated
    assert c.response and c.remission
    assert not c.not_on_track and c.not_on_track_reason == ""


def test_phq9_boundaries():
    # Exactly 6 points is reliable, 5 is not; exactly half is a response; 5 is not remission.
    assert assess(weekly(16, 10), PHQ9).reliably_improved
    assert not assess(weekly(16, 11), PHQ9).reliably_improved
    assert assess(weekly(16, 8), PHQ9).response
    assert not assess(weekly(16, 9), PHQ9).response
    assert not assess(weekly(16, 5), PHQ9).remission
    assert assess(weekly(16, 4), PHQ9).remission
    # Deterioration: +6.
    c = assess(weekly(8, 14), PHQ9)
    assert c.reliably_deteriorated and not c.reliably_improved and c.change == 6


def test_thresholds_are_parameters():
    series = weekly(16, 11)
    assert assess(series, PHQ9, reliable_change=5).reliably_improved
    assert assess(weekly(16, 5), PHQ9, remission_below=6).remission
    assert assess(weekly(10, 6), PHQ9, response_drop=0.4).response
    assert not assess(weekly(10, 6), PHQ9).response
    with pytest.raises(ValueError):
        assess(series, PHQ9, response_drop=50)


def test_gad7_reliable_change_is_4_and_pcl5_10():
    assert assess(weekly(14, 10), GAD7).reliably_improved
    assert not assess(weekly(14, 11), GAD7).reliably_improved
    assert assess(weekly(50, 40), PCL5).reliably_improved
    assert not assess(weekly(50, 41), PCL5).reliably_improved
    # PCL-5 has no remission threshold.
    assert not assess(weekly(50, 2), PCL5).remission


def test_not_on_track_after_four_weeks_without_reliable_improvement():
    # Moderate baseline 15, week 4 at 11: 4 points better, fewer than the 6 expected.
    c = assess(weekly(15, 14, 13, 12, 11), PHQ9)
    assert c.not_on_track
    assert c.not_on_track_reason == "improved 4 points in 4.0 weeks from baseline 15; expected at least 6 by week 4"
    # The MacArthur variant (at least 5 points) and another review week are parameters.
    assert assess(weekly(15, 14, 13, 12, 10), PHQ9, expected_drop=5).not_on_track is False
    assert assess(weekly(15, 14, 13, 12, 11), PHQ9, weeks=6).not_on_track is False
    # On track: 15 -> 9 by week 4.
    assert not assess(weekly(15, 13, 12, 10, 9), PHQ9).not_on_track


def test_not_on_track_is_not_judged_early_or_for_mild_baselines():
    early = assess(weekly(15, 15, 15), PHQ9)
    assert not early.not_on_track
    assert early.not_on_track_reason == "2.0 weeks since baseline; judged from week 4"
    mild = assess(weekly(8, 8, 8, 8, 8), PHQ9)
    assert not mild.not_on_track
    assert mild.not_on_track_reason == "baseline 8 below 10: not in the range the rule covers"
    # Worse at week 5 is not on track.
    assert assess(weekly(12, 13, 14, 15, 16, 17), PHQ9).not_on_track


def test_unsorted_series_missing_totals_and_single_points():
    shuffled = [(START + timedelta(weeks=3), 9), (START, 18), (START + timedelta(weeks=1), None)]
    c = assess(shuffled, PHQ9)
    assert (c.baseline, c.latest, c.count, c.baseline_date) == (18, 9, 2, START)
    one = assess(weekly(18), PHQ9)
    assert one.change is None and not one.response and not one.remission and not one.reliably_improved
    assert one.not_on_track_reason == "only one scored administration"
    empty = assess(weekly(None, None), PHQ9)
    assert empty.baseline is None and empty.not_on_track_reason == "no scored administrations"
    # A 0 baseline never counts as a response.
    assert not assess(weekly(0, 0), PHQ9).response


def test_instruments_without_a_total_are_refused():
    with pytest.raises(ValueError):
        assess(weekly(1, 2), instruments.get("bam"))
