"""The shapes every instrument is made of, and the scoring helpers they share.

An instrument is data (items, options, bands, codes, licence) plus one scoring function. Nothing here touches the
database: callers pass answers as a plain mapping of item code to the chosen option value (``None`` or absent for
unanswered) and get a frozen ``Score`` back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

Answers = Mapping[str, int | None]


class InvalidAnswer(ValueError):
    """An answer is not one of its item's option values, or names an item the instrument does not have."""

    def __init__(self, item_code: str, message: str) -> None:
        super().__init__(message)
        self.item_code = item_code


@dataclass(frozen=True)
class Condition:
    """One test on an earlier item's answer: ``op`` is "=", "!=" or ">" (FHIR enableWhen operators)."""

    item: str
    op: str
    value: int

    def holds(self, answers: Answers) -> bool:
        # As FHIR enableWhen: an unanswered question satisfies no condition.
        answer = answers.get(self.item)
        if answer is None:
            return False
        if self.op == "=":
            return answer == self.value
        if self.op == "!=":
            return answer != self.value
        if self.op == ">":
            return answer > self.value
        raise ValueError(f"Unknown operator {self.op!r}.")


@dataclass(frozen=True)
class ShownIf:
    """Skip logic as data, so the FHIR Questionnaire carries the same rule as ``enableWhen``.

    Called with the answers, it is the ``Item.shown_if`` callable: True when all (or any) conditions hold.
    """

    conditions: tuple[Condition, ...]
    behavior: str = "all"  # or "any"

    def __call__(self, answers: Answers) -> bool:
        results = (condition.holds(answers) for condition in self.conditions)
        return all(results) if self.behavior == "all" else any(results)


def when(item: str, op: str, value: int) -> ShownIf:
    return ShownIf((Condition(item, op, value),))


@dataclass(frozen=True)
class Option:
    value: int
    label: str
    loinc_answer: str = ""


@dataclass(frozen=True)
class Item:
    code: str
    number: int
    text: str
    options: tuple[Option, ...]
    loinc: str = ""
    critical_when: Callable[[int], bool] | None = None
    shown_if: Callable[[Answers], bool] | None = None
    # Unscored items (the PHQ-9 difficulty question, the BAM drug list) are asked but never make a total
    # incomplete: leaving one blank is not a missing item.
    scored: bool = True
    # How the form numbers the item when it is not just ``number`` (BAM "7A").
    label: str = ""
    # Text shown above the item (a section heading or a stem the item continues).
    stem: str = ""
    # Published examples or clarifications printed with the item (C-SSRS behaviour examples, BAM drink sizes).
    help: str = ""
    # "choice" (pick an option) or "integer" (type a count; the BAM's day counts, whose options are 0-30).
    input: str = "choice"

    @property
    def display_number(self) -> str:
        return self.label or str(self.number)

    def option_values(self) -> frozenset[int]:
        return self._option_values

    # Read for every answer checked; an item never changes (frozen), so the set is built once.
    @cached_property
    def _option_values(self) -> frozenset[int]:
        return frozenset(o.value for o in self.options)

    def option(self, value: int) -> Option:
        for option in self.options:
            if option.value == value:
                return option
        raise InvalidAnswer(self.code, f"{value!r} is not an answer to {self.code}.")


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    key: str
    label: str
    level: int  # 0..4, the colour the UI gives the band

    def contains(self, total: int) -> bool:
        return self.low <= total <= self.high


@dataclass(frozen=True)
class Score:
    total: int | None
    prorated: bool
    band: Band | None
    subscores: dict[str, int | None]
    missing: tuple[str, ...]
    missing_reason: str
    critical_items: tuple[str, ...]
    risk: str
    flags: tuple[str, ...]
    complete: bool

    @property
    def band_key(self) -> str:
        return self.band.key if self.band else ""


Scorer = Callable[..., Score]


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    short_name: str
    lookback: str
    instructions: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...]
    max_total: int
    loinc_panel: str
    loinc_total: str
    licence: str
    notice: str
    enabled_by_default: bool
    focus: frozenset[str]
    reliable_change: int | None
    remission_below: int | None
    # scorer(instrument, answers, **context) -> Score; context keys are instrument-specific (AUDIT-C ``sex``,
    # PCL-5 ``cutoff``) and an unknown key is a TypeError, so a typo never silently scores with defaults.
    scorer: Scorer = field(repr=False, compare=False, default=None)  # type: ignore[assignment]
    # False for instruments that publish subscores only (BAM); their Score.total is always None.
    has_total: bool = True
    # Where the wording, scoring and codes were taken from (shown in docs/instruments.md).
    source: str = ""
    # The direction of improvement: True when a lower total is better (every shipped instrument).
    lower_is_better: bool = True
    # A positive-screen threshold for the total, when the instrument publishes one.
    positive_at: int | None = None

    @cached_property
    def items_by_code(self) -> dict[str, Item]:
        return {item.code: item for item in self.items}

    def item(self, code: str) -> Item:
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)

    @property
    def item_codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items)

    def visible_items(self, answers: Answers) -> list[Item]:
        """The items the form asks, given the answers so far.

        Skip logic only looks back, and an answer to an item that is itself hidden never opens another one (a stale
        "Yes" to C-SSRS question 2 after question 1 changed cannot show 3-5), so the walk keeps only asked answers.
        """
        asked: dict[str, int | None] = {}
        visible = []
        for item in self.items:
            if item.shown_if is None or item.shown_if(asked):
                visible.append(item)
                asked[item.code] = answers.get(item.code)
        return visible

    def asked_answers(self, answers: Answers) -> dict[str, int]:
        """The answers to asked items only; answers to skipped items are dropped."""
        return {
            item.code: value for item in self.visible_items(answers) if (value := answers.get(item.code)) is not None
        }

    def band_for(self, total: int | None) -> Band | None:
        if total is None:
            return None
        for band in self.bands:
            if band.contains(total):
                return band
        return None

    def score(self, answers: Answers, **context: Any) -> Score:
        check_answers(self, answers)
        return self.scorer(self, answers, **context)


def check_answers(instrument: Instrument, answers: Answers) -> None:
    """Reject an answer that is not an option of its item, or an unknown item code."""
    known = instrument.items_by_code
    for code, value in answers.items():
        item = known.get(code)
        if item is None:
            raise InvalidAnswer(code, f"{instrument.short_name} has no item {code!r}.")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value not in item.option_values():
            raise InvalidAnswer(code, f"{value!r} is not an answer to {instrument.short_name} item {code}.")


def answered_value(answers: Answers, code: str) -> int | None:
    return answers.get(code)


def visible_scored(instrument: Instrument, answers: Answers) -> list[Item]:
    return [item for item in instrument.visible_items(answers) if item.scored]


def missing_codes(instrument: Instrument, answers: Answers) -> tuple[str, ...]:
    return tuple(item.code for item in visible_scored(instrument, answers) if answers.get(item.code) is None)


def critical_codes(instrument: Instrument, answers: Answers, visible: list[Item] | None = None) -> tuple[str, ...]:
    """Items whose answer is critical; only visible items count (a hidden answer was never asked). ``visible``:
    ``instrument.visible_items(answers)`` when the caller has it."""
    out = []
    for item in instrument.visible_items(answers) if visible is None else visible:
        value = answers.get(item.code)
        if item.critical_when is not None and value is not None and item.critical_when(value):
            out.append(item.code)
    return tuple(out)


def prorate_half_up(partial_sum: int, answered: int, total_items: int) -> int:
    """``partial_sum * total_items / answered`` rounded half up, in integers so 13.5 is 14 (never banker's 14/13)."""
    return (2 * partial_sum * total_items + answered) // (2 * answered)


def sum_or_none(answers: Answers, codes: tuple[str, ...] | list[str]) -> int | None:
    values = [answers.get(code) for code in codes]
    if any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def unanswered_reason(instrument: Instrument, missing: int, of: int, allowed: int) -> str:
    rule = (
        f"{instrument.short_name} is scored only when every item is answered"
        if allowed == 0
        else f"{instrument.short_name} is scored with at most {allowed} missing"
    )
    if missing == of:
        # With skip logic "1 of 1" would hide that the whole form is blank.
        return f"no items answered; {rule}"
    noun = "item" if of == 1 else "items"
    return f"{missing} of {of} {noun} unanswered; {rule}"


def prorated_sum_score(
    instrument: Instrument,
    answers: Answers,
    *,
    max_missing: int,
    subscores: dict[str, int | None] | None = None,
    flags: tuple[str, ...] = (),
    risk: str = "",
) -> Score:
    """A sum of every visible scored item, prorated when at most ``max_missing`` are unanswered."""
    # The walk of the skip logic once, not once per helper: scoring runs for every answer saved.
    visible = instrument.visible_items(answers)
    items = [item for item in visible if item.scored]
    missing = tuple(item.code for item in items if answers.get(item.code) is None)
    answered = len(items) - len(missing)
    partial = sum(answers.get(item.code) or 0 for item in items)
    total: int | None
    if not missing:
        total, prorated, reason = partial, False, ""
    elif len(missing) <= max_missing and answered > 0:
        total, prorated, reason = prorate_half_up(partial, answered, len(items)), True, ""
    else:
        total, prorated = None, False
        reason = unanswered_reason(instrument, len(missing), len(items), max_missing)
    positive = instrument.positive_at is not None and total is not None and total >= instrument.positive_at
    return Score(
        total=total,
        prorated=prorated,
        band=instrument.band_for(total),
        subscores=dict(subscores or {}),
        missing=missing,
        missing_reason=reason,
        critical_items=critical_codes(instrument, answers, visible),
        risk=risk,
        flags=(("positive screen",) if positive else ()) + flags,
        complete=not missing,
    )


def frequency_options() -> tuple[Option, ...]:
    """The PHQ-9 / GAD-7 frequency scale with its LOINC answer codes (docs/clinical-rules.md#loinc-codes)."""
    return (
        Option(0, "Not at all", "LA6568-5"),
        Option(1, "Several days", "LA6569-3"),
        Option(2, "More than half the days", "LA6570-1"),
        Option(3, "Nearly every day", "LA6571-9"),
    )


def difficulty_options() -> tuple[Option, ...]:
    """The PHQ / GAD functional difficulty scale with its LOINC answer codes (LOINC 69722-7's answer list)."""
    return (
        Option(0, "Not difficult at all", "LA6572-7"),
        Option(1, "Somewhat difficult", "LA6573-5"),
        Option(2, "Very difficult", "LA6575-0"),
        Option(3, "Extremely difficult", "LA6574-3"),
    )


def yes_no_options(yes: int = 1) -> tuple[Option, ...]:
    return (Option(0, "No", "LA32-8"), Option(yes, "Yes", "LA33-6"))
