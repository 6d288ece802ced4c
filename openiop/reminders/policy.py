"""Reminder numbers and the quiet-hours rule.

Each program's ``ReminderPolicy`` row, else ``settings.OPENIOP_DEFAULTS`` (read at call time, so a deployment
changes them without a migration). Quiet hours are wall-clock times in the program's time zone: a reminder that
falls inside them waits for their end, which ``quiet_until`` computes on the local calendar, so the end of quiet
hours is 08:00 local on the day a DST change happens too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from openiop.programs.models import Program
from openiop.reminders.models import ReminderPolicy, ReminderPreference


def _defaults() -> dict[str, Any]:
    return settings.OPENIOP_DEFAULTS


def _time(value: Any) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


def default_policy(program: Program) -> ReminderPolicy:
    """An unsaved policy holding the deployment's defaults."""
    d = _defaults()
    return ReminderPolicy(
        program=program,
        session_offsets_hours=[int(h) for h in d["reminder_session_offsets_hours"]],
        quiet_start=_time(d["reminder_quiet_start"]),
        quiet_end=_time(d["reminder_quiet_end"]),
        day_time=_time(d["reminder_day_time"]),
        plan_signature_delay_hours=int(d["reminder_plan_signature_delay_hours"]),
    )


def policy_for(program: Program) -> ReminderPolicy:
    """The program's saved policy, else the defaults; cached on the program instance."""
    cached = getattr(program, "_openiop_reminder_policy", None)
    if cached is not None:
        return cached
    policy = ReminderPolicy.objects.filter(program=program).first() or default_policy(program)
    program._openiop_reminder_policy = policy  # type: ignore[attr-defined]
    return policy


def session_offsets(policy: ReminderPolicy) -> list[int]:
    """Hours before a session, largest first, without repeats or nonsense."""
    return sorted({int(h) for h in policy.session_offsets_hours or [] if 0 < int(h) <= 24 * 14}, reverse=True)


def catch_up() -> timedelta:
    """A session reminder whose time passed longer ago than this is not created (booked late, worker down)."""
    return timedelta(minutes=int(_defaults()["reminder_catch_up_minutes"]))


def plan_ahead() -> timedelta:
    return timedelta(hours=int(_defaults()["reminder_plan_ahead_hours"]))


def lease() -> timedelta:
    return timedelta(seconds=int(_defaults()["reminder_lease_seconds"]))


def max_attempts() -> int:
    return int(_defaults()["reminder_max_attempts"])


def retry_after(attempts: int) -> timedelta:
    """Back off linearly: a provider that is down is asked again later, not hammered."""
    return timedelta(minutes=int(_defaults()["reminder_retry_minutes"]) * max(attempts, 1))


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @property
    def is_none(self) -> bool:
        return self.start == self.end


def quiet_hours_for(preference: ReminderPreference | None, policy: ReminderPolicy) -> QuietHours:
    if preference is not None and preference.quiet_start is not None and preference.quiet_end is not None:
        return QuietHours(preference.quiet_start, preference.quiet_end)
    return QuietHours(policy.quiet_start, policy.quiet_end)


def local_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Wall-clock ``at`` on ``day`` in ``tz``. With fold 0 a time skipped by spring-forward lands on the instant
    after the gap (02:30 becomes 03:30), and a repeated time in the autumn is its first occurrence. Returned in UTC:
    Python compares and subtracts two datetimes of the same zone by wall clock, which is wrong across DST."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def quiet_until(at: datetime, quiet: QuietHours, tz: ZoneInfo) -> datetime | None:
    """When ``at`` falls inside the quiet hours, the moment they end; otherwise None."""
    if quiet.is_none:
        return None
    local = at.astimezone(tz)
    now_t = local.time().replace(tzinfo=None)
    day = local.date()
    if quiet.start < quiet.end:  # e.g. 13:00-15:00, within one day
        if quiet.start <= now_t < quiet.end:
            return local_at(day, quiet.end, tz)
        return None
    # Across midnight, e.g. 21:00-08:00.
    if now_t >= quiet.start:
        return local_at(day + timedelta(days=1), quiet.end, tz)
    if now_t < quiet.end:
        return local_at(day, quiet.end, tz)
    return None


def deferred(at: datetime, quiet: QuietHours, tz: ZoneInfo) -> datetime:
    """``at``, or the end of the quiet hours it falls in."""
    return quiet_until(at, quiet, tz) or at
