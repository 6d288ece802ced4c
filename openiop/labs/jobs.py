"""The daily testing job (``openiop.jobs`` runs it once a day): each active program schedule's orders.

- **Random** (``TestingSchedule.Mode.RANDOM``): once per week (the first run on or after its Monday), draw
  ``percent``% of the program's active episodes with a fresh seed (``selection.draw``), each with a test day among
  the week's remaining weekdays, and order a test for each. The draw is stored whole (``SchedulePick``: seed,
  population, picks), so it can be drawn again from its seed and checked (``reproduces``).
- **Fixed weekdays**: on each listed weekday, order a test for every active episode.

Idempotent: a schedule's draw for a day is unique (``SchedulePick``), so a second run, or two workers at once, order
nothing twice. Orders are made by the system (no ``ordered_by``); their reason is ``random`` or ``scheduled``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.labs import actions, selection
from openiop.labs.models import SchedulePick, TestingSchedule, TestOrder
from openiop.patients.models import EpisodeOfCare


def week_days(today: date) -> list[date]:
    """The days left this week to test on: today to Friday (the weekend when the draw runs on one)."""
    days = [today + timedelta(days=i) for i in range(7 - today.weekday())]
    return [d for d in days if d.weekday() < 5] or days


def _population(schedule: TestingSchedule) -> dict[str, EpisodeOfCare]:
    """The program's active episodes by public id, listed by MRN: an order that is the same whoever reads it."""
    episodes = EpisodeOfCare.objects.filter(program=schedule.program, status=EpisodeOfCare.Status.ACTIVE)
    ordered = episodes.select_related("patient", "program__site").order_by("patient__mrn", "admitted_on", "pk")
    return {str(e.public_id): e for e in ordered}


@transaction.atomic
def draw_for(schedule: TestingSchedule, today: date, *, seed: int | None = None) -> SchedulePick | None:
    """The schedule's draw for ``today`` and its orders, or None when it has none due (or was drawn already).
    ``seed``: a given seed instead of a fresh one (the demo, which must come out the same every time)."""
    random_mode = schedule.mode == TestingSchedule.Mode.RANDOM
    day = today - timedelta(days=today.weekday()) if random_mode else today
    if not random_mode and today.weekday() not in schedule.weekdays:
        return None
    if SchedulePick.objects.filter(schedule=schedule, day=day).exists():
        return None
    population = _population(schedule)
    ids = list(population)
    days = week_days(today) if random_mode else [today]
    seed = (seed if seed is not None else selection.new_seed()) if random_mode else None
    drawn = selection.draw(ids, schedule.percent, seed, days) if seed is not None else [(one, today) for one in ids]
    try:
        with transaction.atomic():
            pick = SchedulePick.objects.create(
                schedule=schedule, day=day, seed=seed, percent=schedule.percent if random_mode else None,
                population=ids, days=[d.isoformat() for d in days],
                picks=[{"episode": one, "due_on": when.isoformat()} for one, when in drawn],
            )  # fmt: skip
    except IntegrityError:  # another worker drew this day first
        return None
    reason = TestOrder.Reason.RANDOM if random_mode else TestOrder.Reason.SCHEDULED
    for one, when in drawn:
        actions.do_order_test(population[one], acting_user=None, kind=schedule.kind, reason=reason, due_on=when,
                              pick=pick)  # fmt: skip
    audit.record(
        action=AuditAction.CREATED,
        acting_user=None,
        obj=pick,
        changed_fields=["seed", "population", "picks"],
        organization_id=schedule.program.site.organization_id,
    )
    return pick


def reproduces(pick: SchedulePick) -> bool:
    """Whether drawing again from the stored seed and population gives the stored picks (random draws only)."""
    if pick.seed is None or pick.percent is None:
        return [p["episode"] for p in pick.picks] == pick.population
    days = [date.fromisoformat(d) for d in pick.days]
    again = selection.draw(pick.population, pick.percent, pick.seed, days)
    return [{"episode": one, "due_on": when.isoformat()} for one, when in again] == pick.picks


def order_scheduled_tests(today: date | None = None) -> dict[str, Any]:
    """The periodic job: draw every active schedule due today (in its program's zone). Counts of each."""
    drawn = orders = 0
    schedules = TestingSchedule.objects.filter(is_active=True, program__is_active=True).select_related("program__site")
    for schedule in schedules.order_by("pk"):
        pick = draw_for(schedule, today or schedule.program.now().date())
        if pick is not None:
            drawn += 1
            orders += len(pick.picks)
    return {"drawn": drawn, "ordered": orders}
