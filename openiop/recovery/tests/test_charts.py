"""The tab's charts as pure geometry: meetings counted per Monday-to-Sunday week, the empty weeks kept in place,
the bars scaled to the busiest week (at least 3); the capital lines spaced by date with a single check-in centred."""

from __future__ import annotations

from datetime import date

from openiop.recovery.charts import capital_chart, meetings_per_week

TODAY = date(2026, 12, 9)  # a Wednesday


def test_meetings_are_counted_per_week_ending_with_todays():
    days = [date(2026, 12, 7), date(2026, 12, 9), date(2026, 11, 30), date(2026, 11, 1), date(2026, 12, 10)]
    strip = meetings_per_week(days, today=TODAY, weeks=4)
    assert [(b.week_of, b.count) for b in strip.bars] == [
        (date(2026, 11, 16), 0), (date(2026, 11, 23), 0), (date(2026, 11, 30), 1), (date(2026, 12, 7), 2),
    ]  # fmt: skip
    assert strip.total == 3  # before the window and after today: left out
    one, two = strip.bars[2], strip.bars[3]
    assert abs(two.height - 2 * one.height) <= 0.1 and two.y + two.height == strip.baseline
    assert "week of Dec 7: 2" in strip.description


def test_a_busy_week_is_the_full_bar_and_a_quiet_one_is_not():
    strip = meetings_per_week([TODAY] * 5 + [date(2026, 11, 30)], today=TODAY, weeks=2)
    assert strip.bars[1].height == strip.baseline - 12 and abs(strip.bars[0].height - strip.bars[1].height / 5) <= 0.1
    alone = meetings_per_week([TODAY], today=TODAY, weeks=1)
    assert alone.bars[0].height == round((alone.baseline - 12) / 3, 1)


def test_capital_lines_are_spaced_by_date_and_rated_1_to_5():
    chart = capital_chart([(date(2026, 12, 1), [5, 1]), (date(2026, 11, 1), [1, 3])], ["Social", "Physical"])
    social, physical = chart.lines
    assert [p.value for p in social.points] == [1, 5] and [p.value for p in physical.points] == [3, 1]
    assert social.points[0].y == chart.bottom and social.points[1].y == chart.top
    assert social.points[0].x < social.points[1].x
    assert "Social: Nov 1 1, Dec 1 5" in chart.description
    single = capital_chart([(TODAY, [3, 3])], ["Social", "Physical"])
    assert single.lines[0].points[0].x == round((single.left + single.right) / 2, 1)
    assert capital_chart([], ["Social"]).empty
