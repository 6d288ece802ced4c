"""AUDIT-C, the first three (consumption) questions of the WHO AUDIT (Bush et al. 1998).

Wording and options are AUDIT questions 1-3 as the WHO AUDIT manual prints them (Babor et al. 2001, WHO/MSD/MSB/01.6a);
the three questions in isolation are public domain as the AUDIT-C (docs/clinical-rules.md#instrument-licences).
LOINC: panel 72109-2, total 75626-2, items 68518-0 / 68519-8 / 68520-6 with their LOINC answer codes (seen in several
FHIR implementations; docs/clinical-rules.md#loinc-codes warns one repository swapped AUDIT 75624-7 and AUDIT-C 75626-2,
and 75626-2 is "Total score [AUDIT-C]").

Cut-offs (docs/clinical-rules.md#audit-c): positive at >= 4 for men and >= 3 for women (Bradley et al. 2007). Pass
``sex="male"`` or ``sex="female"``; without it the women's (more sensitive) cut-off decides the band, and the flags say
which cut-offs the total reaches, so a reader can apply either.

Skip logic: a "Never" to question 1 makes questions 2 and 3 score 0 (the WHO form's "skip to questions 9 and 10"),
so they are not asked. Missing items: every asked item must be answered; the AUDIT-C publishes no proration.
"""

from __future__ import annotations

from .base import (
    Answers,
    Band,
    Instrument,
    Item,
    Option,
    Score,
    critical_codes,
    missing_codes,
    unanswered_reason,
    when,
)

FREQUENCY = (
    Option(0, "Never", "LA6270-8"),
    Option(1, "Monthly or less", "LA18926-8"),
    Option(2, "2-4 times a month", "LA18927-6"),
    Option(3, "2-3 times a week", "LA18928-4"),
    Option(4, "4 or more times a week", "LA18929-2"),
)
QUANTITY = (
    Option(0, "1 or 2", "LA15694-5"),
    Option(1, "3 or 4", "LA15695-2"),
    Option(2, "5 or 6", "LA18930-0"),
    Option(3, "7, 8, or 9", "LA18931-8"),
    Option(4, "10 or more", "LA18932-6"),
)
OCCASION = (
    Option(0, "Never", "LA6270-8"),
    Option(1, "Less than monthly", "LA18933-4"),
    Option(2, "Monthly", "LA18876-5"),
    Option(3, "Weekly", "LA18891-4"),
    Option(4, "Daily or almost daily", "LA18934-2"),
)

Q1 = "How often do you have a drink containing alcohol?"
Q2 = "How many drinks containing alcohol do you have on a typical day when you are drinking?"
Q3 = "How often do you have six or more drinks on one occasion?"

CUTOFF = {"male": 4, "female": 3}
SEXES = frozenset(CUTOFF)


def consumption_items(prefix: str) -> tuple[Item, Item, Item]:
    """AUDIT questions 1-3, shared by the AUDIT-C and the full AUDIT (codes differ by prefix)."""
    shown = when(f"{prefix}_1", "!=", 0)
    return (
        Item(code=f"{prefix}_1", number=1, text=Q1, options=FREQUENCY, loinc="68518-0"),
        Item(code=f"{prefix}_2", number=2, text=Q2, options=QUANTITY, loinc="68519-8", shown_if=shown),
        Item(code=f"{prefix}_3", number=3, text=Q3, options=OCCASION, loinc="68520-6", shown_if=shown),
    )


def visible_sum(instrument: Instrument, answers: Answers) -> int:
    """Sum of the asked items; an item skipped by the form's skip logic scores 0."""
    return sum(answers.get(item.code) or 0 for item in instrument.visible_items(answers))


def bands_for(cutoff: int) -> tuple[Band, Band]:
    return (
        Band(0, cutoff - 1, "negative", "Negative screen", 0),
        Band(cutoff, 12, "positive", "Positive screen", 3),
    )


def score(instrument: Instrument, answers: Answers, *, sex: str | None = None) -> Score:
    if sex is not None and sex not in SEXES:
        raise ValueError(f"sex must be one of {sorted(SEXES)} or None, not {sex!r}.")
    missing = missing_codes(instrument, answers)
    asked = len(instrument.visible_items(answers))
    if missing:
        return Score(
            total=None,
            prorated=False,
            band=None,
            subscores={},
            missing=missing,
            missing_reason=unanswered_reason(instrument, len(missing), asked, 0),
            critical_items=(),
            risk="",
            flags=(),
            complete=False,
        )
    total = visible_sum(instrument, answers)
    cutoff = CUTOFF[sex] if sex else CUTOFF["female"]
    band = next(b for b in bands_for(cutoff) if b.contains(total))
    flags: list[str] = []
    if band.key == "positive":
        flags.append("positive screen")
    if sex is None:
        flags.append("sex not given: women's cut-off (>= 3) used")
        if total >= CUTOFF["male"]:
            flags.append("at or above men's cut-off (>= 4)")
    return Score(
        total=total,
        prorated=False,
        band=band,
        subscores={},
        missing=(),
        missing_reason="",
        critical_items=critical_codes(instrument, answers),
        risk="",
        flags=tuple(flags),
        complete=True,
    )


AUDITC = Instrument(
    code="auditc",
    name="Alcohol Use Disorders Identification Test - Consumption",
    short_name="AUDIT-C",
    lookback="",
    instructions="These questions are about your use of alcoholic beverages.",
    items=consumption_items("auditc"),
    bands=bands_for(CUTOFF["female"]),
    max_total=12,
    loinc_panel="72109-2",
    loinc_total="75626-2",
    licence="Public domain (AUDIT-C, the consumption questions of the WHO AUDIT).",
    notice="",
    enabled_by_default=True,
    focus=frozenset({"substance_use"}),
    reliable_change=None,
    remission_below=None,
    scorer=score,
    positive_at=None,
    source=(
        "WHO AUDIT manual, 2nd ed. (Babor et al. 2001), questions 1-3; Bush et al., Arch Intern Med 1998;158:1789-95; "
        "cut-offs Bradley et al., Alcohol Clin Exp Res 2007;31:1208-17."
    ),
)
