"""Geometry for the chart's drug-testing strip: each test a mark on a time line, coloured by what it found
(unexpected, expected, refused, waiting). Pure (no ORM, no HTML); ``templates/labs/partials/strip.html`` draws it,
in the style of the measures and skills charts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

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


# The course at a glance: drug tests, attendance and scores in rows that share one axis of weeks, so a clinician
# sees in one picture whether an unexpected result came with missed sessions or a rising score.
WORST_FIRST = (UNEXPECTED, REFUSED, PENDING, EXPECTED)
ROW_HEIGHT, ROW_GAP, LABEL_WIDTH = 24.0, 6.0, 96.0
WeekOf = Callable[[date], int | None]  # a day's column, or None outside the drawn weeks


@dataclass(frozen=True)
class Week:
    start: date
    x: float  # the column's centre


@dataclass(frozen=True)
class Cell:
    """One week's mark in a row: a dot (tests, scores) or a bar (attendance), with what it says in words."""

    x: float
    y: float
    height: float
    state: str
    title: str


@dataclass(frozen=True)
class Row:
    kind: str  # "tests", "attendance" or "scores"
    label: str
    top: float
    cells: list[Cell]
    polyline: str = ""

    @property
    def middle(self) -> float:
        return self.top + ROW_HEIGHT / 2


@dataclass(frozen=True)
class Course:
    width: int
    height: int
    left: float
    right: float
    column: float
    weeks: list[Week]
    rows: list[Row]
    ticks: list[tuple[float, str]]
    description: str


@dataclass(frozen=True)
class ScoreSeries:
    """One instrument's scores: (day, total) in any order, the scale's top and its severity band by total."""

    label: str
    max_total: int
    points: Sequence[tuple[date, int]]
    band: dict[int, str]


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def course(
    tests: Sequence[tuple[date, str]],
    attendance: Sequence[tuple[date, bool]],
    scores: Sequence[ScoreSeries],
    *,
    max_weeks: int = 16,
    width: int = 640,
) -> Course:
    """``tests`` are (day, state) as for ``strip``; ``attendance`` is (day, attended) for each scheduled session the
    patient was expected at (a session the program cancelled is left out by the caller). The weeks run from the first
    to the last week with anything in it, the latest ``max_weeks`` of them."""
    days = [d for d, _ in tests] + [d for d, _ in attendance] + [d for s in scores for d, _ in s.points]
    left, right = LABEL_WIDTH, width - 8.0
    if not days:
        return Course(width, 0, left, right, 0.0, [], [], [], "Nothing recorded yet")
    last = monday(max(days))
    first = max(monday(min(days)), last - timedelta(weeks=max_weeks - 1))
    count = (last - first).days // 7 + 1
    column = (right - left) / count
    weeks = [Week(first + timedelta(weeks=i), round(left + column * (i + 0.5), 1)) for i in range(count)]

    def week_of(day: date) -> int | None:
        index = (monday(day) - first).days // 7
        return index if 0 <= index < count else None

    rows: list[Row] = []
    top = 4.0
    rows.append(_tests_row(tests, weeks, week_of, top))
    top += ROW_HEIGHT + ROW_GAP
    rows.append(_attendance_row(attendance, weeks, week_of, top))
    for series in scores:
        top += ROW_HEIGHT + ROW_GAP
        rows.append(_score_row(series, weeks, week_of, top))
    height = int(top + ROW_HEIGHT + 22)
    ticks: list[tuple[float, str]] = []
    for week in reversed(weeks):
        if not ticks or ticks[-1][0] - week.x >= 48:
            ticks.append((week.x, f"{week.start:%b} {week.start.day}"))
    described = "; ".join(f"{row.label}: " + ", ".join(c.title for c in row.cells) for row in rows if row.cells)
    return Course(width, height, left, right, round(column, 1), weeks, rows, list(reversed(ticks)),
                  f"Weeks of {weeks[0].start:%b} {weeks[0].start.day} to {weeks[-1].start:%b} "
                  f"{weeks[-1].start.day}. {described}")  # fmt: skip


def _week_label(week: Week) -> str:
    return f"week of {week.start:%b} {week.start.day}"


def _tests_row(tests: Sequence[tuple[date, str]], weeks: list[Week], week_of: WeekOf, top: float) -> Row:
    states: dict[int, list[str]] = {}
    for day, state in tests:
        index = week_of(day)
        if index is not None:
            states.setdefault(index, []).append(state)
    cells = []
    for index, found in sorted(states.items()):
        worst = next(s for s in WORST_FIRST if s in found)
        count = f"{len(found)} tests" if len(found) > 1 else "1 test"
        cells.append(Cell(weeks[index].x, top + ROW_HEIGHT / 2, 0.0, worst,
                          f"{_week_label(weeks[index])}: {count}, {LABELS[worst].lower()}"))  # fmt: skip
    return Row("tests", "Drug tests", top, cells)


def _attendance_row(attendance: Sequence[tuple[date, bool]], weeks: list[Week], week_of: WeekOf, top: float) -> Row:
    tally: dict[int, list[int]] = {}
    for day, went in attendance:
        index = week_of(day)
        if index is not None:
            counts = tally.setdefault(index, [0, 0])
            counts[0] += int(went)
            counts[1] += 1
    cells = []
    for index, (attended, scheduled) in sorted(tally.items()):
        # A week with none attended keeps a sliver, so it reads as "scheduled, missed" and not as "nothing".
        height = max(round(ROW_HEIGHT * attended / scheduled, 1), 2.0)
        state = "full" if attended == scheduled else "missed"
        cells.append(Cell(weeks[index].x, round(top + ROW_HEIGHT - height, 1), height, state,
                          f"{_week_label(weeks[index])}: attended {attended} of {scheduled}"))  # fmt: skip
    return Row("attendance", "Attendance", top, cells)


def _score_row(series: ScoreSeries, weeks: list[Week], week_of: WeekOf, top: float) -> Row:
    latest: dict[int, tuple[date, int]] = {}
    for day, total in sorted(series.points):
        index = week_of(day)
        if index is not None:
            latest[index] = (day, total)  # sorted by day: the week's last score wins
    cells = []
    for index, (_, total) in sorted(latest.items()):
        share = min(max(total, 0), series.max_total) / (series.max_total or 1)
        y = round(top + ROW_HEIGHT - 3 - (ROW_HEIGHT - 6) * share, 1)
        band = series.band.get(total, "")
        cells.append(Cell(weeks[index].x, y, 0.0, "score",
                          f"{_week_label(weeks[index])}: {total}{f' ({band})' if band else ''}"))  # fmt: skip
    return Row("scores", series.label, top, cells, " ".join(f"{c.x},{c.y}" for c in cells))
