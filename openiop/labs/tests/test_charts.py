"""The geometry of the Drug testing tab's pictures (pure): the strip, and the course at a glance, whose rows of
tests, attendance and scores share one axis of weeks."""

from __future__ import annotations

from datetime import date, timedelta

from openiop.labs import charts

MON = date(2026, 11, 2)  # a Monday
PHQ9 = {3: "Minimal", 12: "Moderate", 20: "Severe"}


def _phq9(*points: tuple[date, int]) -> charts.ScoreSeries:
    return charts.ScoreSeries("PHQ-9", 27, points, PHQ9)


def test_the_rows_share_the_weeks_from_the_first_to_the_last():
    course = charts.course(
        [(MON + timedelta(days=11), charts.EXPECTED)],  # Friday of the second week
        [(MON + timedelta(days=15), True)],  # Tuesday of the third
        [_phq9((MON + timedelta(days=2), 12))],  # Wednesday of the first
    )
    assert [w.start for w in course.weeks] == [MON, MON + timedelta(weeks=1), MON + timedelta(weeks=2)]
    column = (640 - 8 - charts.LABEL_WIDTH) / 3
    assert [w.x for w in course.weeks] == [round(charts.LABEL_WIDTH + column * (i + 0.5), 1) for i in range(3)]
    tests, attendance, phq9 = course.rows
    assert [r.kind for r in course.rows] == ["tests", "attendance", "scores"] and phq9.label == "PHQ-9"
    assert [c.x for c in tests.cells] == [course.weeks[1].x]
    assert [c.x for c in attendance.cells] == [course.weeks[2].x]
    assert [c.x for c in phq9.cells] == [course.weeks[0].x]
    # Rows stack without overlapping, and the picture is tall enough for the last one and the week labels.
    assert tests.top < attendance.top < phq9.top and course.height >= phq9.top + charts.ROW_HEIGHT
    assert course.ticks[-1] == (course.weeks[-1].x, "Nov 16")


def test_a_week_of_tests_shows_its_most_concerning_result():
    course = charts.course(
        [(MON, charts.EXPECTED), (MON + timedelta(days=3), charts.UNEXPECTED),
         (MON + timedelta(days=8), charts.PENDING), (MON + timedelta(days=9), charts.REFUSED)],
        [], [],
    )  # fmt: skip
    cells = course.rows[0].cells
    assert [c.state for c in cells] == [charts.UNEXPECTED, charts.REFUSED]
    assert cells[0].title == "week of Nov 2: 2 tests, unexpected result"


def test_attendance_is_a_bar_of_the_share_attended():
    week2 = MON + timedelta(weeks=1)
    week3 = MON + timedelta(weeks=2)
    course = charts.course(
        [],
        [(MON, True), (MON, False), (MON + timedelta(days=2), True), (MON + timedelta(days=2), False),
         (week2, False), (week2 + timedelta(days=1), False), (week2 + timedelta(days=2), False),
         (week3, True)],
        [],
    )  # fmt: skip
    row = course.rows[1]
    half, none, full = row.cells
    assert (half.height, half.y, half.state) == (12.0, row.top + 12.0, "missed")
    assert half.title == "week of Nov 2: attended 2 of 4"
    assert (none.height, none.title) == (2.0, "week of Nov 9: attended 0 of 3")  # a sliver, not nothing
    assert (full.height, full.y, full.state) == (charts.ROW_HEIGHT, row.top, "full")


def test_a_score_row_keeps_the_latest_score_of_each_week_on_its_own_scale():
    course = charts.course([], [], [_phq9((MON + timedelta(days=4), 3), (MON, 20), (MON + timedelta(days=7), 40))])
    row = course.rows[2]
    first, second = row.cells
    assert first.title == "week of Nov 2: 3 (Minimal)"  # Friday's 3, not Monday's 20
    assert first.y == round(row.top + charts.ROW_HEIGHT - 3 - (charts.ROW_HEIGHT - 6) * 3 / 27, 1)
    assert second.y == row.top + 3  # clipped to the top of the scale
    assert row.polyline == f"{first.x},{first.y} {second.x},{second.y}"


def test_only_the_latest_weeks_are_drawn():
    tests = [(MON + timedelta(weeks=i), charts.EXPECTED) for i in range(30)]
    course = charts.course(tests, [], [], max_weeks=16)
    assert len(course.weeks) == 16 and course.weeks[0].start == MON + timedelta(weeks=14)
    assert len(course.rows[0].cells) == 16


def test_nothing_recorded_draws_nothing():
    course = charts.course([], [], [])
    assert (course.weeks, course.rows, course.height) == ([], [], 0)
