"""The BAM, the Brief Addiction Monitor (Cacciola, Alterman, DePhilippis et al. 2013; U.S. Department of Veterans
Affairs).

Wording: the 17-item BAM (past 30 days) of the VA BAM manual, cross-checked against several public copies. The 7-day
"BAM-IOP" variant is not shipped.

Answers are stored as published: day counts 0-30 for the "how many days" items, 0-4 for the rating items, and 0/4 for
item 14 (No/Yes). Scoring turns each day count into 0-4 by the bands 0 / 1-3 / 4-8 / 9-15 / 16-30.

Subscores (docs/clinical-rules.md#bam):
* Use = items 4 + 5 + 6 (0-12)
* Risk = items 1 + 2 + 3 + 8 + 11 + 15 (0-24)
* Protective = items 9 + 10 + 12 + 13 + 14 + 16 (0-24)
Flags: Use >= 1, Risk >= 12, Protective <= 12 (configurable: ``use_at``, ``risk_at``, ``protective_at_most``).
The BAM has no total score (``Score.total`` is always None, ``Instrument.has_total`` is False).

CHECK AGAINST THE VA MANUAL: the banding, the subscore items and the three thresholds follow one public
implementation (docs/clinical-rules.md#bam marks them "to verify"); confirm them against the VA's BAM manual before
relying on them clinically.

Skip logic (the form's instructions): item 5 is asked only when item 4 is above 0 days (otherwise it scores 0), and the
drug list 7A-7G only when item 6 is above 0 days. Items 7A-7G and 17 are asked but belong to no subscore. Missing
items: a subscore is given only when all its asked items are answered (no proration is published).
No LOINC codes are attached.
"""

from __future__ import annotations

from typing import Any

from .base import Answers, Instrument, Item, Option, Score, ShownIf, missing_codes, when

DAY_BANDS = ((0, 0, 0), (1, 3, 1), (4, 8, 2), (9, 15, 3), (16, 30, 4))


def days_to_score(days: int) -> int:
    for low, high, points in DAY_BANDS:
        if low <= days <= high:
            return points
    raise ValueError(f"{days!r} is not a day count between 0 and 30.")


DAYS = tuple(Option(n, "1 day" if n == 1 else f"{n} days") for n in range(31))
NIGHTS = tuple(Option(n, "1 night" if n == 1 else f"{n} nights") for n in range(31))
HEALTH = (
    Option(0, "Excellent"),
    Option(1, "Very good"),
    Option(2, "Good"),
    Option(3, "Fair"),
    Option(4, "Poor"),
)
EXTENT = (
    Option(0, "Not at all"),
    Option(1, "Slightly"),
    Option(2, "Moderately"),
    Option(3, "Considerably"),
    Option(4, "Extremely"),
)
INCOME = (Option(0, "No", "LA32-8"), Option(4, "Yes", "LA33-6"))

DAY_ITEMS = frozenset({2, 3, 4, 5, 6, 10, 11, 13, 16})

SUBSCORES: dict[str, tuple[int, ...]] = {
    "use": (4, 5, 6),
    "risk": (1, 2, 3, 8, 11, 15),
    "protective": (9, 10, 12, 13, 14, 16),
}
USE_AT = 1
RISK_AT = 12
PROTECTIVE_AT_MOST = 12

DRINK_HELP = (
    "One drink is considered one shot of hard liquor (1.5 oz.) or 12-ounce can/bottle of beer or 5 ounce glass of wine."
)
DRUGS = (
    ("a", "Marijuana (cannabis, pot, weed)"),
    (
        "b",
        'Sedatives/Tranquilizers (e.g., "benzos", Valium, Xanax, Ativan, Ambien, "barbs", Phenobarbital, downers, '
        "etc.)",
    ),
    ("c", "Cocaine/Crack"),
    (
        "d",
        'Other Stimulants (e.g., amphetamine, methamphetamine, Dexedrine, Ritalin, Adderall, "speed", "crystal '
        'meth", "ice", etc.)',
    ),
    (
        "e",
        "Opiates (e.g., Heroin, Morphine, Dilaudid, Demerol, Oxycontin, oxy, codeine (Tylenol 2,3,4), Percocet, "
        "Vicodin, Fentanyl, etc.)",
    ),
    ("f", "Inhalants (glues, adhesives, nail polish remover, paint thinner, etc.)"),
    (
        "g",
        "Other drugs (steroids, non-prescription sleep/diet pills, Benadryl, Ephedra, other over-the-counter/"
        "unknown medications)",
    ),
)


def _item(n: int, text: str, options: tuple[Option, ...], **kw: Any) -> Item:
    kind = "integer" if n in DAY_ITEMS else "choice"
    return Item(code=f"bam_{n}", number=n, text=text, options=options, input=kind, **kw)


ITEMS = (
    _item(1, "In the past 30 days, would you say your physical health has been:", HEALTH),
    _item(2, "In the past 30 days, how many nights did you have trouble falling asleep or staying asleep?", NIGHTS),
    _item(
        3,
        "In the past 30 days, how many days have you felt depressed, anxious, angry or very upset throughout most of "
        "the day?",
        DAYS,
    ),
    _item(4, "In the past 30 days, how many days did you drink ANY alcohol?", DAYS),
    _item(
        5,
        "In the past 30 days, how many days did you have at least 5 drinks (if you are a man) or at least 4 drinks "
        "(if you are a woman)?",
        DAYS,
        help=DRINK_HELP,
        shown_if=when("bam_4", ">", 0),
    ),
    _item(
        6,
        "In the past 30 days, how many days did you use any illegal/street drugs or abuse any prescription "
        "medications?",
        DAYS,
    ),
    *(
        Item(
            code=f"bam_7{letter}",
            number=7,
            label=f"7{letter.upper()}",
            text=text,
            options=DAYS,
            shown_if=when("bam_6", ">", 0),
            scored=False,
            input="integer",
            stem="In the past 30 days, how many days did you use any of the following drugs:" if letter == "a" else "",
        )
        for letter, text in DRUGS
    ),
    _item(
        8, "In the past 30 days, how much were you bothered by cravings or urges to drink alcohol or use drugs?", EXTENT
    ),
    _item(
        9,
        "How confident are you in your ability to be completely abstinent (clean) from alcohol and drugs in the next "
        "30 days?",
        EXTENT,
    ),
    _item(
        10,
        "In the past 30 days, how many days did you attend self-help meetings like AA or NA to support your recovery?",
        DAYS,
    ),
    _item(
        11,
        "In the past 30 days, how many days were you in any situations or with any people that might put you at an "
        'increased risk for using alcohol or drugs (i.e., around risky "people, places or things")?',
        DAYS,
    ),
    _item(12, "Does your religion or spirituality help support your recovery?", EXTENT),
    _item(
        13,
        "In the past 30 days, how many days did you spend much of the time at work, school, or doing volunteer work?",
        DAYS,
    ),
    _item(
        14,
        "Do you have enough income (from legal sources) to pay for necessities such as housing, transportation, food "
        "and clothing for yourself and your dependents?",
        INCOME,
    ),
    _item(
        15,
        "In the past 30 days, how much have you been bothered by arguments or problems getting along with any family "
        "members or friends?",
        EXTENT,
    ),
    _item(
        16,
        "In the past 30 days, how many days were you in contact or spent time with any family members or friends who "
        "are supportive of your recovery?",
        DAYS,
    ),
    _item(17, "How satisfied are you with your progress toward achieving your recovery goals?", EXTENT, scored=False),
)


def item_points(instrument: Instrument, answers: Answers, n: int) -> int | None:
    """An item's 0-4 contribution: day counts banded, a skipped item 5 as 0, None when unanswered."""
    code = f"bam_{n}"
    if instrument.item(code) not in instrument.visible_items(answers):
        # Skipped by the form (no drinking days, so no heavy-drinking days): it scores 0, unless the gate itself is
        # unanswered, in which case the subscore waits for it.
        gate = instrument.item(code).shown_if
        gate_items = [c.item for c in gate.conditions] if isinstance(gate, ShownIf) else []
        return None if any(answers.get(g) is None for g in gate_items) else 0
    value = answers.get(code)
    if value is None:
        return None
    return days_to_score(value) if n in DAY_ITEMS else value


def score(
    instrument: Instrument,
    answers: Answers,
    *,
    use_at: int = USE_AT,
    risk_at: int = RISK_AT,
    protective_at_most: int = PROTECTIVE_AT_MOST,
) -> Score:
    subscores: dict[str, int | None] = {}
    for name, numbers in SUBSCORES.items():
        values = [item_points(instrument, answers, n) for n in numbers]
        subscores[name] = None if any(v is None for v in values) else sum(v or 0 for v in values)
    missing = missing_codes(instrument, answers)
    flags = []
    if subscores["use"] is not None and subscores["use"] >= use_at:
        flags.append(f"use >= {use_at}")
    if subscores["risk"] is not None and subscores["risk"] >= risk_at:
        flags.append(f"risk >= {risk_at}")
    if subscores["protective"] is not None and subscores["protective"] <= protective_at_most:
        flags.append(f"protective <= {protective_at_most}")
    incomplete = [name for name, value in subscores.items() if value is None]
    reason = ""
    if incomplete:
        noun = "item" if len(missing) == 1 else "items"
        reason = (
            f"{len(missing)} {noun} unanswered; no {', '.join(incomplete)} subscore "
            f"(BAM subscores are given only when all their items are answered)"
        )
    return Score(
        total=None,
        prorated=False,
        band=None,
        subscores=subscores,
        missing=missing,
        missing_reason=reason,
        critical_items=(),
        risk="",
        flags=tuple(flags),
        complete=not missing,
    )


BAM = Instrument(
    code="bam",
    name="Brief Addiction Monitor",
    short_name="BAM",
    lookback="In the past 30 days",
    instructions=(
        "This questionnaire asks about your use of alcohol and drugs, your health and your recovery in the past "
        "30 days."
    ),
    items=ITEMS,
    bands=(),
    max_total=0,
    loinc_panel="",
    loinc_total="",
    licence="Free to use (U.S. Department of Veterans Affairs).",
    notice="Brief Addiction Monitor (Cacciola et al., 2013), U.S. Department of Veterans Affairs.",
    enabled_by_default=True,
    focus=frozenset({"substance_use"}),
    reliable_change=None,
    remission_below=None,
    scorer=score,
    has_total=False,
    source=(
        "VA Brief Addiction Monitor (BAM) manual; Cacciola et al., J Subst Abuse Treat 2013;44:256-63. Banding, "
        "subscores and thresholds follow one public implementation: check against the VA manual."
    ),
)
