from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from openiop.core.clock import ClockError, Timeline, simulated_clock

MOMENT = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)


def test_the_clock_sets_now_and_localdate_inside_the_block_only():
    real = timezone.now
    with simulated_clock(MOMENT) as clock:
        assert timezone.now() == MOMENT
        assert timezone.localdate().isoformat() == "2026-03-08"
        clock.advance_to(MOMENT + timedelta(hours=2))
        assert timezone.now() == MOMENT + timedelta(hours=2)
    assert timezone.now is real
    assert timezone.now() > MOMENT + timedelta(days=200)


def test_the_real_clock_is_back_even_when_the_block_raises():
    real = timezone.now
    with pytest.raises(RuntimeError, match="boom"), simulated_clock(MOMENT):
        raise RuntimeError("boom")
    assert timezone.now is real


def test_the_clock_never_goes_backwards_and_refuses_naive_times():
    with simulated_clock(MOMENT) as clock:
        with pytest.raises(ClockError):
            clock.advance_to(MOMENT - timedelta(seconds=1))
        with pytest.raises(ClockError):
            clock.advance_to(datetime(2026, 3, 9))  # noqa: DTZ001
    with pytest.raises(ClockError):
        simulated_clock(datetime(2026, 3, 9)).__enter__()  # noqa: DTZ001


def test_a_timeline_runs_its_steps_in_time_order_and_refuses_the_past():
    timeline = Timeline()
    seen: list[tuple[str, datetime]] = []

    def step(name: str) -> None:
        seen.append((name, timezone.now()))
        if name == "first":
            timeline.at(MOMENT + timedelta(minutes=30), lambda: step("added by first"))
            with pytest.raises(ClockError):
                timeline.at(MOMENT - timedelta(minutes=1), lambda: step("in the past"))

    timeline.at(MOMENT + timedelta(hours=1), lambda: step("last"))
    timeline.at(MOMENT, lambda: step("first"))
    timeline.at(MOMENT + timedelta(hours=1), lambda: step("last, added second"))
    timeline.run()

    assert [name for name, _ in seen] == ["first", "added by first", "last", "last, added second"]
    assert [when for _, when in seen] == sorted(when for _, when in seen)
    assert timeline.steps_run == 4
    assert timezone.now() > MOMENT + timedelta(days=200)


def test_a_timeline_step_that_raises_leaves_the_real_clock():
    timeline = Timeline()

    def fail() -> None:
        raise ValueError("step failed")

    timeline.at(MOMENT, fail)
    real = timezone.now
    with pytest.raises(ValueError, match="step failed"):
        timeline.run()
    assert timezone.now is real
