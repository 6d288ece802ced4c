"""What a discharge summary copies from the record: attendance and dose, goals, measures.

Each function returns plain JSON-ready values; the summary stores them so that, once signed, it never changes
whatever is corrected later in attendance, the plan or the measures.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from openiop.attendance.dose import episode_doses
from openiop.attendance.models import AttendanceRecord
from openiop.patients.models import EpisodeOfCare


def _hours(minutes: int) -> str:
    return str((Decimal(minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _percent(part: int, whole: int) -> str | None:
    if whole == 0:
        return None
    return str((Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def attendance_snapshot(episode: EpisodeOfCare, *, now: datetime) -> dict[str, Any]:
    """Weeks with a dose due and those that met it, sessions attended of those held, clinical hours credited.

    A week counts once it is closed or already met (an open week cannot have failed yet). Sessions count once they
    are over; attendance rate = attended (present, late, left early) / counting sessions held, as in the program
    attendance report.
    """
    doses = episode_doses([episode], now=now)
    weeks = doses[0].weeks if doses else []
    judged = [w for w in weeks if w.is_due and (w.closed or w.met)]
    held = attended_sessions = 0
    excused = unexcused = 0
    for week in weeks:
        for slot in week.slots:
            if slot.ends_at > now:
                continue
            held += 1
            if slot.status in AttendanceRecord.ATTENDED:
                attended_sessions += 1
            elif slot.status == AttendanceRecord.Status.ABSENT_EXCUSED:
                excused += 1
            elif slot.status == AttendanceRecord.Status.ABSENT_UNEXCUSED:
                unexcused += 1
    return {
        "weeks": len(judged),
        "weeks_met": sum(1 for w in judged if w.met),
        "sessions_held": held,
        "sessions_attended": attended_sessions,
        "absences_excused": excused,
        "absences_unexcused": unexcused,
        "attendance_rate": _percent(attended_sessions, held),
        "clinical_hours": _hours(sum(w.attended for w in weeks)),
        "weekly_minimum_hours": _hours(max((w.full_minimum for w in weeks), default=0)),
    }


def goals_snapshot(episode: EpisodeOfCare) -> list[dict[str, Any]]:
    """The active plan version's goals with their objectives' statuses (empty without a plan)."""
    try:
        plan = episode.treatment_plan
    except ObjectDoesNotExist:
        return []
    version = plan.current_version
    if version is None:
        return []
    from openiop.plans.models import Goal  # the plans app is a peer; imported where used

    goals = (
        Goal.objects.filter(problem__version=version)
        .select_related("problem")
        .prefetch_related("objectives")
        .order_by("problem__order", "problem__pk", "order", "pk")
    )
    result = []
    for goal in goals:
        objectives = [
            {"statement": o.statement, "status": o.status, "status_label": o.get_status_display()}
            for o in goal.objectives.all()  # Objective.Meta.ordering: goal, order, id
        ]
        result.append(
            {
                "problem": goal.problem.statement,
                "goal": goal.statement,
                "measure_code": goal.measure_code,
                "objectives": objectives,
                "met": bool(objectives) and all(o["status"] == "met" for o in objectives),
            }
        )
    return result


def measures_snapshot(episode: EpisodeOfCare) -> list[dict[str, Any]]:
    """First and last completed total per instrument in the episode (registry order), with the change, reliable
    change, response and remission from ``measures.change.assess``. Instruments without a total are left out."""
    from openiop.measures import instruments
    from openiop.measures.models import Administration
    from openiop.measures.schedules import family
    from openiop.measures.trends import assess

    done = (
        Administration.objects.filter(episode=episode, status=Administration.Status.COMPLETED, total__isnull=False)
        .select_related("episode__program")
        .order_by("completed_at", "pk")
    )
    by_code: dict[str, list[Administration]] = defaultdict(list)
    for administration in done:
        by_code[family(administration.instrument_code)].append(administration)
    order = list(instruments.REGISTRY)
    result = []
    for code in sorted(by_code, key=lambda c: order.index(c) if c in order else len(order)):
        instrument = instruments.REGISTRY.get(code)
        if instrument is None or not instrument.has_total:
            continue
        scored = by_code[code]
        first, last = scored[0], scored[-1]
        change = assess(instrument, scored)
        result.append(
            {
                "code": code,
                "name": instrument.short_name,
                "count": len(scored),
                "first_score": first.total,
                "first_on": first.when.isoformat(),
                "first_severity": _band(instrument, first.total),
                "last_score": last.total,
                "last_on": last.when.isoformat(),
                "last_severity": _band(instrument, last.total),
                "change": change.change,
                "reliably_improved": change.reliably_improved,
                "reliably_deteriorated": change.reliably_deteriorated,
                "response": change.response,
                "remission": change.remission,
                "result": _result(change),
            }
        )
    return result


def _band(instrument: Any, total: int | None) -> str:
    band = instrument.band_for(total)
    return band.label if band is not None else ""


def _result(change: Any) -> str:
    if change.change is None:
        return "One score only"
    words = []
    if change.remission:
        words.append("remission")
    if change.response:
        words.append("response")
    if change.reliably_improved:
        words.append("reliable improvement")
    elif change.reliably_deteriorated:
        words.append("reliable deterioration")
    return ", ".join(words).capitalize() if words else "No reliable change"
