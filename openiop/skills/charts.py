"""Geometry for the practice log's small chart: mood and craving (0-10) over time as two lines. Pure (no ORM, no
HTML); ``templates/skills/partials/chart.html`` draws it, in the style of the measures trends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    value: int
    at: datetime


@dataclass(frozen=True)
class Line:
    name: str
    css: str
    dots: list[Dot]

    @property
    def polyline(self) -> str:
        return " ".join(f"{d.x},{d.y}" for d in self.dots)


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True)
class PracticeChart:
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    lines: list[Line]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    description: str

    @property
    def empty(self) -> bool:
        return not any(line.dots for line in self.lines)


def practice_chart(
    points: Sequence[tuple[datetime, int | None, int | None]],
    *,
    with_craving: bool,
    width: int = 640,
    height: int = 180,
) -> PracticeChart:
    """``points`` are (when, mood, craving) in any order; a missing value leaves its line without that dot."""
    left, top, right, bottom = 30.0, 10.0, width - 12.0, height - 26.0
    ordered = sorted(points, key=lambda p: p[0])
    moments = [p[0] for p in ordered]
    first, last = (moments[0], moments[-1]) if moments else (None, None)
    span = (last - first).total_seconds() if first and last else 0.0

    def x_of(at: datetime) -> float:
        if not span or first is None:
            return round((left + right) / 2, 1)
        return round(left + 8 + (right - left - 16) * (at - first).total_seconds() / span, 1)

    def y_of(value: int) -> float:
        return round(bottom - (bottom - top) * min(max(value, 0), 10) / 10, 1)

    def line(name: str, css: str, values: list[tuple[datetime, int | None]]) -> Line:
        return Line(name, css, [Dot(x_of(at), y_of(v), v, at) for at, v in values if v is not None])

    lines = [line("Mood", "sp-mood", [(at, mood) for at, mood, _ in ordered])]
    if with_craving:
        lines.append(line("Craving", "sp-craving", [(at, craving) for at, _, craving in ordered]))
    chosen: list[Tick] = []
    for at in reversed(moments):
        x = x_of(at)
        if not chosen or chosen[-1].pos - x >= 44:
            chosen.append(Tick(x, f"{at:%b} {at.day}"))
    described = "; ".join(
        f"{ln.name}: " + ", ".join(f"{d.at:%b} {d.at.day} {d.value}" for d in ln.dots) for ln in lines if ln.dots
    )
    return PracticeChart(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        lines=lines,
        y_ticks=[Tick(y_of(v), str(v)) for v in (0, 5, 10)],
        x_ticks=list(reversed(chosen)),
        description=f"Ratings over time (0 to 10). {described}" if described else "No ratings yet",
    )


def chart_for_entries(entries: Sequence[object]) -> PracticeChart:
    """The chart of practice entries (their programs already loaded): times in each program's zone, and a craving
    line only when some entry has a craving rating."""
    from django.utils import timezone

    points = [
        (timezone.localtime(e.practiced_at, e.episode.program.tz()), e.mood, e.craving)  # type: ignore[attr-defined]
        for e in entries
    ]
    return practice_chart(points, with_craving=any(p[2] is not None for p in points))
