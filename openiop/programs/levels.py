"""The level-of-care catalog: the levels a program may run (PHP, IOP, OP...), read from
``settings.OPENIOP_DEFAULTS["levels_of_care"]`` at call time (docs/clinical-rules.md#level-of-care).

A program runs one level (``Program.level_of_care``); an episode keeps the level it is at and the history of its
changes (``patients.models.EpisodeOfCare.level_history``). ``rank`` orders the levels, so a move to a lower rank is
a step down and to a higher one a step up. The ASAM and LOCUS levels are the ones each level corresponds to, shown
beside what the intake clinician chose; nothing here computes a level from ratings (that logic is licensed).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class LevelOfCare:
    code: str
    label: str
    short: str
    rank: int
    asam: str = ""
    locus: str = ""
    ub04_condition_code: str = ""
    # Per population ("adult", "adolescent"): the minimum a new program of this level starts with; empty: the
    # population's default (adult_weekly_dose_hours / adolescent_weekly_dose_hours).
    weekly_dose_hours: tuple[tuple[str, Decimal], ...] = ()

    def dose_hours_for(self, population: str) -> Decimal | None:
        return dict(self.weekly_dose_hours).get(population)


def _level(entry: dict[str, Any]) -> LevelOfCare:
    code = str(entry["code"])
    return LevelOfCare(
        code=code,
        label=str(entry.get("label") or code),
        short=str(entry.get("short") or code.upper()),
        rank=int(entry.get("rank", 0)),
        asam=str(entry.get("asam") or ""),
        locus=str(entry.get("locus") or ""),
        ub04_condition_code=str(entry.get("ub04_condition_code") or ""),
        weekly_dose_hours=tuple((str(k), Decimal(str(v))) for k, v in (entry.get("weekly_dose_hours") or {}).items()),
    )


def catalog() -> list[LevelOfCare]:
    """Every configured level, most intensive first."""
    levels = [_level(e) for e in settings.OPENIOP_DEFAULTS.get("levels_of_care", [])]
    return sorted(levels, key=lambda level: (-level.rank, level.code))


def get(code: str) -> LevelOfCare | None:
    return next((level for level in catalog() if level.code == code), None)


def choices() -> list[tuple[str, str]]:
    return [(level.code, level.label) for level in catalog()]


def default_code() -> str:
    return str(settings.OPENIOP_DEFAULTS.get("default_level_of_care", "iop"))


def short_label(code: str) -> str:
    """ "IOP" for "iop"; a code no longer in the catalog shows as itself, upper-cased."""
    level = get(code)
    return level.short if level is not None else code.upper()


def label(code: str) -> str:
    level = get(code)
    return level.label if level is not None else code.upper()


def rank(code: str) -> int:
    level = get(code)
    return level.rank if level is not None else 0


def direction(old: str, new: str) -> str:
    """ "step_down", "step_up" or "same" (equal ranks, e.g. two levels a clinic ranks alike)."""
    before, after = rank(old), rank(new)
    return "step_down" if after < before else "step_up" if after > before else "same"
