"""Scores over time: the chart tab's per-instrument panels (plot, change from baseline, reliable change, response,
remission, not on track) and the patient list's small trend lines, each in a fixed number of queries.

The change maths is ``measures.change.assess``; this module only gathers the series from stored scores.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from openiop.accounts.models import User
from openiop.core.permissions import program_ids_for
from openiop.core.roles import Cap
from openiop.measures import change, instruments
from openiop.measures.change import Change
from openiop.measures.charts import ScorePoint, Sparkline, TrendChart, sparkline, trend_chart
from openiop.measures.models import Administration
from openiop.measures.schedules import family
from openiop.patients.models import Patient

# Which instruments the patient list draws, in this order, when the patient has scores for them.
SPARKLINE_INSTRUMENTS = ("phq9", "gad7")
SPARKLINE_POINTS = 8


@dataclass
class Panel:
    instrument: instruments.Instrument
    scored: list[Administration]
    unscored: list[Administration]
    chart: TrendChart
    change: Change | None
    latest: Administration | None
    baseline: Administration | None
    episodes: set[int] = field(default_factory=set)


def series_of(administrations: Iterable[Administration]) -> list[ScorePoint]:
    return [ScorePoint(a.when, a.total, a.prorated) for a in administrations if a.total is not None]


def assess(instrument: instruments.Instrument, administrations: Sequence[Administration]) -> Change:
    return change.assess([(p.day, p.total) for p in series_of(administrations)], instrument)


def panels(administrations: Iterable[Administration]) -> list[Panel]:
    """One panel per instrument with completed administrations, in registry order."""
    by_code: dict[str, list[Administration]] = defaultdict(list)
    for a in administrations:
        if a.status == Administration.Status.COMPLETED and a.instrument_code in instruments.REGISTRY:
            by_code[family(a.instrument_code)].append(a)
    out = []
    for code, items in sorted(by_code.items(), key=lambda kv: list(instruments.REGISTRY).index(kv[0])):
        instrument = instruments.get(code)
        items.sort(key=lambda a: (a.completed_at, a.pk))
        scored = [a for a in items if a.total is not None]
        out.append(
            Panel(
                instrument=instrument,
                scored=scored,
                unscored=[a for a in items if a.total is None],
                chart=trend_chart(instrument, series_of(scored)),
                change=assess(instrument, scored) if scored and instrument.has_total else None,
                latest=scored[-1] if scored else None,
                baseline=scored[0] if scored else None,
                episodes={a.episode_id for a in items},
            )
        )
    return out


def attach_sparklines(user: User, patients: Sequence[Patient]) -> None:
    """Set ``measure_sparklines`` (a list, maybe empty) on each patient: one query for the whole page, and none
    for roles that do not read clinical data. Scores come only from episodes in the user's programs (Part 2)."""
    for patient in patients:
        patient.measure_sparklines = []  # type: ignore[attr-defined]
    if not patients or not user.can(Cap.VIEW_CLINICAL):
        return
    rows = (
        Administration.objects.filter(
            patient__in=[p.pk for p in patients],
            episode__program_id__in=program_ids_for(user),
            status=Administration.Status.COMPLETED,
            instrument_code__in=SPARKLINE_INSTRUMENTS,
            total__isnull=False,
        )
        .order_by("patient_id", "instrument_code", "completed_at", "pk")
        .values_list("patient_id", "instrument_code", "total")
    )
    totals: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for patient_id, code, total in rows:
        if total is not None:
            totals[patient_id][code].append(total)
    for patient in patients:
        lines: list[Sparkline] = []
        for code in SPARKLINE_INSTRUMENTS:
            series = totals.get(patient.pk, {}).get(code)
            if series:
                line = sparkline(instruments.get(code), series[-SPARKLINE_POINTS:])
                if line is not None:
                    lines.append(line)
        patient.measure_sparklines = lines  # type: ignore[attr-defined]
