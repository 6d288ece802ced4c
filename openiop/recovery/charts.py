"""Geometry of the recovery supports tab's two small charts: meetings per week as a bar strip, and the recovery
capital ratings (1-5 per domain) over time as lines. Pure (no ORM, no HTML); the templates in
``templates/recovery/partials/`` draw them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    week_of: date

    @property
    def cx(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def label(self) -> str:
        return f"{self.week_of:%b} {self.week_of.day}"


@dataclass(frozen=True)
class WeekStrip:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    description: str

    @property
    def total(self) -> int:
        return sum(b.count for b in self.bars)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def meetings_per_week(
    days: Sequence[date], *, today: date, weeks: int = 8, width: int = 320, height: int = 64
) -> WeekStrip:
    """One bar per week (Monday to Sunday) for the ``weeks`` weeks ending with today's; a week without meetings
    keeps its place with no bar. Bars scale to the busiest week (at least 3, so one meeting is not a full bar)."""
    first = week_start(today) - timedelta(weeks=weeks - 1)
    counts = Counter(week_start(d) for d in days if first <= d <= today)
    top = max([3, *counts.values()])
    baseline = height - 14.0
    slot = width / weeks
    bars = []
    for n in range(weeks):
        monday = first + timedelta(weeks=n)
        count = counts.get(monday, 0)
        h = round((baseline - 12) * count / top, 1)  # room above the tallest bar for its count
        bars.append(Bar(round(n * slot + 2, 1), round(baseline - h, 1), round(slot - 4, 1), h, count, monday))
    described = ", ".join(f"week of {b.label}: {b.count}" for b in bars)
    return WeekStrip(width, height, baseline, bars, f"Meetings per week. {described}")


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: int
    on: date


@dataclass(frozen=True)
class DomainLine:
    name: str
    css: str
    points: list[Point]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)


@dataclass(frozen=True)
class CapitalChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    lines: list[DomainLine]
    y_ticks: list[tuple[float, int]]
    description: str

    @property
    def empty(self) -> bool:
        return not any(line.points for line in self.lines)


def capital_chart(
    rows: Sequence[tuple[date, Sequence[int]]], domains: Sequence[str], *, width: int = 480, height: int = 150
) -> CapitalChart:
    """``rows`` are (taken on, one rating per domain in ``domains``' order), any order. Check-ins are spaced by
    date; a single check-in sits in the middle."""
    left, right, top, bottom = 24.0, width - 10.0, 8.0, height - 12.0
    ordered = sorted(rows, key=lambda r: r[0])
    first = ordered[0][0] if ordered else None
    span = (ordered[-1][0] - first).days if first else 0

    def x_of(on: date) -> float:
        if not span or first is None:
            return round((left + right) / 2, 1)
        return round(left + 6 + (right - left - 12) * (on - first).days / span, 1)

    def y_of(value: int) -> float:
        return round(bottom - (bottom - top) * (min(max(value, 1), 5) - 1) / 4, 1)

    lines = [
        DomainLine(name, f"rc-d{i}", [Point(x_of(on), y_of(vals[i]), vals[i], on) for on, vals in ordered])
        for i, name in enumerate(domains)
    ]
    described = "; ".join(
        f"{line.name}: " + ", ".join(f"{p.on:%b} {p.on.day} {p.value}" for p in line.points) for line in lines
    )
    return CapitalChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        lines=lines,
        y_ticks=[(y_of(v), v) for v in (1, 3, 5)],
        description=f"Recovery capital ratings (1 to 5). {described}" if ordered else "No check-ins yet",
    )
