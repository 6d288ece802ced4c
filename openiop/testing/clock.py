"""A test clock pinned to a chosen moment that keeps ticking, for tests whose demo data depends on the weekday.

The demo seeds "today's" sessions and books the weeks after a given day through actions that refuse the past; run on
the real clock, such a test passes or fails with the calendar (a weekend has no group session, a fixed day drifts
into the past). ``moving_clock`` makes ``timezone.now()`` start at ``start`` and advance with real time, so times
stay distinct and ordered (the audit chain needs that) while the date is fixed. It patches the module attribute,
as ``openiop.core.clock.simulated_clock`` does, and every OpenIOP caller reads it through the module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.utils import timezone


def moving_clock(monkeypatch: pytest.MonkeyPatch, start: datetime) -> Callable[[], datetime]:
    real_now = timezone.now
    offset = start.astimezone(UTC) - real_now()

    def now() -> datetime:
        return real_now() + offset

    monkeypatch.setattr(timezone, "now", now)
    return now
