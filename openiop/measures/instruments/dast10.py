"""DAST-10, the Drug Abuse Screening Test, 10-item version (Skinner 1982; 10-item form Skinner/CAMH).

Wording: the standard English DAST-10 ("These questions refer to the past 12 months"), as distributed with its
scoring key; cross-checked against several public copies. Each "Yes" scores 1, except question 3 ("Are you always
able to stop using drugs when you want to?"), where "No" scores 1. Bands (docs/clinical-rules.md#dast-10): 0 none,
1-2 low, 3-5 moderate, 6-8 substantial, 9-10 severe. Missing items: every item must be answered (no proration is
published).

Answers are stored as the response, not the points: 1 = "Yes", 0 = "No" for every item, so the reverse scoring of
question 3 lives here and nowhere else. LOINC: total 82667-7 (docs/clinical-rules.md#loinc-codes); items carry no
code here.

Licence: (c) 1982 Harvey A. Skinner and the Centre for Addiction and Mental Health (CAMH); free for non-commercial
use with credit (camcops docs/source/tasks/dast.rst). Registered disabled by default; its notice is shown.
"""

from __future__ import annotations

from .base import Answers, Band, Instrument, Item, Score, missing_codes, unanswered_reason, yes_no_options

_ITEMS = (
    "Have you used drugs other than those required for medical reasons?",
    "Do you abuse more than one drug at a time?",
    "Are you always able to stop using drugs when you want to?",
    'Have you had "blackouts" or "flashbacks" as a result of drug use?',
    "Do you ever feel bad or guilty about your drug use?",
    "Does your spouse (or parents) ever complain about your involvement with drugs?",
    "Have you neglected your family because of your use of drugs?",
    "Have you engaged in illegal activities in order to obtain drugs?",
    "Have you ever experienced withdrawal symptoms (felt sick) when you stopped taking drugs?",
    "Have you had medical problems as a result of your drug use (e.g. memory loss, hepatitis, convulsions, "
    "bleeding, etc.)?",
)

REVERSED = frozenset({"dast10_3"})

ITEMS = tuple(
    Item(code=f"dast10_{n}", number=n, text=text, options=yes_no_options()) for n, text in enumerate(_ITEMS, start=1)
)

BANDS = (
    Band(0, 0, "none", "No problems reported", 0),
    Band(1, 2, "low", "Low level", 1),
    Band(3, 5, "moderate", "Moderate level", 2),
    Band(6, 8, "substantial", "Substantial level", 3),
    Band(9, 10, "severe", "Severe level", 4),
)

NOTICE = (
    "DAST-10 (c) 1982 Harvey A. Skinner, PhD, and the Centre for Addiction and Mental Health, Toronto, Canada. "
    "Used for non-commercial clinical purposes with credit to the author."
)

INSTRUCTIONS = (
    'These questions refer to the past 12 months. In the statements, "drug abuse" refers to (1) the use of '
    "prescribed or over-the-counter drugs in excess of the directions, and (2) any non-medical use of drugs."
)


def points(code: str, value: int) -> int:
    return 1 - value if code in REVERSED else value


def score(instrument: Instrument, answers: Answers) -> Score:
    missing = missing_codes(instrument, answers)
    if missing:
        return Score(
            total=None,
            prorated=False,
            band=None,
            subscores={},
            missing=missing,
            missing_reason=unanswered_reason(instrument, len(missing), len(instrument.items), 0),
            critical_items=(),
            risk="",
            flags=(),
            complete=False,
        )
    total = sum(points(item.code, answers[item.code] or 0) for item in instrument.items)
    return Score(
        total=total,
        prorated=False,
        band=instrument.band_for(total),
        subscores={},
        missing=(),
        missing_reason="",
        critical_items=(),
        risk="",
        flags=("positive screen",) if instrument.positive_at is not None and total >= instrument.positive_at else (),
        complete=True,
    )


DAST10 = Instrument(
    code="dast10",
    name="Drug Abuse Screening Test-10",
    short_name="DAST-10",
    lookback="In the past 12 months",
    instructions=INSTRUCTIONS,
    items=ITEMS,
    bands=BANDS,
    max_total=10,
    loinc_panel="",
    loinc_total="82667-7",
    licence="(c) 1982 H.A. Skinner / CAMH: free for non-commercial use with credit.",
    notice=NOTICE,
    enabled_by_default=False,
    focus=frozenset({"substance_use"}),
    reliable_change=None,
    remission_below=None,
    scorer=score,
    # "Moderate" and above is where the DAST-10 guide recommends further assessment.
    positive_at=3,
    source="Skinner HA, Addict Behav 1982;7:363-371; DAST-10 form and guidelines (CAMH); camcops dast.rst (licence).",
)
