from datetime import UTC, date, time, timedelta

import pytest

from openiop.lib.recurrence import RecurrenceError, expand, validate, wall_clock

WEEKDAYS_9AM = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU"


def _local_times(occurrences):
    return {(o.date(), o.strftime("%H:%M")) for o in occurrences}


@pytest.mark.parametrize(
    ("tz", "week_start", "change_day"),
    [
        ("America/New_York", date(2026, 3, 5), date(2026, 3, 8)),  # spring forward
        ("America/New_York", date(2026, 10, 29), date(2026, 11, 1)),  # fall back
        ("Europe/London", date(2026, 3, 26), date(2026, 3, 29)),  # spring forward
        ("Europe/London", date(2026, 10, 22), date(2026, 10, 25)),  # fall back
    ],
)
def test_nine_oclock_stays_nine_oclock_across_the_change(tz, week_start, change_day):
    occurrences = expand(WEEKDAYS_9AM, week_start, time(9), tz, (week_start, week_start + timedelta(days=6)))

    assert len(occurrences) == 7
    assert all(o.strftime("%H:%M") == "09:00" for o in occurrences)
    assert all(str(o.tzinfo) == tz for o in occurrences)
    before = next(o for o in occurrences if o.date() == change_day - timedelta(days=1))
    after = next(o for o in occurrences if o.date() == change_day + timedelta(days=1))
    # The UTC instant moves by an hour, because the wall clock does not.
    elapsed = after.astimezone(UTC) - before.astimezone(UTC)
    assert abs(elapsed - timedelta(days=2)) == timedelta(hours=1)


@pytest.mark.parametrize(
    ("tz", "day", "gap_time", "expected"),
    [
        ("America/New_York", date(2026, 3, 8), time(2, 30), "03:30"),
        ("Europe/London", date(2026, 3, 29), time(1, 30), "02:30"),
    ],
)
def test_a_time_in_the_spring_forward_gap_moves_forward_past_the_gap(tz, day, gap_time, expected):
    occurrences = expand("FREQ=DAILY", day - timedelta(days=1), gap_time, tz, (day - timedelta(days=1), day))

    assert [o.strftime("%H:%M") for o in occurrences] == [gap_time.strftime("%H:%M"), expected]
    assert occurrences[1].date() == day


@pytest.mark.parametrize(
    ("tz", "day", "repeated", "first_offset_hours"),
    [
        ("America/New_York", date(2026, 11, 1), time(1, 30), -4),
        ("Europe/London", date(2026, 10, 25), time(1, 30), 1),
    ],
)
def test_an_ambiguous_fall_back_time_is_the_first_one(tz, day, repeated, first_offset_hours):
    [occurrence] = expand("FREQ=DAILY", day, repeated, tz, (day, day))

    assert occurrence.strftime("%H:%M") == "01:30"
    assert occurrence.utcoffset() == timedelta(hours=first_offset_hours)
    assert occurrence.fold == 0


def test_window_and_until_limit_the_occurrences():
    rule = "FREQ=WEEKLY;BYDAY=MO,WE,FR"
    occurrences = expand(
        rule,
        date(2026, 1, 5),
        time(18),
        "America/New_York",
        (date(2026, 1, 7), date(2026, 2, 28)),
        until=date(2026, 1, 16),
    )

    assert [o.date() for o in occurrences] == [date(2026, 1, d) for d in (7, 9, 12, 14, 16)]


def test_nothing_before_the_first_day():
    occurrences = expand(
        "FREQ=WEEKLY;BYDAY=MO", date(2026, 1, 12), time(9), "UTC", (date(2026, 1, 1), date(2026, 1, 31))
    )

    assert [o.date() for o in occurrences] == [date(2026, 1, 12), date(2026, 1, 19), date(2026, 1, 26)]


def test_the_rrule_prefix_and_lower_case_are_accepted():
    assert validate("rrule:freq=weekly;byday=mo") == "FREQ=WEEKLY;BYDAY=MO"


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("FREQ=FORTNIGHTLY", "FREQ=FORTNIGHTLY"),
        ("BYDAY=MO", "BYDAY=MO"),
        ("FREQ=HOURLY", "daily, weekly, monthly or yearly"),
        ("FREQ=WEEKLY;BYHOUR=9", "BYHOUR"),
        ("", "empty"),
    ],
)
def test_a_bad_rule_is_refused_with_an_error_naming_it(rule, fragment):
    with pytest.raises(RecurrenceError) as excinfo:
        validate(rule)

    assert fragment in str(excinfo.value)


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(RecurrenceError, match="Mars/Olympus"):
        expand("FREQ=DAILY", date(2026, 1, 1), time(9), "Mars/Olympus", (date(2026, 1, 1), date(2026, 1, 2)))


def test_wall_clock_places_a_local_time_in_the_zone():
    when = wall_clock(date(2026, 7, 1), time(9), "Europe/London")

    assert when.utcoffset() == timedelta(hours=1)
    assert when.hour == 9
