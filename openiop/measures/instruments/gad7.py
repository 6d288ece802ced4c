"""GAD-7, the Generalized Anxiety Disorder scale (Spitzer, Kroenke, Williams & Lowe 2006).

Wording and options: the standard English GAD-7 from phqscreeners.com (Pfizer; no permission required).
Bands 0-4 / 5-9 / 10-14 / 15-21 and the positive screen at 10 are Spitzer et al. 2006 (NHS Talking Therapies uses
caseness at 8: pass it as the caller's threshold, it is not a band). LOINC codes: the 69737-5 panel
(docs/clinical-rules.md#loinc-codes).

Missing items: as the PHQ-9, a total with at most one of the seven items unanswered, prorated ``sum * 7 / answered``
rounded half up; see docs/instruments.md "Missing items". The difficulty question is asked but never scored.
"""

from __future__ import annotations

from .base import (
    Answers,
    Band,
    Instrument,
    Item,
    Score,
    difficulty_options,
    frequency_options,
    prorated_sum_score,
    sum_or_none,
)

LOOKBACK = "Over the last 2 weeks"
INSTRUCTIONS = "Over the last 2 weeks, how often have you been bothered by the following problems?"

_ITEMS = (
    ("Feeling nervous, anxious, or on edge", "69725-0"),
    ("Not being able to stop or control worrying", "68509-9"),
    ("Worrying too much about different things", "69733-4"),
    ("Trouble relaxing", "69734-2"),
    ("Being so restless that it is hard to sit still", "69735-9"),
    ("Becoming easily annoyed or irritable", "69689-8"),
    ("Feeling afraid, as if something awful might happen", "69736-7"),
)

DIFFICULTY_TEXT = (
    "If you checked any problems, how difficult have they made it for you to do your work, take care of things "
    "at home, or get along with other people?"
)

MAX_MISSING = 1

ITEMS = (
    *(
        Item(code=f"gad7_{n}", number=n, text=text, options=frequency_options(), loinc=loinc)
        for n, (text, loinc) in enumerate(_ITEMS, start=1)
    ),
    Item(
        code="gad7_difficulty",
        number=8,
        text=DIFFICULTY_TEXT,
        options=difficulty_options(),
        # No LOINC code: public sources disagree on the GAD-7 difficulty item's code, so we leave it unset.
        scored=False,
    ),
)

BANDS = (
    Band(0, 4, "minimal", "Minimal", 0),
    Band(5, 9, "mild", "Mild", 1),
    Band(10, 14, "moderate", "Moderate", 2),
    Band(15, 21, "severe", "Severe", 4),
)

LICENCE = "Public domain (Pfizer): no permission required to reproduce, translate, display or distribute."
NOTICE = (
    "GAD-7: developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an "
    "educational grant from Pfizer Inc. No permission required to reproduce, translate, display or distribute."
)


def score(instrument: Instrument, answers: Answers) -> Score:
    return prorated_sum_score(
        instrument,
        answers,
        max_missing=MAX_MISSING,
        subscores={"gad2": sum_or_none(answers, ("gad7_1", "gad7_2"))},
    )


GAD7 = Instrument(
    code="gad7",
    name="Generalized Anxiety Disorder-7",
    short_name="GAD-7",
    lookback=LOOKBACK,
    instructions=INSTRUCTIONS,
    items=ITEMS,
    bands=BANDS,
    max_total=21,
    loinc_panel="69737-5",
    loinc_total="70274-6",
    licence=LICENCE,
    notice=NOTICE,
    enabled_by_default=True,
    focus=frozenset({"mental_health", "substance_use"}),
    reliable_change=4,
    remission_below=5,
    scorer=score,
    positive_at=10,
    source="phqscreeners.com GAD-7 (Pfizer); Spitzer, Kroenke, Williams & Lowe, Arch Intern Med 2006;166:1092-1097.",
)
