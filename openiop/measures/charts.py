"""Geometry for the server-rendered SVG plots: a score trend with its severity bands shaded, and the small trend
line in patient lists. Pure (no ORM, no HTML): the templates draw what these return."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from openiop.measures import instruments


@dataclass(frozen=True)
class BandRect:
    y: float
    height: float
    level: int
    label: str
    label_y: float


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    total: int
    day: date
    band: str
    prorated: bool


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    bands: list[BandRect]
    points: list[Point]
    polyline: str
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    baseline_y: float | None
    description: str

    @property
    def plot_width(self) -> float:
        return self.right - self.left


@dataclass(frozen=True)
class ScorePoint:
    day: date
    total: int
    prorated: bool = False


def _x_scale(days: Sequence[date], left: float, right: float) -> list[float]:
    if not days:
        return []
    first, last = min(days), max(days)
    span = (last - first).days
    if span == 0:
        return [(left + right) / 2 for _ in days]
    return [left + (right - left) * (d - first).days / span for d in days]


def trend_chart(
    instrument: instruments.Instrument, series: Sequence[ScorePoint], *, width: int = 640, height: int = 220
) -> TrendChart:
    left, top, right, bottom = 36.0, 10.0, width - 12.0, height - 28.0
    top_value = instrument.max_total or 1

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * min(max(value, 0), top_value) / top_value

    bands = []
    for band in instrument.bands:
        # A band covers its whole integer range: from low - 0.5 to high + 0.5, clipped to the axis.
        y_hi = y_of(min(band.high + 0.5, top_value))
        y_lo = y_of(max(band.low - 0.5, 0))
        bands.append(
            BandRect(y=y_hi, height=max(y_lo - y_hi, 0.0), level=band.level, label=band.label,
                     label_y=(y_hi + y_lo) / 2 + 4)
        )  # fmt: skip
    xs = _x_scale([p.day for p in series], left + 8, right - 8)
    points = [
        Point(
            x=round(x, 1),
            y=round(y_of(p.total), 1),
            total=p.total,
            day=p.day,
            band=(b.label if (b := instrument.band_for(p.total)) else ""),
            prorated=p.prorated,
        )
        for x, p in zip(xs, series, strict=True)
    ]
    step = 5 if top_value <= 30 else 10
    y_ticks = [Tick(round(y_of(v), 1), str(v)) for v in range(0, top_value + 1, step)]
    x_ticks = _x_ticks(points)
    described = ", ".join(f"{p.day:%b} {p.day.day}: {p.total}" for p in points)
    return TrendChart(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        bands=bands,
        points=points,
        polyline=" ".join(f"{p.x},{p.y}" for p in points),
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        baseline_y=points[0].y if points else None,
        description=f"{instrument.short_name} totals over time: {described}" if points else "No scores yet",
    )


def _x_ticks(points: list[Point], min_gap: float = 44.0) -> list[Tick]:
    """Date labels that do not overlap: the last point always, earlier ones at least ``min_gap`` apart."""
    chosen: list[Point] = []
    for p in reversed(points):
        if not chosen or chosen[-1].x - p.x >= min_gap:
            chosen.append(p)
    return [Tick(p.x, f"{p.day:%b} {p.day.day}") for p in reversed(chosen)]


# Severity level (0 minimal ... 4 severe) -> the colour of the latest point.
LEVEL_COLOURS = ("#198754", "#b58100", "#fd7e14", "#dc3545", "#8b0000")


@dataclass(frozen=True)
class Sparkline:
    short_name: str
    width: int
    height: int
    polyline: str
    last_x: float
    last_y: float
    last_total: int
    level: int
    description: str

    @property
    def colour(self) -> str:
        return LEVEL_COLOURS[min(max(self.level, 0), len(LEVEL_COLOURS) - 1)]


def sparkline(
    instrument: instruments.Instrument, totals: Sequence[int], *, width: int = 72, height: int = 20
) -> Sparkline | None:
    if not totals:
        return None
    pad = 2.0
    top_value = instrument.max_total or 1
    n = len(totals)
    xs = [pad + (width - 2 * pad) * (i / (n - 1) if n > 1 else 0.5) for i in range(n)]
    ys = [height - pad - (height - 2 * pad) * min(t, top_value) / top_value for t in totals]
    band = instrument.band_for(totals[-1])
    trail = ", ".join(str(t) for t in totals)
    return Sparkline(
        short_name=instrument.short_name,
        width=width,
        height=height,
        polyline=" ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True)),
        last_x=round(xs[-1], 1),
        last_y=round(ys[-1], 1),
        last_total=totals[-1],
        level=band.level if band else 0,
        description=f"{instrument.short_name} {trail} (latest {totals[-1]}{', ' + band.label if band else ''})",
    )
