"""Geometry for the chart's drug-testing strip: each test a mark on a time line, coloured by what it found
(unexpected, expected, refused, waiting). Pure (no ORM, no HTML); ``templates/labs/partials/strip.html`` draws it,
in the style of the measures and skills charts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

UNEXPECTED, EXPECTED, REFUSED, PENDING = "unexpected", "expected", "refused", "pending"
LABELS = {
    UNEXPECTED: "Unexpected result",
    EXPECTED: "All results expected",
    REFUSED: "Refused or unable",
    PENDING: "Awaiting collection or results",
}


@dataclass(frozen=True)
class Mark:
    x: float
    day: date
    state: str

    @property
    def label(self) -> str:
        return LABELS[self.state]


@dataclass(frozen=True)
class Strip:
    width: int
    height: int
    left: float
    right: float
    middle: float
    marks: list[Mark]
    ticks: list[tuple[float, str]]
    description: str


def strip(points: Sequence[tuple[date, str]], *, width: int = 640, height: int = 56) -> Strip:
    """``points`` are (day, state) in any order."""
    left, right, middle = 16.0, width - 16.0, height / 2 - 6
    ordered = sorted(points)
    first, last = (ordered[0][0], ordered[-1][0]) if ordered else (None, None)
    span = (last - first).days if first and last else 0

    def x_of(day: date) -> float:
        if not span or first is None:
            return round((left + right) / 2, 1)
        return round(left + (right - left) * (day - first).days / span, 1)

    marks = [Mark(x_of(day), day, state) for day, state in ordered]
    ticks: list[tuple[float, str]] = []
    for mark in reversed(marks):
        if not ticks or ticks[-1][0] - mark.x >= 48:
            ticks.append((mark.x, f"{mark.day:%b} {mark.day.day}"))
    described = "; ".join(f"{m.day:%b} {m.day.day} {m.label.lower()}" for m in marks)
    return Strip(
        width, height, left, right, middle, marks, list(reversed(ticks)),
        f"Drug tests over time: {described}" if described else "No drug tests yet",
    )  # fmt: skip
