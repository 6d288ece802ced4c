"""The C-SSRS Screener (Columbia-Suicide Severity Rating Scale, Screen Version; Posner et al. 2011).

Two versions, as Columbia publishes them, registered under two codes:

* ``cssrs_screener`` - "Screen Version - Recent" for the first administration: questions 1-5 ask about the past
  month, question 6 about lifetime behaviour with a follow-up "Was this within the past 3 months?" (``cssrs_6b``).
* ``cssrs_screener_slv`` - "Screen Version - Since Last Visit" for every later one: the same questions about the
  time since the last visit, and no follow-up (any behaviour since the last visit is recent).

Wording: the Columbia Lighthouse Project screener (cssrs.columbia.edu), cross-checked against several public copies.
Skip logic: questions 3-5 only when question 2 is "Yes"; question 6 always. Answers: 0 = No, 1 = Yes. Hidden answers
are ignored.

Risk (the screener's triage colours, docs/clinical-rules.md#c-ssrs-screener):
* high: yes to 4 or 5, or behaviour within the past 3 months (since the last visit, for the SLV version);
* moderate: yes to 3, or behaviour more than 3 months ago;
* low: yes to 1 or 2 only;
* none: no to everything asked.
``Score.total`` is that risk as a number (0 none, 1 low, 2 moderate, 3 high), a derived category rather than a
published sum, so it can be charted and banded like the others. Every asked question must be answered; otherwise no
risk is given. A "Yes" to 3, 4, 5 or 6 is a critical answer.

Licence: free to use without permission or training for clinical use (C-SSRS FAQ, cssrs.columbia.edu); Columbia asks
that electronic and commercial uses check its terms, so the notice says so.
"""

from __future__ import annotations

from .base import (
    Answers,
    Band,
    Instrument,
    Item,
    Score,
    critical_codes,
    missing_codes,
    unanswered_reason,
    when,
    yes_no_options,
)

RISK_LEVELS = ("none", "low", "moderate", "high")

BANDS = (
    Band(0, 0, "none", "No risk identified", 0),
    Band(1, 1, "low", "Low risk", 1),
    Band(2, 2, "moderate", "Moderate risk", 3),
    Band(3, 3, "high", "High risk", 4),
)

Q1 = "Have you wished you were dead or wished you could go to sleep and not wake up?"
Q2 = "Have you actually had any thoughts of killing yourself?"
Q3 = "Have you been thinking about how you might do this?"
Q4 = "Have you had these thoughts and had some intention of acting on them?"
Q5 = (
    "Have you started to work out or worked out the details of how to kill yourself? "
    "Do you intend to carry out this plan?"
)
Q6_RECENT = "Have you ever done anything, started to do anything, or prepared to do anything to end your life?"
Q6_SLV = "Have you done anything, started to do anything, or prepared to do anything to end your life?"
Q6B = "Was this within the past 3 months?"
Q6_EXAMPLES = (
    "Examples: Collected pills, obtained a gun, gave away valuables, wrote a will or suicide note, took out pills but "
    "didn't swallow any, held a gun but changed your mind or it was grabbed from your hand, went to the roof but "
    "didn't jump; or actually took pills, tried to shoot yourself, cut yourself, tried to hang yourself, etc."
)
Q3_HELP = (
    'E.g. "I thought about taking an overdose but I never made a specific plan as to when, where or how I would '
    'actually do it ... and I would never go through with it."'
)
Q4_HELP = 'As opposed to "I have the thoughts but I definitely will not do anything about them."'

LICENCE = "Free for clinical use without permission or training (Columbia Lighthouse Project)."
NOTICE = (
    "C-SSRS Screener (c) The Research Foundation for Mental Hygiene, Inc. (Posner et al., Columbia University). "
    "Electronic and commercial use: check the terms at cssrs.columbia.edu."
)


def _yes(value: int) -> bool:
    return value == 1


def _items(prefix: str, *, since_last_visit: bool) -> tuple[Item, ...]:
    period = "Since your last visit" if since_last_visit else "In the past month"
    q2_yes = when(f"{prefix}_2", "=", 1)
    items = [
        Item(code=f"{prefix}_1", number=1, text=Q1, options=yes_no_options(), stem=period),
        Item(code=f"{prefix}_2", number=2, text=Q2, options=yes_no_options()),
        Item(
            code=f"{prefix}_3",
            number=3,
            text=Q3,
            options=yes_no_options(),
            critical_when=_yes,
            shown_if=q2_yes,
            help=Q3_HELP,
        ),
        Item(
            code=f"{prefix}_4",
            number=4,
            text=Q4,
            options=yes_no_options(),
            critical_when=_yes,
            shown_if=q2_yes,
            help=Q4_HELP,
        ),
        Item(code=f"{prefix}_5", number=5, text=Q5, options=yes_no_options(), critical_when=_yes, shown_if=q2_yes),
        Item(
            code=f"{prefix}_6",
            number=6,
            text=Q6_SLV if since_last_visit else Q6_RECENT,
            options=yes_no_options(),
            critical_when=_yes,
            help=Q6_EXAMPLES,
        ),
    ]
    if not since_last_visit:
        items.append(
            Item(
                code=f"{prefix}_6b",
                number=7,
                label="6b",
                text=Q6B,
                options=yes_no_options(),
                shown_if=when(f"{prefix}_6", "=", 1),
            )
        )
    return tuple(items)


def _level(instrument: Instrument, answers: Answers) -> int:
    p = instrument.code
    asked = instrument.asked_answers(answers)

    def yes(n: str) -> bool:
        return asked.get(f"{p}_{n}") == 1

    behaviour = yes("6")
    recent_behaviour = behaviour and (f"{p}_6b" not in instrument.item_codes or yes("6b"))
    if yes("4") or yes("5") or recent_behaviour:
        return 3
    if yes("3") or behaviour:
        return 2
    if yes("1") or yes("2"):
        return 1
    return 0


def score(instrument: Instrument, answers: Answers) -> Score:
    missing = missing_codes(instrument, answers)
    critical = critical_codes(instrument, answers)
    if missing:
        # A "Yes" to 3-6 is critical even before the rest is answered.
        return Score(
            total=None,
            prorated=False,
            band=None,
            subscores={},
            missing=missing,
            missing_reason=unanswered_reason(
                instrument, len(missing), len(instrument.visible_items(answers)), 0
            ).replace("every item is answered", "every question asked is answered"),
            critical_items=critical,
            risk="",
            flags=(),
            complete=False,
        )
    level = _level(instrument, answers)
    return Score(
        total=level,
        prorated=False,
        band=instrument.band_for(level),
        subscores={},
        missing=(),
        missing_reason="",
        critical_items=critical,
        risk=RISK_LEVELS[level] if level else "",
        flags=("positive screen",) if level else (),
        complete=True,
    )


def _instrument(code: str, *, since_last_visit: bool) -> Instrument:
    return Instrument(
        code=code,
        name="Columbia-Suicide Severity Rating Scale Screener"
        + (" (since last visit)" if since_last_visit else " (recent)"),
        short_name="C-SSRS" + (" (since last visit)" if since_last_visit else ""),
        lookback="Since your last visit" if since_last_visit else "In the past month",
        instructions="Ask questions 1 and 2. If YES to 2, ask questions 3, 4, 5 and 6. If NO to 2, go directly to 6.",
        items=_items(code, since_last_visit=since_last_visit),
        bands=BANDS,
        max_total=3,
        loinc_panel="",
        loinc_total="",
        licence=LICENCE,
        notice=NOTICE,
        enabled_by_default=True,
        focus=frozenset({"mental_health", "substance_use"}),
        reliable_change=None,
        remission_below=None,
        scorer=score,
        source=(
            "Columbia Lighthouse Project, C-SSRS Screen Version - Recent and Since Last Visit (cssrs.columbia.edu); "
            "Posner et al., Am J Psychiatry 2011;168:1266-77."
        ),
    )


CSSRS_SCREENER = _instrument("cssrs_screener", since_last_visit=False)
CSSRS_SCREENER_SLV = _instrument("cssrs_screener_slv", since_last_visit=True)
