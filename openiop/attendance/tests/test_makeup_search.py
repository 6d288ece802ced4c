"""The make-up search on plain inputs: fewest sessions, never two that overlap, least surplus, and the cushion
for a week that has just lost its margin."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta

from openiop.attendance.dose import DoseStatus, evaluate_week, make_slot
from openiop.attendance.makeup import Candidate, choose_makeup

NY = zoneinfo.ZoneInfo("America/New_York")
MONDAY = date(2026, 11, 2)


def at(weekday: int, hour: int, minute: int = 0) -> datetime:
    d = MONDAY + timedelta(days=weekday)
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=NY)


def slot(i: int, weekday: int, hour: int, status: str = "", attended: int = 0):
    return make_slot(
        i,
        at(weekday, hour),
        at(weekday, hour) + timedelta(minutes=55),
        tz=NY,
        clinical_hour_minutes=50,
        record_status=status,
        minutes_attended=attended,
    )


def candidate(i: int, weekday: int, hour: int, minutes: int = 55, credited: int = 60) -> Candidate:
    return Candidate(i, at(weekday, hour), at(weekday, hour) + timedelta(minutes=minutes), credited)


def missed_wednesday():
    """Mon attended, Wed missed (3 h short), Fri still ahead: out of reach by 3 h at Wednesday noon."""
    slots = [slot(h, 0, h, "present", 55) for h in (9, 10, 11)]
    slots += [slot(10 + h, 2, h, "absent_unexcused") for h in (9, 10, 11)]
    slots += [slot(20 + h, 4, h) for h in (9, 10, 11)]
    week = evaluate_week(slots, start=MONDAY, tz=NY, now=at(2, 12, 30), full_minimum=540)
    assert week.status == DoseStatus.UNREACHABLE and week.shortfall == 180
    return week


def test_fewest_sessions_restore_reachability():
    week = missed_wednesday()
    evening = [candidate(100 + h, 3, h) for h in (18, 19, 20)]  # Thu evening, three 1 h groups
    long_one = candidate(200, 3, 13, minutes=120, credited=120)  # Thu 13:00-15:00
    chosen = choose_makeup(week, [*evening, long_one])
    assert chosen is not None and len(chosen) == 2
    assert long_one in chosen
    assert sum(c.credited for c in chosen) == 180


def test_overlapping_sessions_are_never_chosen_together():
    week = missed_wednesday()
    a = candidate(1, 3, 18, minutes=120, credited=120)  # Thu 18:00-20:00
    b = candidate(2, 3, 19, minutes=120, credited=120)  # Thu 19:00-21:00, overlaps a
    c = candidate(3, 3, 13)  # Thu 13:00, 1 h
    chosen = choose_makeup(week, [a, b, c])
    assert chosen is not None
    assert not ({1, 2} <= {x.session_id for x in chosen})
    assert sum(x.credited for x in chosen) >= 180
    assert len(chosen) == 2


def test_back_to_back_sessions_do_not_overlap():
    week = missed_wednesday()
    chosen = choose_makeup(
        week, [candidate(1, 3, 18, minutes=60), candidate(2, 3, 19, minutes=60), candidate(3, 3, 20)]
    )
    assert chosen is not None and [c.session_id for c in chosen] == [1, 2, 3]


def test_nothing_is_suggested_when_no_set_restores_the_week():
    week = missed_wednesday()
    assert choose_makeup(week, [candidate(1, 3, 18), candidate(2, 3, 19)]) is None
    assert choose_makeup(week, []) is None


def test_ties_go_to_the_least_surplus_then_the_earliest():
    week = missed_wednesday()
    big = candidate(1, 3, 9, minutes=240, credited=240)  # one session, 4 h: overshoots by 1 h
    exact = candidate(2, 3, 14, minutes=180, credited=180)  # one session, 3 h
    later_exact = candidate(3, 3, 18, minutes=180, credited=180)
    assert choose_makeup(week, [big, later_exact, exact]) == [exact]


def test_a_week_that_lost_its_margin_gets_one_session_as_a_cushion():
    slots = [slot(h, 0, h, "present", 55) for h in (9, 10, 11)]
    slots.append(slot(50, 1, 14, "absent_excused"))  # the extra Tuesday session was the margin
    slots += [slot(10 + h, 2, h) for h in (9, 10, 11)] + [slot(20 + h, 4, h) for h in (9, 10, 11)]
    week = evaluate_week(slots, start=MONDAY, tz=NY, now=at(1, 16), full_minimum=540)
    assert week.status == DoseStatus.AT_RISK
    short = candidate(1, 3, 18, minutes=30, credited=30)
    hour = candidate(2, 3, 19)
    chosen = choose_makeup(week, [hour, short])
    # The least that lifts it: with the half hour booked, the week survives missing its smallest session.
    assert chosen == [short]
    added = make_slot(1, short.starts_at, short.ends_at, tz=NY, clinical_hour_minutes=50)
    again = evaluate_week([*slots, added], start=MONDAY, tz=NY, now=at(1, 16), full_minimum=540)
    assert again.status == DoseStatus.ON_TRACK


def test_chosen_sessions_really_restore_the_week_when_added():
    week = missed_wednesday()
    pool = [candidate(100 + h, 3, h) for h in (13, 14, 18, 19, 20)] + [candidate(200, 5, 10, minutes=110, credited=120)]
    chosen = choose_makeup(week, pool)
    assert chosen is not None and len(chosen) == 2
    added = [make_slot(c.session_id, c.starts_at, c.ends_at, tz=NY, clinical_hour_minutes=50) for c in chosen]
    again = evaluate_week([*week.slots, *added], start=MONDAY, tz=NY, now=at(2, 12, 30), full_minimum=540)
    assert again.reachable


def test_weeks_on_track_tight_or_met_need_no_make_up():
    slots = [slot(h, d, h) for d in (0, 2, 4) for h in (9, 10, 11)]
    tight = evaluate_week(slots, start=MONDAY, tz=NY, now=at(0, 8), full_minimum=540)
    assert tight.status == DoseStatus.TIGHT
    assert choose_makeup(tight, [candidate(1, 3, 18)]) == []


def test_the_search_stays_small_with_many_candidates():
    week = missed_wednesday()
    many = [candidate(i, 3 + i % 3, 8 + i // 3, minutes=55) for i in range(36)]
    chosen = choose_makeup(week, many)
    assert chosen is not None and len(chosen) == 3
