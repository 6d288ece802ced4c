"""The program's testing report: compliance per week (ordered, collected, refused or unable, still open) and, per
analyte, how many results were positive and how many unexpected. Counts only: no patient is named."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from openiop.labs import analytes
from openiop.labs.models import Result, TestOrder
from openiop.programs.models import Program


@dataclass
class Week:
    start: date
    ordered: int = 0
    collected: int = 0
    refused: int = 0
    open: int = 0

    @property
    def compliance(self) -> float | None:
        """Collected of those no longer open (a refusal counts against it)."""
        done = self.collected + self.refused
        return round(100 * self.collected / done, 1) if done else None


@dataclass
class AnalyteRate:
    code: str
    results: int = 0
    positive: int = 0
    unexpected: int = 0

    @property
    def name(self) -> str:
        return analytes.name(self.code)

    def rate(self, n: int) -> float | None:
        return round(100 * n / self.results, 1) if self.results else None


@dataclass
class Report:
    program: Program
    start: date
    end: date
    weeks: list[Week] = field(default_factory=list)
    rates: list[AnalyteRate] = field(default_factory=list)


def testing_report(program: Program, start: date, end: date) -> Report:
    """Tests due from ``start`` to ``end`` (inclusive) in ``program``; the caller checks access."""
    orders = TestOrder.objects.filter(episode__program=program, due_on__gte=start, due_on__lte=end)
    weeks: dict[date, Week] = {}
    monday = start - timedelta(days=start.weekday())
    while monday <= end:
        weeks[monday] = Week(monday)
        monday += timedelta(days=7)
    for due_on, status in orders.values_list("due_on", "status"):
        week = weeks[due_on - timedelta(days=due_on.weekday())]
        week.ordered += 1
        if status in (TestOrder.Status.COLLECTED, TestOrder.Status.RESULTED):
            week.collected += 1
        elif status in (TestOrder.Status.REFUSED, TestOrder.Status.UNABLE):
            week.refused += 1
        else:
            week.open += 1
    counts: dict[str, Counter[str]] = {code: Counter() for code in analytes.CODES}
    rows = Result.objects.filter(order__in=orders).values_list("analyte", "outcome", "interpretation")
    for code, outcome, interpretation in rows:
        c = counts.setdefault(code, Counter())
        c["results"] += 1
        c["positive"] += outcome == Result.Outcome.POSITIVE
        c["unexpected"] += interpretation == Result.Interpretation.UNEXPECTED
    rates = [AnalyteRate(code, c["results"], c["positive"], c["unexpected"]) for code, c in counts.items()]
    return Report(program, start, end, list(weeks.values()), rates)


def csv_rows(report: Report) -> list[list[str]]:
    out = [["section", "week or analyte", "ordered or results", "collected or positive", "refused or unexpected",
            "open", "compliance or positive %", "unexpected %"]]  # fmt: skip
    for w in report.weeks:
        out.append(["week", w.start.isoformat(), str(w.ordered), str(w.collected), str(w.refused), str(w.open),
                    "" if w.compliance is None else str(w.compliance), ""])  # fmt: skip
    for r in report.rates:
        pos, unexp = r.rate(r.positive), r.rate(r.unexpected)
        out.append(["analyte", r.code, str(r.results), str(r.positive), str(r.unexpected), "",
                    "" if pos is None else str(pos), "" if unexp is None else str(unexp)])  # fmt: skip
    return out
