"""The instrument registry: every instrument defined once, as data plus a scoring function.

``REGISTRY`` maps an instrument code to its ``Instrument``; ``get(code)`` raises ``KeyError`` for an unknown code.
Instruments licensed for non-commercial use only (AUDIT, DAST-10) are registered but not enabled by default; their
``notice`` must be shown with the form. See docs/instruments.md for the licence rules and the "add an instrument"
checklist.

The C-SSRS screener has two codes: ``cssrs_screener`` (the "recent" version, for a patient's first screen) and
``cssrs_screener_slv`` ("since last visit", for every later one); ``cssrs_for(first=...)`` picks one. Its
``Score.total`` is the risk level 0-3 (none / low / moderate / high). The BAM has no total (``has_total`` is False,
``Score.total`` None): read its ``use`` / ``risk`` / ``protective`` subscores.

Scoring is pure: ``instrument.score(answers, **context)`` takes a mapping of item code to option value (``None`` or
absent when unanswered) and returns a ``Score``. Answers to items hidden by skip logic are ignored.
"""

from __future__ import annotations

from .audit import AUDIT
from .auditc import AUDITC
from .bam import BAM
from .base import Answers, Band, Instrument, InvalidAnswer, Item, Option, Score
from .cssrs import CSSRS_SCREENER, CSSRS_SCREENER_SLV
from .dast10 import DAST10
from .gad7 import GAD7
from .pcl5 import PCL5
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
    "cssrs_for",
    "enabled_by_default",
    "get",
    "score_is_critical",
]

REGISTRY: dict[str, Instrument] = {
    instrument.code: instrument
    for instrument in (PHQ9, GAD7, AUDITC, PCL5, CSSRS_SCREENER, CSSRS_SCREENER_SLV, BAM, AUDIT, DAST10)
}


def get(code: str) -> Instrument:
    return REGISTRY[code]


def enabled_by_default() -> list[Instrument]:
    return [instrument for instrument in REGISTRY.values() if instrument.enabled_by_default]


def cssrs_for(*, first: bool) -> Instrument:
    """The C-SSRS screener version to give: "recent" at the first screen, "since last visit" afterwards."""
    return CSSRS_SCREENER if first else CSSRS_SCREENER_SLV


def score_is_critical(score: Score) -> bool:
    """True when the score needs same-day clinical follow-up: any critical answer, or C-SSRS moderate/high risk."""
    return bool(score.critical_items) or score.risk in ("moderate", "high")
