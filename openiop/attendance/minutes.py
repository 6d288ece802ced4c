"""Minutes attended, computed from what staff recorded: pure, no database.

The session window is the frame: a person is counted from the later of the session start and their arrival
(or telehealth join) to the earlier of the session end and their departure (or leave), so time in the waiting
room before the start or on the call after the end never counts. Recorded times win over the minute counts
(they are more precise); without times, ``late_minutes`` and ``left_early_minutes`` trim the window. Absent
and cancelled people attended 0 minutes, and so does anyone whose trimmed window is empty.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

ATTENDED_STATUSES = frozenset({"present", "late", "left_early"})


def minutes_attended(
    *,
    starts_at: datetime,
    ends_at: datetime,
    status: str,
    late_minutes: int = 0,
    left_early_minutes: int = 0,
    arrived_at: datetime | None = None,
    departed_at: datetime | None = None,
) -> int:
    """Whole minutes of the session the person was there (seconds are dropped, never rounded up)."""
    # Python subtracts two datetimes of one zone by wall clock (a DST hour vanishes): work in UTC.
    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    if status not in ATTENDED_STATUSES or ends_at <= starts_at:
        return 0
    begin = starts_at
    if arrived_at is not None:
        begin = max(begin, arrived_at.astimezone(UTC))
    elif late_minutes:
        begin = starts_at + timedelta(minutes=late_minutes)
    end = ends_at
    if departed_at is not None:
        end = min(end, departed_at.astimezone(UTC))
    elif left_early_minutes:
        end = ends_at - timedelta(minutes=left_early_minutes)
    if end <= begin:
        return 0
    return int((end - begin).total_seconds() // 60)


def minutes_after(start: datetime, moment: datetime) -> int:
    """Whole minutes from ``start`` to ``moment`` (0 when the moment is not after it): lateness from arrival."""
    seconds = (moment.astimezone(UTC) - start.astimezone(UTC)).total_seconds()
    return int(seconds // 60) if seconds > 0 else 0
