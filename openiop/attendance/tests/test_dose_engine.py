"""The pure dose engine on hand-worked weeks: clinical-hour rounding, week boundaries across DST, proration for
people who join or leave mid-week, and reachability / at-risk as the week goes on. No database."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest

from openiop.attendance.dose import (
    DayState,
    DoseStatus,
    credited_minutes,
    episode_week_starts,
    evaluate_week,
    hours_label,
    make_slot,
    prorated_minimum,
    week_bounds,
    week_start_for,
)
from openiop.patients.models import EpisodeOfCare

NY = zoneinfo.ZoneInfo("America/New_York")
MIN_9H = 540
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


class Week:
    """A Mon/Wed/Fri day-track week (09:00-12:00 as three 55-minute blocks) built slot by slot."""

    def __init__(self, monday: date, clinical_hour: int = 50) -> None:
        self.monday = monday
        self.clinical_hour = clinical_hour
        self.slots: list = []

    def block(
        self, weekday: int, hour: int, *, minutes: int = 55, status: str = "", attended: int = 0, minute: int = 0
    ):
        day = self.monday + timedelta(days=weekday)
        start = at(day, hour, minute)
        slot = make_slot(
            len(self.slots) + 1,
            start,
            start + timedelta(minutes=minutes),
            tz=NY,
            clinical_hour_minutes=self.clinical_hour,
            record_status=status,
            minutes_attended=attended,
        )
        self.slots.append(slot)
        return slot

    def day(self, weekday: int, status: str = "", attended: int = 55):
        for hour in (9, 10, 11):
            self.block(weekday, hour, status=status, attended=attended if status in ("present", "late") else 0)

    def evaluate(self, now: datetime, **kwargs):
        kwargs.setdefault("full_minimum", MIN_9H)
        return evaluate_week(self.slots, start=self.monday, tz=NY, now=now, **kwargs)


# --- Clinical hours -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "clinical_hour", "credited"),
    [
        (55, 50, 60),  # a 55-minute group is a clinical hour
        (50, 50, 60),
        (49, 50, 49),
        (45, 50, 45),  # ten minutes late to a 55-minute group: 0.75 h
        (110, 50, 120),  # 1 h 50: two hours
        (100, 50, 100),  # 1 h 40: 1 h and 40 minutes
        (180, 50, 180),
        (0, 50, 0),
        (55, 60, 55),  # 60 = clock time
        (119, 60, 119),
        (120, 60, 120),
    ],
)
def test_clinical_hour_rounding(minutes, clinical_hour, credited):
    assert credited_minutes(minutes, clinical_hour) == credited


def test_three_55_minute_blocks_on_mon_wed_fri_make_nine_hours():
    week = Week(date(2026, 11, 2))
    for weekday in (MON, WED, FRI):
        week.day(weekday)
    dose = week.evaluate(at(date(2026, 11, 1), 12))
    assert dose.scheduled == MIN_9H
    assert dose.scheduled_hours == "9"
    assert dose.attended == 0 and dose.remaining == MIN_9H
    assert dose.reachable


def test_with_clock_time_the_same_week_is_only_eight_and_a_quarter_hours():
    week = Week(date(2026, 11, 2), clinical_hour=60)
    for weekday in (MON, WED, FRI):
        week.day(weekday)
    dose = week.evaluate(at(date(2026, 11, 1), 12))
    assert dose.scheduled == 9 * 55
    assert dose.scheduled_hours == "8.25"
    assert dose.status == DoseStatus.UNREACHABLE  # the schedule itself falls short of 9 h


def test_hours_label_reads_like_people_write_hours():
    assert [hours_label(m) for m in (540, 525, 45, 0, 20)] == ["9", "8.75", "0.75", "0", "0.33"]


# --- Week boundaries ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "starts_on", "expected"),
    [
        (date(2026, 3, 11), MON, date(2026, 3, 9)),  # a Wednesday
        (date(2026, 3, 11), SUN, date(2026, 3, 8)),
        (date(2026, 3, 8), MON, date(2026, 3, 2)),  # a Sunday is the end of a Monday week
        (date(2026, 3, 8), SUN, date(2026, 3, 8)),  # and the start of a Sunday week
        (date(2026, 3, 9), MON, date(2026, 3, 9)),
        (date(2026, 3, 14), SAT, date(2026, 3, 14)),
    ],
)
def test_week_start_follows_the_policy(day, starts_on, expected):
    assert week_start_for(day, starts_on) == expected


@pytest.mark.parametrize(
    ("start", "hours"),
    [
        (date(2026, 3, 2), 167),  # Monday week holding the spring-forward Sunday (8 March 2026)
        (date(2026, 3, 8), 167),  # Sunday week starting on it
        (date(2026, 3, 9), 168),
        (date(2026, 10, 26), 169),  # Monday week holding the fall-back Sunday (1 November 2026)
        (date(2026, 11, 1), 169),  # Sunday week starting on it
        (date(2026, 11, 2), 168),
    ],
)
def test_dst_weeks_have_167_or_169_hours(start, hours):
    begin, end = week_bounds(start, NY)
    assert (end - begin) == timedelta(hours=hours)
    assert begin.astimezone(NY).hour == 0 and end.astimezone(NY).hour == 0


def test_spring_forward_week_buckets_by_local_day_not_by_168_hours():
    monday = date(2026, 3, 2)
    week = Week(monday)
    sunday_night = week.block(SUN, 23)  # Sun 8 March 23:00 EDT: still this week
    next_monday = make_slot(
        99, at(date(2026, 3, 9), 0, 30), at(date(2026, 3, 9), 1, 25), tz=NY, clinical_hour_minutes=50
    )
    # Monday 00:30 EDT is less than 168 h after Monday 2 March 00:00 EST, yet it belongs to the next week.
    assert next_monday.starts_at - at(monday, 0).astimezone(UTC) < timedelta(hours=168)
    week.slots.append(next_monday)
    dose = week.evaluate(at(monday, 8))
    assert [s.session_id for s in dose.slots] == [sunday_night.session_id]
    following = evaluate_week(week.slots, start=date(2026, 3, 9), tz=NY, now=at(monday, 8), full_minimum=MIN_9H)
    assert [s.session_id for s in following.slots] == [99]


def test_fall_back_week_keeps_sunday_night_in_the_week():
    monday = date(2026, 10, 26)
    week = Week(monday)
    late = week.block(SUN, 23, minute=30, minutes=25)  # Sun 1 November 23:30 EST
    # More than 168 h after the week began (the week has 169), still the same week.
    assert late.starts_at - at(monday, 0).astimezone(UTC) > timedelta(hours=168)
    dose = week.evaluate(at(monday, 8))
    assert [s.session_id for s in dose.slots] == [late.session_id]
    assert dose.ends_at == at(date(2026, 11, 2), 0)
    assert not week.evaluate(at(date(2026, 11, 1), 23, 59)).closed
    assert week.evaluate(at(date(2026, 11, 2), 0)).closed


def test_a_sunday_week_holds_sunday_to_saturday_across_spring_forward():
    sunday = date(2026, 3, 8)
    slots = [
        make_slot(i, at(d, 9), at(d, 9, 55), tz=NY, clinical_hour_minutes=50)
        for i, d in enumerate([date(2026, 3, 7), sunday, date(2026, 3, 11), date(2026, 3, 14), date(2026, 3, 15)])
    ]
    dose = evaluate_week(slots, start=sunday, tz=NY, now=at(sunday, 1), full_minimum=MIN_9H)
    assert [s.local_day for s in dose.slots] == [sunday, date(2026, 3, 11), date(2026, 3, 14)]
    assert [c.day.weekday() for c in dose.days()] == [SUN, MON, TUE, WED, THU, FRI, SAT]


# --- Proration ----------------------------------------------------------------------------------------------------


def test_a_person_who_joins_on_wednesday_owes_two_of_three_track_days():
    p = prorated_minimum(MIN_9H, date(2026, 11, 2), first_day=date(2026, 11, 4), last_day=None, meeting_days=[0, 2, 4])
    assert (p.minimum, p.due_days, p.week_days, p.is_partial) == (360, 2, 3, True)


def test_joining_on_tuesday_also_owes_two_track_days():
    p = prorated_minimum(MIN_9H, date(2026, 11, 2), first_day=date(2026, 11, 3), last_day=None, meeting_days=[0, 2, 4])
    assert p.minimum == 360


def test_joining_on_saturday_owes_nothing_that_week():
    p = prorated_minimum(MIN_9H, date(2026, 11, 2), first_day=date(2026, 11, 7), last_day=None, meeting_days=[0, 2, 4])
    assert p.minimum == 0


def test_without_a_track_proration_uses_calendar_days_rounded_to_a_minute():
    p = prorated_minimum(MIN_9H, date(2026, 11, 2), first_day=date(2026, 11, 5), last_day=None)
    assert (p.due_days, p.week_days) == (4, 7)
    assert p.minimum == 309  # 540 x 4 / 7 = 308.57


def test_discharge_on_wednesday_owes_monday_and_wednesday():
    p = prorated_minimum(MIN_9H, date(2026, 11, 2), first_day=None, last_day=date(2026, 11, 4), meeting_days=[0, 2, 4])
    assert p.minimum == 360


def test_joining_and_leaving_in_the_same_week():
    p = prorated_minimum(
        MIN_9H, date(2026, 11, 2), first_day=date(2026, 11, 3), last_day=date(2026, 11, 5), meeting_days=[0, 2, 4]
    )
    assert p.minimum == 180


def test_evening_track_joiner_in_a_sunday_week():
    # Mon/Tue/Thu evening track, Sunday weeks: joining on Tuesday leaves Tue and Thu of Mon, Tue, Thu.
    p = prorated_minimum(MIN_9H, date(2026, 11, 1), first_day=date(2026, 11, 3), last_day=None, meeting_days=[0, 1, 3])
    assert p.minimum == 360


# --- Reachability through the week --------------------------------------------------------------------------------


@pytest.fixture
def monday():
    return date(2026, 11, 2)


def test_before_the_week_a_three_by_three_schedule_is_on_plan_with_no_margin(monday):
    week = Week(monday)
    for weekday in (MON, WED, FRI):
        week.day(weekday)
    dose = week.evaluate(at(monday, 8))
    assert dose.reachable
    assert dose.status == DoseStatus.TIGHT
    assert not dose.at_risk


def test_a_missed_wednesday_makes_the_week_unreachable_at_once(monday):
    week = Week(monday)
    week.day(MON, "present")
    week.day(WED, "absent_unexcused")
    week.day(FRI)
    dose = week.evaluate(at(monday + timedelta(days=2), 13))
    assert (dose.attended, dose.remaining, dose.minimum) == (180, 180, MIN_9H)
    assert not dose.reachable
    assert dose.status == DoseStatus.UNREACHABLE and dose.at_risk
    assert dose.shortfall == 180 and dose.shortfall_hours == "3"


def test_ten_minutes_late_leaves_the_week_a_quarter_hour_short(monday):
    week = Week(monday)
    week.block(MON, 9, status="late", attended=45)
    week.block(MON, 10, status="present", attended=55)
    week.block(MON, 11, status="present", attended=55)
    week.day(WED)
    week.day(FRI)
    dose = week.evaluate(at(monday, 13))
    assert dose.attended == 165
    assert dose.slots[0].attended == 45  # 0.75 h
    assert dose.remaining == 360
    assert dose.shortfall == 15
    assert dose.status == DoseStatus.UNREACHABLE


def test_an_extra_session_gives_margin_until_a_miss_uses_it(monday):
    week = Week(monday)
    week.day(MON, "present")
    extra = week.block(TUE, 14, minutes=55)  # an individual session: 10 h scheduled
    week.day(WED)
    week.day(FRI)
    assert week.evaluate(at(monday, 13)).status == DoseStatus.ON_TRACK
    week.slots[week.slots.index(extra)] = make_slot(
        extra.session_id,
        extra.starts_at,
        extra.ends_at,
        tz=NY,
        clinical_hour_minutes=50,
        record_status="absent_excused",
    )
    dose = week.evaluate(at(monday + timedelta(days=1), 16))
    assert (dose.attended, dose.remaining, dose.lost) == (180, 360, 60)
    assert dose.reachable
    assert dose.status == DoseStatus.AT_RISK and dose.at_risk


def test_the_last_remaining_session_decides_the_week(monday):
    friday = monday + timedelta(days=4)
    week = Week(monday)
    week.block(MON, 9, status="absent_unexcused")
    week.block(MON, 10, status="present", attended=55)
    week.block(MON, 11, status="present", attended=55)
    week.block(TUE, 14, status="present", attended=55)
    week.day(WED, "present")
    week.block(FRI, 9, status="present", attended=55)
    week.block(FRI, 10, status="present", attended=55)
    last = week.block(FRI, 11)
    dose = week.evaluate(at(friday, 11, 5))
    assert (dose.attended, dose.remaining, dose.smallest_remaining) == (480, 60, 60)
    assert dose.reachable and dose.status == DoseStatus.AT_RISK

    def with_last(status: str, attended: int = 0):
        slots = [s for s in week.slots if s is not last]
        slots.append(
            make_slot(
                last.session_id,
                last.starts_at,
                last.ends_at,
                tz=NY,
                clinical_hour_minutes=50,
                record_status=status,
                minutes_attended=attended,
            )
        )
        return evaluate_week(slots, start=monday, tz=NY, now=at(friday, 12), full_minimum=MIN_9H)

    assert with_last("present", 55).status == DoseStatus.MET
    assert with_last("left_early", 30).status == DoseStatus.UNREACHABLE
    absent = with_last("absent_unexcused")
    assert absent.status == DoseStatus.UNREACHABLE
    assert (
        evaluate_week(
            absent.slots, start=monday, tz=NY, now=at(monday + timedelta(days=7), 0), full_minimum=MIN_9H
        ).status
        == DoseStatus.MISSED
    )


def test_a_session_over_without_a_record_is_not_remaining(monday):
    week = Week(monday)
    week.day(MON)  # nobody recorded Monday yet
    week.day(WED)
    week.day(FRI)
    dose = week.evaluate(at(monday, 13))
    assert (dose.attended, dose.remaining, dose.unrecorded) == (0, 360, 180)
    assert dose.status == DoseStatus.UNREACHABLE
    assert dose.days()[MON].state == DayState.UNRECORDED


def test_a_session_in_progress_without_a_record_is_still_remaining(monday):
    week = Week(monday)
    week.day(MON)
    dose = week.evaluate(at(monday, 9, 30), full_minimum=180)
    assert dose.remaining == 180


def test_a_mid_week_joiner_is_measured_against_the_prorated_minimum(monday):
    week = Week(monday)
    week.day(WED)
    week.day(FRI)
    now = at(monday + timedelta(days=2), 8)
    dose = week.evaluate(now, first_day=monday + timedelta(days=2), meeting_days=[0, 2, 4])
    assert dose.minimum == 360 and dose.full_minimum == MIN_9H
    assert dose.status == DoseStatus.TIGHT  # 6 h booked for 6 h due
    assert [c.state for c in dose.days()][:2] == [DayState.OUTSIDE, DayState.OUTSIDE]
    # Against the full 9 h (no proration) the same person would look out of reach from the first day.
    assert week.evaluate(now).status == DoseStatus.UNREACHABLE


def test_a_mid_week_joiner_who_misses_a_block_is_at_risk(monday):
    week = Week(monday)
    week.block(WED, 9, status="absent_excused")
    week.block(WED, 10, status="present", attended=55)
    week.block(WED, 11, status="present", attended=55)
    week.block(THU, 18)  # a make-up already booked
    week.day(FRI)
    dose = week.evaluate(
        at(monday + timedelta(days=2), 13), first_day=monday + timedelta(days=2), meeting_days=[0, 2, 4]
    )
    assert (dose.minimum, dose.attended, dose.remaining) == (360, 120, 240)
    assert dose.status == DoseStatus.AT_RISK


def test_met_early_stays_met_whatever_follows(monday):
    week = Week(monday)
    week.day(MON, "present")
    week.day(TUE, "present")
    week.day(WED, "present")
    week.day(FRI, "absent_unexcused")
    dose = week.evaluate(at(monday + timedelta(days=4), 13))
    assert dose.status == DoseStatus.MET and dose.met


def test_heatmap_day_states(monday):
    week = Week(monday)
    week.day(MON, "present")
    week.block(TUE, 9, status="present", attended=55)
    week.block(TUE, 10, status="absent_excused")
    week.day(WED, "absent_unexcused")
    week.block(THU, 9)  # over, unrecorded
    week.day(FRI)
    states = [c.state for c in week.evaluate(at(monday + timedelta(days=3), 13)).days()]
    assert states == [
        DayState.ATTENDED,
        DayState.PARTIAL,
        DayState.MISSED,
        DayState.UNRECORDED,
        DayState.UPCOMING,
        DayState.NONE,
        DayState.NONE,
    ]


def test_a_cancelled_by_program_record_is_not_a_slot_but_absences_are():
    start = at(date(2026, 11, 2), 9)
    absent = make_slot(
        1, start, start + timedelta(minutes=55), tz=NY, clinical_hour_minutes=50, record_status="absent_unexcused"
    )
    assert (absent.scheduled, absent.attended) == (60, 0)


# --- Episode weeks ------------------------------------------------------------------------------------------------


def _episode(admitted_on, discharged_on=None):
    return EpisodeOfCare(admitted_on=admitted_on, discharged_on=discharged_on)  # unsaved: a plain value here


def test_episode_weeks_run_from_admission_week_to_this_week():
    weeks = episode_week_starts(_episode(date(2026, 11, 4)), [], today=date(2026, 11, 18), week_starts_on=MON)
    assert weeks == [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]


def test_episode_weeks_stop_at_discharge_and_start_earlier_only_for_earlier_sessions():
    early = make_slot(1, at(date(2026, 10, 28), 9), at(date(2026, 10, 28), 10), tz=NY, clinical_hour_minutes=50)
    weeks = episode_week_starts(
        _episode(date(2026, 11, 4), discharged_on=date(2026, 11, 10)),
        [early],
        today=date(2026, 12, 1),
        week_starts_on=SUN,
    )
    assert weeks == [date(2026, 10, 25), date(2026, 11, 1), date(2026, 11, 8)]
