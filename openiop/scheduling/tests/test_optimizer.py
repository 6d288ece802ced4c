"""The placement optimizer on small cases that can be checked by hand (no database)."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from openiop.scheduling.optimizer import (
    Admission,
    Block,
    GroupSpec,
    TrackSpec,
    _Problem,
    clinical_mismatch,
    greedy_place,
    merge_windows,
    place,
)

MON, TUE, WED, THU, FRI, SAT = range(6)
DAY = TrackSpec("day", "Day track", "day", "adult", "mental_health", Decimal("9"))
EVENING = TrackSpec("eve", "Evening track", "evening", "adult", "mental_health", Decimal("9"))


def blocks(days: tuple[int, ...], start: time, end: time) -> tuple[Block, ...]:
    return tuple(Block(d, start, end) for d in days)


def group(gid: str, track: TrackSpec, days: tuple[int, ...], start: time, end: time, seats: int = 8) -> GroupSpec:
    return GroupSpec(gid, track.id, gid.upper(), blocks(days, start, end), seats)


DAY_GROUP = group("d1", DAY, (MON, WED, FRI), time(9), time(12))  # 9.0 h
EVENING_GROUP = group("e1", EVENING, (MON, TUE, THU), time(18), time(21))  # 9.0 h
WEEKDAYS = (MON, TUE, WED, THU, FRI)
ALL_DAY = blocks(WEEKDAYS, time(8), time(22))
EVENINGS = blocks(WEEKDAYS, time(17), time(22))
MORNINGS = blocks(WEEKDAYS, time(8), time(13))


def person(pid: str, availability: tuple[Block, ...] = ALL_DAY, **fields: object) -> Admission:
    values: dict = {"population": "adult", "focus": "mental_health", "availability": availability}
    values.update(fields)
    return Admission(pid, **values)


def test_a_worker_goes_to_the_evening_track_with_a_reason():
    result = place([person("ann", EVENINGS)], [DAY, EVENING], [DAY_GROUP, EVENING_GROUP])
    ann = result.by_id["ann"]
    assert result.status == "OPTIMAL"
    assert (ann.track_id, ann.group_ids, ann.weekly_hours) == ("eve", ("e1",), 9.0)
    assert ann.reason == "Evening track: 9.0 h/week within your availability"


def test_preference_decides_between_two_feasible_tracks():
    tracks, groups = [DAY, EVENING], [DAY_GROUP, EVENING_GROUP]
    evening = place([person("ann", preferred_kind="evening")], tracks, groups).by_id["ann"]
    day = place([person("ann", preferred_kind="day")], tracks, groups).by_id["ann"]
    assert evening.track_id == "eve"
    assert evening.reason == "Evening track: 9.0 h/week within your availability; preferred evening"
    assert day.track_id == "day"
    assert day.reason == "Day track: 9.0 h/week within your availability; preferred day"


def test_an_unmet_preference_is_explained():
    result = place([person("ann", MORNINGS, preferred_kind="evening")], [DAY, EVENING], [DAY_GROUP, EVENING_GROUP])
    assert result.by_id["ann"].reason == (
        "Day track: 9.0 h/week within your availability; preferred evening, but no evening track could take them"
    )


def test_no_track_within_availability_says_why_for_each_track():
    tuesday_mornings = (Block(TUE, time(8), time(12)),)
    ann = place([person("ann", tuesday_mornings)], [DAY, EVENING], [DAY_GROUP, EVENING_GROUP]).by_id["ann"]
    assert not ann.placed
    assert ann.reason == "no track reaches 9 h within availability"
    assert ann.details == (
        "Day track: meets Mon 09:00 outside availability",
        "Evening track: meets Mon 18:00 outside availability",
    )


def test_partial_availability_reports_the_hours_that_fit():
    short_friday = (*blocks((MON, WED), time(8), time(13)), Block(FRI, time(8), time(10)))
    ann = place([person("ann", short_friday)], [DAY], [DAY_GROUP, group("d2", DAY, (MON, WED), time(9), time(12))])
    assert ann.by_id["ann"].reason == "no track reaches 9 h within availability"
    assert ann.by_id["ann"].details == ("Day track: only 6.0 h of 9.0 h within availability",)


@pytest.mark.parametrize(
    ("population", "focus", "track", "reason"),
    [
        ("adult", "mental_health", TrackSpec("t", "Teen track", "day", "adolescent", "mental_health", 6),
         "adolescent programs only"),
        ("adolescent", "mental_health", DAY, "adult programs only"),
        ("adult", "substance_use", DAY, "mental health programs only"),
        ("adult", "mental_health", TrackSpec("t", "SU track", "day", "adult", "substance_use", 9),
         "substance use programs only"),
    ],
)  # fmt: skip
def test_clinical_fit_is_a_hard_constraint(population, focus, track, reason):
    g = group("g", track, (MON, WED, FRI), time(9), time(12))
    ann = place([person("ann", population=population, focus=focus)], [track], [g]).by_id["ann"]
    assert not ann.placed
    assert ann.reason == reason
    assert ann.details == (f"{track.name}: {reason}",)


def test_co_occurring_fits_either_focus():
    su = TrackSpec("su", "SU track", "day", "adult", "substance_use", 9)
    assert clinical_mismatch(person("a", focus="co_occurring"), DAY) == ""
    assert clinical_mismatch(person("a", focus="co_occurring"), su) == ""
    assert clinical_mismatch(person("a", focus="substance_use"), su) == ""
    cod = TrackSpec("cod", "COD track", "day", "adult", "co_occurring", 9)
    assert clinical_mismatch(person("a", focus="mental_health"), cod) == ""


def test_capacity_binds_and_the_earliest_on_the_waitlist_keep_the_seats():
    seats_two = group("d1", DAY, (MON, WED, FRI), time(9), time(12), seats=2)
    people = [person("ann"), person("bob"), person("cy")]
    result = place(people, [DAY], [seats_two])
    assert result.status == "OPTIMAL"
    assert result.placed_count == 2
    assert [p.placed for p in result.placements] == [True, True, False]
    assert result.by_id["cy"].reason == "all fitting groups are full"
    assert result.by_id["cy"].details == ("Day track: all fitting groups are full",)


def test_capacity_sends_the_flexible_person_elsewhere_so_everyone_is_placed():
    # Greedy order would give the only day seat to the flexible person first and strand the morning person.
    one_seat = group("d1", DAY, (MON, WED, FRI), time(9), time(12), seats=1)
    people = [person("flex", preferred_kind="day"), person("morning", MORNINGS)]
    result = place(people, [DAY, EVENING], [one_seat, EVENING_GROUP])
    assert result.placed_count == 2
    assert result.by_id["morning"].track_id == "day"
    assert result.by_id["flex"].track_id == "eve"
    assert greedy_place(people, [DAY, EVENING], [one_seat, EVENING_GROUP]).placed_count == 1


def test_overlapping_groups_are_never_combined():
    early = group("a", DAY, (MON, WED, FRI), time(9), time(10, 30))  # 4.5 h
    late = group("b", DAY, (MON, WED, FRI), time(10), time(11, 30))  # 4.5 h, overlaps a
    ann = place([person("ann")], [DAY], [early, late]).by_id["ann"]
    assert not ann.placed
    assert ann.details == ("Day track: only 4.5 h of 9.0 h within availability",)
    tuesday = group("c", DAY, (TUE, THU), time(9), time(11, 15))  # 4.5 h
    ann = place([person("ann", preferred_groups=(("b", 3),))], [DAY], [early, late, tuesday]).by_id["ann"]
    assert ann.group_ids == ("b", "c")
    assert ann.weekly_hours == 9.0
    assert ann.reason == "Day track: 9.0 h/week within your availability; preferred group B"


def test_dose_exactly_met_places_and_just_below_does_not():
    exactly = group("d", DAY, (MON, WED, FRI), time(9), time(12))  # 3 x 3 h = 9.0 h
    below = group("d", DAY, (MON, WED, FRI), time(9), time(11, 55))  # 3 x 2 h 55 = 8.75 h
    assert place([person("ann")], [DAY], [exactly]).by_id["ann"].weekly_hours == 9.0
    missed = place([person("ann")], [DAY], [below]).by_id["ann"]
    assert not missed.placed
    assert missed.reason == "no track reaches 9 h within availability"
    assert missed.details == ("Day track: only 8.8 h of 9.0 h within availability",)


def test_only_the_groups_needed_are_taken():
    extra = group("d2", DAY, (TUE, THU), time(9), time(11))
    ann = place([person("ann")], [DAY], [DAY_GROUP, extra]).by_id["ann"]
    assert ann.group_ids == ("d1",)


def test_back_to_back_availability_windows_count_as_one():
    split = (*blocks((MON, WED, FRI), time(8), time(10)), *blocks((MON, WED, FRI), time(10), time(13)))
    assert merge_windows(split)[MON] == [(480, 780)]
    assert place([person("ann", split)], [DAY], [DAY_GROUP]).by_id["ann"].track_id == "day"


def test_a_full_group_explains_itself_even_without_competitors():
    full = group("d1", DAY, (MON, WED, FRI), time(9), time(12), seats=0)
    ann = place([person("ann")], [DAY], [full]).by_id["ann"]
    assert ann.reason == "all fitting groups are full"


def test_no_tracks_at_all():
    assert place([person("ann")], [], []).by_id["ann"].reason == "no tracks to place into"


def test_the_same_input_gives_the_same_answer():
    tracks = [DAY, EVENING]
    groups = [
        group("d1", DAY, (MON, WED, FRI), time(9), time(12), seats=3),
        group("d2", DAY, (MON, WED, FRI), time(9), time(12), seats=3),
        group("e1", EVENING, (MON, TUE, THU), time(18), time(21), seats=2),
        group("e2", EVENING, (MON, TUE, THU), time(17), time(20), seats=2),
    ]
    windows = [ALL_DAY, EVENINGS, MORNINGS]
    kinds = ["", "day", "evening"]
    people = [person(f"p{i}", windows[i % 3], preferred_kind=kinds[i % 2]) for i in range(12)]
    first = place(people, tracks, groups)
    for _ in range(3):
        again = place(people, tracks, groups)
        assert again.placements == first.placements
    assert first.status == "OPTIMAL"
    assert first.placed_count == 10
    assert first.gap == 0.0


def test_blocks_refuse_nonsense():
    with pytest.raises(ValueError, match="must end after it starts"):
        Block(MON, time(10), time(9))
    with pytest.raises(ValueError, match="weekday"):
        Block(7, time(9), time(10))


def test_whole_track_sessions_count_toward_the_dose_and_must_fit():
    community = blocks((TUE,), time(9), time(12))  # 3 h everyone in the track attends
    track = TrackSpec("day", "Day track", "day", "adult", "mental_health", 9, required_meetings=community)
    six = group("d", track, (MON, WED), time(9), time(12))  # 6 h
    clash = group("x", track, (TUE,), time(11), time(14))  # overlaps the community meeting
    ann = place([person("ann")], [track], [six, clash]).by_id["ann"]
    assert (ann.group_ids, ann.weekly_hours) == (("d",), 9.0)
    no_tuesday = blocks((MON, WED, THU, FRI), time(8), time(22))
    bob = place([person("bob", no_tuesday)], [track], [six]).by_id["bob"]
    assert bob.details == ("Day track: meets Tue 09:00 outside availability",)


def test_a_person_left_out_while_seats_remain_is_told_the_search_stopped():
    # Only a solver stopped by its time limit can leave this; an optimal answer would place them.
    problem = _Problem([person("ann")], [DAY], [DAY_GROUP])
    problem.use_seats({})
    assert problem.explain_unplaced(problem.admissions[0]) == (
        "the search stopped before placing them; find placements again",
        ("Day track: has seats, but the search stopped before placing them",),
    )
