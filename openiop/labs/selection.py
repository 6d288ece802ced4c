"""The weekly random draw: which of a program's active patients are tested this week.

Pure and reproducible: ``pick(population, percent, seed)`` samples the population, in the order given (the job
lists it by MRN and stores it in that order), with ``random.Random(seed)``. The seed is drawn fresh for each week
from the operating system (``new_seed``), so nobody can predict a week's picks, and stored with the population and
the picks (``models.SchedulePick``), so anyone can draw the week again and get the same patients. Each week is a
draw of its own: every patient has the same chance every week, whatever happened before.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Iterable, Sequence
from datetime import date

SEED_BITS = 62  # fits a signed 64-bit column


def new_seed() -> int:
    return secrets.randbits(SEED_BITS)


def how_many(size: int, percent: int) -> int:
    """N% of ``size``, rounded up, so a small program still tests someone each week."""
    if size <= 0 or percent <= 0:
        return 0
    return min(size, math.ceil(size * percent / 100))


def pick(population: Iterable[str], percent: int, seed: int) -> list[str]:
    """The ids drawn from ``population`` (in its order, repeats dropped) for ``percent`` with ``seed``, in draw
    order."""
    return [one for one, _ in draw(population, percent, seed, [date.min])]


def draw(population: Iterable[str], percent: int, seed: int, days: Sequence[date]) -> list[tuple[str, date]]:
    """``pick`` with, for each id picked, its test day among ``days``, from the same generator: the seed gives both
    back, and the day is as unpredictable as the pick (a known test day can be planned around)."""
    if not days:
        raise ValueError("A draw needs at least one day to test on.")
    ordered = list(dict.fromkeys(population))
    rng = random.Random(seed)  # noqa: S311 (audit, not security)
    chosen = rng.sample(ordered, how_many(len(ordered), percent))
    return [(one, rng.choice(list(days))) for one in chosen]
