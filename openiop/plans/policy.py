"""When plans and reviews fall due: the numbers (settings and each program's PlanPolicy) and the calendar rules.

- The first plan is due ``treatment_plan_due_days`` **calendar** days after admission ("within 7 days",
  docs/clinical-rules.md#treatment-plans-and-reviews; admission raises its work task with the same number). Weekends and
  closures do not move it.
- A scheduled progress review is due ``plan_review_interval_days`` after the version in force became active, on the
  program's local calendar. The team holds reviews on working days, and the interval is a maximum, so a date that
  falls on a weekend or a closure of the program's site is pulled back to the working day before it (never later).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program

WEEKEND = (5, 6)  # Saturday, Sunday


def _default(name: str) -> int:
    value: Any = settings.OPENIOP_DEFAULTS[name]
    return int(value)


def plan_due_days() -> int:
    return _default("treatment_plan_due_days")


def review_interval_days(program: Program) -> int:
    from openiop.plans.models import PlanPolicy

    policy = PlanPolicy.objects.filter(program=program).first()
    if policy is not None:
        return policy.plan_review_interval_days
    return _default("plan_review_interval_days")


def _policy(program: Program) -> Any:
    from openiop.plans.models import PlanPolicy

    return PlanPolicy.objects.filter(program=program).first()


def in_force_at(program: Program) -> str:
    """ "patient_signature" or "clinician_signature": when a signed version comes into force."""
    row = _policy(program)
    return row.in_force_at if row is not None else str(settings.OPENIOP_DEFAULTS["plan_in_force_at"])


def patient_signature_due_days(program: Program) -> int:
    row = _policy(program)
    return row.patient_signature_due_days if row is not None else _default("plan_patient_signature_due_days")


def patient_signature_due_on(program: Program, clinician_signed_at: datetime | None) -> date | None:
    """The day by which the patient signs or declines: calendar days after the clinician's signature."""
    if clinician_signed_at is None:
        return None
    return local_today(program, clinician_signed_at) + timedelta(days=patient_signature_due_days(program))


def local_today(program: Program, now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), program.tz()).date()


def plan_due_on(episode: EpisodeOfCare) -> date:
    start = episode.admitted_on or episode.created_at.date()
    return start + timedelta(days=plan_due_days())


def closed_days(program: Program, start: date, end: date) -> set[date]:
    """Closure dates of the program's site (or the whole organization) between start and end, inclusive."""
    from openiop.scheduling.models import Closure

    site = program.site
    rows = Closure.objects.filter(
        Q(site__isnull=True) | Q(site_id=site.pk), organization_id=site.organization_id, date__range=(start, end)
    )
    return set(rows.values_list("date", flat=True))


def previous_working_day(day: date, closed: Iterable[date]) -> date:
    """The day itself when it is a working day, else the nearest working day before it."""
    closed = set(closed)
    while day.weekday() in WEEKEND or day in closed:
        day -= timedelta(days=1)
    return day


def review_due_on(program: Program, start: date) -> date:
    """The scheduled review after a version became active on ``start`` (program-local date)."""
    target = start + timedelta(days=review_interval_days(program))
    # Two weeks back is more than any run of weekends and closures a program has.
    closed = closed_days(program, target - timedelta(days=14), target)
    return max(previous_working_day(target, closed), start)


def event_review_due_on(program: Program, start: date) -> date:
    """An unscheduled review raised on ``start``: a few days to gather the team, pulled back to a working day."""
    target = start + timedelta(days=_default("plan_event_review_due_days"))
    closed = closed_days(program, start, target)
    return max(previous_working_day(target, closed), start)


def due_state(due_on: date | None, today: date, *, done: bool = False) -> str:
    """ "overdue", "due_today", "due" (upcoming) or "" (nothing due): what the badges show."""
    if done or due_on is None:
        return ""
    if today > due_on:
        return "overdue"
    if today == due_on:
        return "due_today"
    return "due"
