"""When a note is due: ``note_due_business_days`` business days after the service, or ``crisis_note_due_hours``
hours after a crisis service ends (the program's NotePolicy, else settings.OPENIOP_DEFAULTS).

A business day is a program-local weekday on which the site is open: weekends and the closures that apply to the
site (the organization-wide ones and the site's own, ``scheduling.Closure``) are skipped. A note is due by the
end of its due day, program-local, so a DST change in between moves nothing. Counting starts the day after the
service: a Monday session is due Thursday; a Friday one the next Wednesday; a Friday before a Monday holiday, Thursday.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q

from openiop.notes.policy import policy_for
from openiop.programs.models import Program
from openiop.scheduling.models import Closure

# Far enough ahead for any policy's business days plus a run of closures (a holiday week).
_CLOSURE_LOOKAHEAD_DAYS = 60


def add_business_days(start: date, days: int, closed: Iterable[date] = ()) -> date:
    """The date ``days`` business days after ``start`` (pure): weekends and ``closed`` dates are skipped."""
    closed_days = set(closed)
    current = start
    counted = 0
    while counted < days:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in closed_days:
            counted += 1
    return current


def closed_dates(program: Program, start: date, end: date) -> set[date]:
    """The dates between start and end (inclusive) on which the program's site is closed (one query)."""
    site = program.site
    return set(
        Closure.objects.filter(organization_id=site.organization_id, date__gte=start, date__lte=end)
        .filter(Q(site__isnull=True) | Q(site_id=site.pk))
        .values_list("date", flat=True)
    )


def end_of_day(program: Program, day: date) -> datetime:
    """The last minute of the program-local day (a note "due Thursday" is on time until 23:59 that day)."""
    return datetime.combine(day, time(23, 59), tzinfo=program.tz())


def note_due_at(
    program: Program, service_date: date, *, ends_at: datetime | None = None, is_crisis: bool = False
) -> datetime:
    """When a note of a service on ``service_date`` (ending at ``ends_at``, if known) must be signed."""
    policy = policy_for(program)
    if is_crisis:
        base = ends_at or end_of_day(program, service_date)
        # In UTC: Python adds to two datetimes of one zone by wall clock, which is an hour off across a DST change.
        return base.astimezone(UTC) + timedelta(hours=policy.crisis_note_due_hours)
    closed = closed_dates(program, service_date, service_date + timedelta(days=_CLOSURE_LOOKAHEAD_DAYS))
    return end_of_day(program, add_business_days(service_date, policy.note_due_business_days, closed))
