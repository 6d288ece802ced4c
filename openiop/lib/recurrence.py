"""Expand an RFC 5545 RRULE into program-local, timezone-aware occurrence starts.

The rule is expanded on naive wall-clock times and each one is then placed in the zone, so 09:00 stays 09:00
local across daylight-saving changes. Times that do not exist or occur twice follow RFC 5545 section 3.3.5,
which calendar clients reading our feeds also follow: an ambiguous time is the first one (fold=0), and a time
inside the spring-forward gap keeps the offset from before the gap, which moves it forward by the gap's length
(02:30 in New York on spring-forward day becomes 03:30 EDT).
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

from dateutil import rrule as du_rrule  # type: ignore[import-untyped]

# A session series repeats whole sessions; sub-daily steps or rules that change the start time are not templates.
_ALLOWED_FREQUENCIES = {du_rrule.DAILY, du_rrule.WEEKLY, du_rrule.MONTHLY, du_rrule.YEARLY}
_FORBIDDEN_PARTS = ("DTSTART", "BYHOUR", "BYMINUTE", "BYSECOND")


class RecurrenceError(ValueError):
    """The RRULE text or time zone is unusable; the message names the rule."""


def get_zone(tz: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise RecurrenceError(f"{tz!r} is not a known IANA time zone (e.g. America/New_York).") from exc


def normalize(rule_text: str) -> str:
    text = (rule_text or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    return text.upper().replace(" ", "")


def parse(rule_text: str, dtstart: datetime) -> du_rrule.rrule:
    """Parse and check the rule; raises RecurrenceError naming the rule text."""
    text = normalize(rule_text)
    if not text:
        raise RecurrenceError("The recurrence rule is empty; e.g. FREQ=WEEKLY;BYDAY=MO,WE,FR.")
    for part in _FORBIDDEN_PARTS:
        if part in text:
            raise RecurrenceError(
                f"The recurrence rule {text!r} may not contain {part}; the start date and time are set separately."
            )
    try:
        rule = du_rrule.rrulestr(f"RRULE:{text}", dtstart=dtstart)
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(f"The recurrence rule {text!r} is not valid RFC 5545: {exc}.") from exc
    if not isinstance(rule, du_rrule.rrule):
        raise RecurrenceError(f"The recurrence rule {text!r} must be a single RRULE.")
    if rule._freq not in _ALLOWED_FREQUENCIES:
        raise RecurrenceError(f"The recurrence rule {text!r} must repeat daily, weekly, monthly or yearly.")
    return rule


def validate(rule_text: str) -> str:
    """Return the normalized rule text, or raise RecurrenceError."""
    parse(rule_text, datetime(2000, 1, 3))  # noqa: DTZ001 (rules are expanded on naive wall-clock times)
    return normalize(rule_text)


def localize(wall: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """Place a naive wall-clock time in ``zone`` (RFC 5545 rules for gaps and repeats, see the module doc)."""
    aware = wall.replace(tzinfo=zone, fold=0)
    # Round-tripping through UTC shows whether the wall time exists; fold=0 already uses the pre-gap offset.
    return aware.astimezone(UTC).astimezone(zone)


def expand(
    rrule: str,
    starts_on: date,
    start_time: time,
    tz: str,
    window: tuple[date, date],
    until: date | None = None,
) -> list[datetime]:
    """Occurrence starts, aware in ``tz``, from ``window[0]`` to ``window[1]`` inclusive (and not after ``until``)."""
    zone = get_zone(tz)
    dtstart = datetime.combine(starts_on, start_time)
    rule = parse(rrule, dtstart)
    first = max(window[0], starts_on)
    last = window[1] if until is None else min(window[1], until)
    if last < first:
        return []
    lo = datetime.combine(first, time.min)
    hi = datetime.combine(last, time.min) + timedelta(days=1) - timedelta(microseconds=1)
    return [localize(wall, zone) for wall in rule.between(lo, hi, inc=True)]


def wall_clock(day: date, at: time, tz: str) -> datetime:
    """One program-local wall-clock time as an aware datetime (same gap/repeat rules as ``expand``)."""
    return localize(datetime.combine(day, at), get_zone(tz))
