"""minutes_attended: the session window clipped by lateness, early leaving and recorded times."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

import pytest

from openiop.attendance.minutes import minutes_after, minutes_attended

NY = zoneinfo.ZoneInfo("America/New_York")
START = datetime(2026, 11, 2, 9, 0, tzinfo=NY)
END = START + timedelta(minutes=55)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def minutes(status: str = "present", **kw) -> int:
    return minutes_attended(starts_at=START, ends_at=END, status=status, **kw)


def test_present_without_times_is_the_whole_session():
    assert minutes() == 55


@pytest.mark.parametrize("status", ["absent_excused", "absent_unexcused", "cancelled", "unknown"])
def test_absent_cancelled_and_unknown_statuses_are_zero(status):
    assert minutes(status, arrived_at=at(0), departed_at=at(55)) == 0


@pytest.mark.parametrize(
    ("late", "left", "expected"),
    [(0, 0, 55), (10, 0, 45), (0, 15, 40), (10, 15, 30), (54, 0, 1), (55, 0, 0), (30, 30, 0), (60, 0, 0)],
)
def test_late_and_left_early_minutes_trim_the_window(late, left, expected):
    assert minutes("late", late_minutes=late, left_early_minutes=left) == expected


def test_recorded_times_win_over_the_minute_counts():
    assert minutes("late", late_minutes=5, arrived_at=at(20)) == 35
    assert minutes("left_early", left_early_minutes=5, departed_at=at(30)) == 30


def test_times_outside_the_session_are_clipped_to_it():
    # Joined the call 10 minutes early and stayed 20 minutes after: only the session counts.
    assert minutes(arrived_at=at(-10), departed_at=at(75)) == 55
    assert minutes(arrived_at=at(-10)) == 55
    assert minutes(departed_at=at(80)) == 55


def test_an_arrival_after_the_end_or_a_leave_before_the_start_is_zero():
    assert minutes("late", arrived_at=at(60)) == 0
    assert minutes("left_early", departed_at=at(-5)) == 0
    assert minutes(arrived_at=at(30), departed_at=at(20)) == 0


def test_seconds_are_dropped_not_rounded_up():
    assert minutes("late", arrived_at=at(10.99)) == 44  # 44 min 0.6 s
    assert minutes(arrived_at=at(0.5), departed_at=at(1.4)) == 0


def test_telehealth_join_and_leave_in_another_zone_count_the_same_instant():
    utc = zoneinfo.ZoneInfo("UTC")
    assert minutes(arrived_at=at(5).astimezone(utc), departed_at=at(50).astimezone(utc)) == 45


def test_a_session_across_the_fall_back_hour_counts_real_minutes():
    # 01:30 EDT to 01:30 EST on 1 Nov 2026 is 60 real minutes, though the wall clock shows no change.
    start = datetime(2026, 11, 1, 1, 30, tzinfo=NY)
    end = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NY)
    assert minutes_attended(starts_at=start, ends_at=end, status="present") == 60
    assert minutes_attended(starts_at=start, ends_at=end, status="late", late_minutes=15) == 45


def test_an_empty_session_window_is_zero():
    assert minutes_attended(starts_at=START, ends_at=START, status="present") == 0


def test_minutes_after():
    assert minutes_after(START, at(12.5)) == 12
    assert minutes_after(START, at(-3)) == 0
    assert minutes_after(START, START) == 0
