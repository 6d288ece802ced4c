"""The instrument registry: every instrument defined once, as data plus a scoring function.

``REGISTRY`` maps an instrument code to its ``Instrument``; ``get(code)`` raises ``KeyError`` for an unknown code.
Instruments licensed for non-commercial use only (AUDIT, DAST-10) are registered but not enabled by default; their
``notice`` must be shown with the form. See docs/instruments.md for the licence rules and the "add an instrument"
checklist.

Scoring is pure: ``instrument.score(answers, **context)`` takes a mapping of item code to option value (``None`` or
absent when unanswered) and returns a ``Score``. Answers to items hidden by skip logic are ignored.
"""

from __future__ import annotations

from .base import Answers, Band, Instrument, InvalidAnswer, Item, Option, Score
from .gad7 import GAD7
from .phq9 import PHQ9

__all__ = [
    "REGISTRY",
    "Answers",
    "Band",
    "Instrument",
    "InvalidAnswer",
    "Item",
    "Option",
    "Score",
    "enabled_by_default",
    "get",
    "score_is_critical",
]

REGISTRY: dict[str, Instrument] = {instrument.code: instrument for instrument in (PHQ9, GAD7)}


def get(code: str) -> Instrument:
    return REGISTRY[code]


def enabled_by_default() -> list[Instrument]:
    return [instrument for instrument in REGISTRY.values() if instrument.enabled_by_default]


def score_is_critical(score: Score) -> bool:
    """True when the score needs same-day clinical follow-up: any critical answer, or C-SSRS moderate/high risk."""
    return bool(score.critical_items) or score.risk in ("moderate", "high")
