"""What the questionnaire form shows: the visible items with their chosen answers, the licence notice, whether the
crisis resources must show, and how many questions are left. Shared by the patient pages (link and clinic tablet)
and staff entry, so all three ask exactly the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from openiop.measures import instruments
from openiop.measures.models import Administration, SafetyAlert

# The rule CC BY-ND instruments (CORE-10) and every published questionnaire share: the wording on screen is the
# published wording, never paraphrased or shortened.
VERBATIM_RULE = "Questions are shown exactly as published; they may not be reworded."


@dataclass(frozen=True)
class OptionView:
    value: int
    label: str
    checked: bool
    critical: bool


@dataclass(frozen=True)
class ItemView:
    code: str
    number: str
    text: str
    stem: str
    options: list[OptionView]
    answered: bool
    required: bool
    errors: list[str]
    visible: bool


@dataclass(frozen=True)
class Questionnaire:
    instrument: instruments.Instrument
    items: list[ItemView]
    answered: int
    to_answer: int
    missing: int
    crisis: bool
    notice: str
    needs_licence_notice: bool

    @property
    def progress_percent(self) -> int:
        return round(100 * self.answered / self.to_answer) if self.to_answer else 100


def build(
    administration: Administration,
    answers: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
) -> Questionnaire:
    """``answers`` overrides the stored ones (a rejected post re-shown as typed); ``errors`` are keyed by item."""
    instrument = instruments.get(administration.instrument_code)
    raw = {k: _coerce(v) for k, v in (administration.answers if answers is None else answers).items()}
    # Only valid answers drive skip logic and the crisis check; an invalid one is shown with its error.
    answers = {k: v for k, v in raw.items() if _valid(instrument, k, v)}
    errors = errors or {}
    visible = {item.code for item in instrument.visible_items(answers)}
    score = instrument.score(answers)
    items = [
        ItemView(
            code=item.code,
            number=item.display_number,
            text=item.text,
            stem=item.stem,
            options=[
                OptionView(
                    value=o.value,
                    label=o.label,
                    checked=answers.get(item.code) == o.value,
                    critical=bool(item.critical_when and item.critical_when(o.value)),
                )
                for o in item.options
            ],
            answered=answers.get(item.code) is not None,
            required=item.scored,
            errors=list(errors.get(item.code, [])),
            visible=item.code in visible,
        )
        # Every item, hidden ones as placeholders, so skip logic can show or hide one without redrawing the rest.
        for item in instrument.items
    ]
    scored = [i for i in items if i.required and i.visible]
    answered = sum(1 for i in scored if i.answered)
    return Questionnaire(
        instrument=instrument,
        items=items,
        answered=answered,
        to_answer=len(scored),
        missing=len(scored) - answered,
        # Once an alert exists the resources stay on screen, even if the answer that raised it is changed.
        crisis=instruments.score_is_critical(score) or _has_alert(administration),
        notice=instrument.notice,
        # Non-commercial instruments (AUDIT, DAST-10) must carry their notice on the form itself.
        needs_licence_notice=not instrument.enabled_by_default,
    )


def _valid(instrument: instruments.Instrument, code: str, value: Any) -> bool:
    try:
        return isinstance(value, int) and not isinstance(value, bool) and value in instrument.item(code).option_values()
    except KeyError:
        return False


def _coerce(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def _has_alert(administration: Administration) -> bool:
    return administration.pk is not None and SafetyAlert.objects.filter(administration=administration).exists()


def changed_items(q: Questionnaire, shown: list[str], errors: Mapping[str, Any] | None = None) -> set[str]:
    """Items whose visibility differs from what the page showed (``shown``), or that now carry an error: the only
    ones an answer's response redraws, so a tap made while a save is in flight is never undone."""
    return {i.code for i in q.items if i.visible != (i.code in shown) or (errors and i.code in errors)}


def posted_answers(instrument: instruments.Instrument, data: QueryDict) -> dict[str, str]:
    """The answers in a form post: item codes present in the instrument, as posted (the action checks values)."""
    return {code: str(data.get(code, "")) for code in instrument.item_codes if code in data}
