"""PHQ-9, the Patient Health Questionnaire depression module (Kroenke, Spitzer & Williams 2001).

Wording and options: the standard English PHQ-9 from phqscreeners.com (Pfizer), which states that no permission is
required to reproduce, translate, display or distribute it (quoted in camcops docs/source/tasks/phq9.rst).
Bands 0-4 / 5-9 / 10-14 / 15-19 / 20-27 and the positive screen at 10 are Kroenke et al. 2001; LOINC codes are the
44249-1 panel (docs/clinical-rules.md#loinc-codes).

Missing items: a total is given when at most one of the nine items is unanswered, prorated as
``sum * 9 / answered`` rounded half up (13.5 -> 14); two or more missing gives no total. This is the project's rule
(issue 5, docs/clinical-rules.md#phq-9) following the common routine-outcome-monitoring practice of mean-substitution
for a single missing PHQ-9 item; see docs/instruments.md "Missing items" for the sources and why rounding is half up.
Item 9 answered above 0 is a critical answer (same-day C-SSRS and safety plan) whether or not a total exists.
The difficulty question is asked but never scored.
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
INSTRUCTIONS = "Over the last 2 weeks, how often have you been bothered by any of the following problems?"

_ITEMS = (
    ("Little interest or pleasure in doing things", "44250-9"),
    ("Feeling down, depressed, or hopeless", "44255-8"),
    ("Trouble falling or staying asleep, or sleeping too much", "44259-0"),
    ("Feeling tired or having little energy", "44254-1"),
    ("Poor appetite or overeating", "44251-7"),
    (
        "Feeling bad about yourself \u2014 or that you are a failure or have let yourself or your family down",
        "44258-2",
    ),
    ("Trouble concentrating on things, such as reading the newspaper or watching television", "44252-5"),
    (
        "Moving or speaking so slowly that other people could have noticed? Or the opposite \u2014 being so fidgety "
        "or restless that you have been moving around a lot more than usual",
        "44253-3",
    ),
    ("Thoughts that you would be better off dead or of hurting yourself in some way", "44260-8"),
)

DIFFICULTY_TEXT = (
    "If you checked off any problems, how difficult have these problems made it for you to do your work, "
    "take care of things at home, or get along with other people?"
)

MAX_MISSING = 1


def _item9_critical(value: int) -> bool:
    return value > 0


ITEMS = (
    *(
        Item(
            code=f"phq9_{n}",
            number=n,
            text=text,
            options=frequency_options(),
            loinc=loinc,
            critical_when=_item9_critical if n == 9 else None,
        )
        for n, (text, loinc) in enumerate(_ITEMS, start=1)
    ),
    Item(
        code="phq9_difficulty",
        number=10,
        text=DIFFICULTY_TEXT,
        options=difficulty_options(),
        loinc="69722-7",
        scored=False,
    ),
)

BANDS = (
    Band(0, 4, "minimal", "Minimal", 0),
    Band(5, 9, "mild", "Mild", 1),
    Band(10, 14, "moderate", "Moderate", 2),
    Band(15, 19, "moderately_severe", "Moderately severe", 3),
    Band(20, 27, "severe", "Severe", 4),
)

LICENCE = "Public domain (Pfizer): no permission required to reproduce, translate, display or distribute."
NOTICE = (
    "PHQ-9: developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an "
    "educational grant from Pfizer Inc. No permission required to reproduce, translate, display or distribute."
)


def score(instrument: Instrument, answers: Answers) -> Score:
    # A prorated total may stand in for a skipped item 9, but the unasked safety question must still be seen.
    flags = ("item 9 unanswered",) if answers.get("phq9_9") is None else ()
    # The PHQ-2 (items 1 and 2) is reported alongside; it is never prorated.
    return prorated_sum_score(
        instrument,
        answers,
        max_missing=MAX_MISSING,
        subscores={"phq2": sum_or_none(answers, ("phq9_1", "phq9_2"))},
        flags=flags,
    )


PHQ9 = Instrument(
    code="phq9",
    name="Patient Health Questionnaire-9",
    short_name="PHQ-9",
    lookback=LOOKBACK,
    instructions=INSTRUCTIONS,
    items=ITEMS,
    bands=BANDS,
    max_total=27,
    loinc_panel="44249-1",
    loinc_total="44261-6",
    licence=LICENCE,
    notice=NOTICE,
    enabled_by_default=True,
    focus=frozenset({"mental_health", "substance_use"}),
    reliable_change=6,
    remission_below=5,
    scorer=score,
    positive_at=10,
    source="phqscreeners.com PHQ-9 (Pfizer); Kroenke, Spitzer & Williams, J Gen Intern Med 2001;16:606-613.",
)
