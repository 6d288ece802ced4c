"""The weekly random draw: reproducible from its stored seed, independent of the order the population was read in,
and fair over many weeks (every patient picked about as often, checked with a chi-square test at a fixed seed)."""

from __future__ import annotations

import random

import pytest

from openiop.labs.selection import how_many, new_seed, pick

POPULATION = [f"patient-{i:02d}" for i in range(20)]


def test_the_same_seed_and_population_draw_the_same_patients():
    assert pick(POPULATION, 25, 12345) == pick(list(POPULATION), 25, 12345)
    assert pick(POPULATION, 25, 12345) != pick(POPULATION, 25, 12346)
    assert len(set(pick(POPULATION, 25, 99))) == 5
    # The population's order is part of the record (the job stores it as drawn): a repeat counts once.
    assert pick(POPULATION + POPULATION[:3], 25, 12345) == pick(POPULATION, 25, 12345)


@pytest.mark.parametrize(("size", "percent", "want"), [(0, 50, 0), (10, 0, 0), (1, 10, 1), (7, 25, 2), (20, 25, 5),
                                                       (20, 100, 20), (3, 100, 3)])  # fmt: skip
def test_how_many_rounds_up_so_a_small_program_still_tests_someone(size, percent, want):
    assert how_many(size, percent) == want


def test_seeds_are_fresh_and_fit_the_column():
    seeds = {new_seed() for _ in range(50)}
    assert len(seeds) == 50 and all(0 <= s < 2**63 for s in seeds)


def test_fair_over_many_weeks():
    """520 weeks (ten years) of 25% draws from 20 patients, the weekly seeds from a fixed generator: each patient is
    expected 130 times. The chi-square statistic over the 20 counts (19 degrees of freedom) stays under 36.19, the
    0.99 quantile; and no patient is picked fewer than 90 or more than 170 times (over 4 standard deviations)."""
    seeds = random.Random(20261207)
    counts = dict.fromkeys(POPULATION, 0)
    weeks = 520
    for _ in range(weeks):
        for chosen in pick(POPULATION, 25, seeds.getrandbits(62)):
            counts[chosen] += 1
    expected = weeks * 5 / 20
    chi_square = sum((n - expected) ** 2 / expected for n in counts.values())
    assert sum(counts.values()) == weeks * 5
    assert chi_square < 36.19, counts
    assert all(90 <= n <= 170 for n in counts.values()), counts


def test_a_patients_chance_does_not_depend_on_last_weeks_draw():
    """Picked last week or not, the share picked again is the same 25% (within sampling error)."""
    seeds = random.Random(7)
    again = {True: [0, 0], False: [0, 0]}  # picked last week -> [picked again, weeks]
    last: set[str] = set()
    for week in range(2000):
        now = set(pick(POPULATION, 25, seeds.getrandbits(62)))
        if week:
            for p in POPULATION:
                again[p in last][0] += p in now
                again[p in last][1] += 1
        last = now
    for picked, weeks in again.values():
        assert abs(picked / weeks - 0.25) < 0.02
