"""A simulated clock and a time-ordered replay, for the demo only.

`openiop demo` gives the invented clinic a past (admissions, enrollments, check-ins, corrections) by replaying it
through the real actions. Those actions read ``django.utils.timezone.now()`` and refuse the past (booking a session
that has ended, checking in outside the check-in window), so the replay sets what that function returns.

**Never use this outside the demo.** It replaces ``django.utils.timezone.now`` for the whole process, every thread
included, so a server or worker running beside it would stamp real records with invented times. The demo command is
a single-threaded, one-off process, which is the only place where that is safe. It works because every caller in
OpenIOP calls ``timezone.now()`` through the module (Django's own ``localdate``, ``localtime`` and ``auto_now``
fields do too); code doing ``from django.utils.timezone import now`` keeps the real clock, which is why none does.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils import timezone


class ClockError(Exception):
    """The simulated clock was asked to go backwards, or to start from a naive time."""


class SimulatedClock:
    """What ``timezone.now()`` returns while :func:`simulated_clock` is active; moves only forward."""

    def __init__(self, start: datetime) -> None:
        if timezone.is_naive(start):
            raise ClockError("the simulated clock needs an aware datetime")
        # In UTC, as Django's own now() is: the audit chain hashes the time's text, which the database gives back
        # in UTC.
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime) -> None:
        # Forward only: the audit chain's times then never go backwards along the chain.
        if timezone.is_naive(moment):
            raise ClockError("the simulated clock needs an aware datetime")
        if moment < self._now:
            raise ClockError(f"the simulated clock cannot go back from {self._now.isoformat()} to {moment.isoformat()}")
        self._now = moment.astimezone(UTC)


@contextmanager
def simulated_clock(start: datetime) -> Iterator[SimulatedClock]:
    """Make ``django.utils.timezone.now()`` return the clock's time inside the block; restored on exit, even when
    the block raises. Demo only (see the module docstring)."""
    clock = SimulatedClock(start)
    real_now = timezone.now
    timezone.now = clock.now
    try:
        yield clock
    finally:
        timezone.now = real_now


@dataclass(order=True)
class _Event:
    when: datetime
    seq: int
    run: Callable[[], None] = field(compare=False)


class Timeline:
    """Steps to replay in time order under the simulated clock; a step may schedule later steps.

    Steps at the same moment run in the order they were added. A step scheduled before the moment being replayed
    is refused (ClockError), so what runs is always in time order.
    """

    def __init__(self) -> None:
        self._events: list[_Event] = []
        self._counter = itertools.count()
        self._clock: SimulatedClock | None = None
        self.steps_run = 0

    def at(self, when: datetime, step: Callable[[], None]) -> None:
        if timezone.is_naive(when):
            raise ClockError("timeline steps need an aware datetime")
        if self._clock is not None and when < self._clock.now():
            raise ClockError(f"a step at {when.isoformat()} is in the replay's past ({self._clock.now().isoformat()})")
        heapq.heappush(self._events, _Event(when, next(self._counter), step))

    def __len__(self) -> int:
        return len(self._events)

    def run(self) -> None:
        """Replay every step (and those they add) in time order; the real clock is back afterwards."""
        if not self._events:
            return
        with simulated_clock(self._events[0].when) as clock:
            self._clock = clock
            try:
                while self._events:
                    event = heapq.heappop(self._events)
                    clock.advance_to(event.when)
                    event.run()
                    self.steps_run += 1
            finally:
                self._clock = None
