"""The weekly random draw: which of a program's active patients are tested this week.

Pure and reproducible: ``pick(population, percent, seed)`` sorts the population (so the order it was read in does
not matter) and samples with ``random.Random(seed)``. The seed is drawn fresh for each week from the operating
system (``new_seed``), so nobody can predict a week's picks, and stored with the population and the picks
(``models.SchedulePick``), so anyone can draw the week again and get the same patients. Each week is a draw of its
own: every patient has the same chance every week, whatever happened before.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Iterable

SEED_BITS = 62  # fits a signed 64-bit column


def new_seed() -> int:
    return secrets.randbits(SEED_BITS)


def how_many(size: int, percent: int) -> int:
    """N% of ``size``, rounded up, so a small program still tests someone each week."""
    if size <= 0 or percent <= 0:
        return 0
    return min(size, math.ceil(size * percent / 100))


def pick(population: Iterable[str], percent: int, seed: int) -> list[str]:
    """The ids drawn from ``population`` (sorted first) for ``percent`` with ``seed``, in draw order."""
    ordered = sorted(set(population))
    return random.Random(seed).sample(ordered, how_many(len(ordered), percent))  # noqa: S311 (audit, not security)
