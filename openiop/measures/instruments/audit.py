"""AUDIT, the WHO Alcohol Use Disorders Identification Test (Babor, Higgins-Biddle, Saunders & Monteiro 2001).

Wording, options and scoring: the WHO manual (2nd ed., WHO/MSD/MSB/01.6a), Box 4. Questions 1-8 score 0-4; questions 9
and 10 score 0 / 2 / 4. Zones: I 0-7, II 8-15, III 16-19, IV 20-40.

Licence: (c) World Health Organization. Free to reproduce but "not for sale or for use in conjunction with commercial
purposes" (camcops docs/source/tasks/audit.rst; docs/clinical-rules.md#instrument-licences). It is registered disabled
by default and its notice is shown with the form; a program turns it on only if its use is non-commercial.

Skip logic (the WHO interview form): "Never" to question 1 skips to questions 9 and 10; a total of 0 on questions 2
and 3 skips to 9 and 10. Skipped questions score 0. Missing items: every asked item must be answered (the manual
gives no proration). LOINC: total 75624-7; items 1-3 share the AUDIT-C codes; the panel and items 4-10 carry no LOINC
code here because we could not confirm them.
"""

from __future__ import annotations

from .auditc import OCCASION, consumption_items, visible_sum
from .base import (
    Answers,
    Band,
    Condition,
    Instrument,
    Item,
    Option,
    Score,
    ShownIf,
    critical_codes,
    missing_codes,
    unanswered_reason,
)

INJURY = (
    Option(0, "No", "LA32-8"),
    Option(2, "Yes, but not in the last year"),
    Option(4, "Yes, during the last year"),
)

_HARM = (
    "How often during the last year have you found that you were not able to stop drinking once you had started?",
    "How often during the last year have you failed to do what was normally expected from you because of drinking?",
    "How often during the last year have you needed a first drink in the morning to get yourself going after a heavy "
    "drinking session?",
    "How often during the last year have you had a feeling of guilt or remorse after drinking?",
    "How often during the last year have you been unable to remember what happened the night before because you had "
    "been drinking?",
)
Q9 = "Have you or someone else been injured as a result of your drinking?"
Q10 = (
    "Has a relative or friend or a doctor or another health worker been concerned about your drinking or suggested "
    "you cut down?"
)


# Questions 4-8 are skipped once questions 2 and 3 both score 0; a "Never" to question 1 skips 2 and 3, which then
# have no answers and satisfy neither condition, so 4-8 are skipped too (FHIR enableWhen semantics).
_DRINKS_ON_OCCASIONS = ShownIf((Condition("audit_2", "!=", 0), Condition("audit_3", "!=", 0)), behavior="any")


ITEMS = (
    *consumption_items("audit"),
    *(
        Item(code=f"audit_{n}", number=n, text=text, options=OCCASION, shown_if=_DRINKS_ON_OCCASIONS)
        for n, text in enumerate(_HARM, start=4)
    ),
    Item(code="audit_9", number=9, text=Q9, options=INJURY),
    Item(code="audit_10", number=10, text=Q10, options=INJURY),
)

BANDS = (
    Band(0, 7, "zone_1", "Zone I: low risk", 0),
    Band(8, 15, "zone_2", "Zone II: hazardous drinking", 2),
    Band(16, 19, "zone_3", "Zone III: harmful drinking", 3),
    Band(20, 40, "zone_4", "Zone IV: possible dependence", 4),
)

NOTICE = (
    "AUDIT (c) World Health Organization 2001. Reproduced for non-commercial clinical use only: not for sale or for "
    "use in conjunction with commercial purposes."
)


def score(instrument: Instrument, answers: Answers) -> Score:
    missing = missing_codes(instrument, answers)
    asked = len(instrument.visible_items(answers))
    if missing:
        return Score(
            total=None,
            prorated=False,
            band=None,
            subscores={"auditc": None},
            missing=missing,
            missing_reason=unanswered_reason(instrument, len(missing), asked, 0),
            critical_items=(),
            risk="",
            flags=(),
            complete=False,
        )
    total = visible_sum(instrument, answers)
    visible = {item.code for item in instrument.visible_items(answers)}
    consumption = sum(answers.get(code) or 0 for code in ("audit_1", "audit_2", "audit_3") if code in visible)
    band = instrument.band_for(total)
    positive = instrument.positive_at is not None and total >= instrument.positive_at
    return Score(
        total=total,
        prorated=False,
        band=band,
        subscores={"auditc": consumption},
        missing=(),
        missing_reason="",
        critical_items=critical_codes(instrument, answers),
        risk="",
        flags=("positive screen",) if positive else (),
        complete=True,
    )


AUDIT = Instrument(
    code="audit",
    name="Alcohol Use Disorders Identification Test",
    short_name="AUDIT",
    lookback="",
    instructions=(
        "Now I am going to ask you some questions about your use of alcoholic beverages during the past year."
    ),
    items=ITEMS,
    bands=BANDS,
    max_total=40,
    loinc_panel="",
    loinc_total="75624-7",
    licence="(c) WHO 2001: free for non-commercial use only; not for sale or commercial purposes.",
    notice=NOTICE,
    enabled_by_default=False,
    focus=frozenset({"substance_use"}),
    reliable_change=None,
    remission_below=None,
    scorer=score,
    positive_at=8,
    source="WHO AUDIT manual, 2nd ed. (Babor et al. 2001, WHO/MSD/MSB/01.6a), Box 4 and Table 5.",
)
