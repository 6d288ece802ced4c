"""Expected or unexpected: one analyte's result read against what the patient takes that day.

Pure: no database. The caller passes the lowercase ingredient names of the patient's medication list on the day
of collection (``medications.queries.active_ingredients``). The rules, with their sources, are in
docs/clinical-rules.md#drug-and-alcohol-testing; in short:

- a positive is expected only when a medication on the list accounts for it (buprenorphine for BUP, methadone for
  MTD, a prescribed benzodiazepine for BZO, prescribed amphetamine for AMP, a prescribed opiate for OPI,
  oxycodone or oxymorphone for OXY); fentanyl, cocaine, cannabis and alcohol positives are never expected;
- a negative is unexpected when the list says the patient takes a medication the analyte detects (buprenorphine
  negative on buprenorphine: possible non-adherence or diversion), because the result and the list disagree;
- an invalid result is not interpreted: the specimen is collected again.

An unexpected result is a question for the clinician, never a conclusion: immunoassays cross-react and miss, so the
reason says what to confirm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from openiop.labs import analytes as a

EXPECTED, UNEXPECTED, NOT_APPLICABLE = "expected", "unexpected", "not_applicable"
POSITIVE, NEGATIVE, INVALID = "positive", "negative", "invalid"

# The ingredients (as the medication list stores them, lowercase) whose use makes each analyte positive. An
# analyte missing here (FTY, COC, THC, ETG, BAC) is never accounted for by a medication on the list.
ACCOUNTS_FOR: dict[str, frozenset[str]] = {
    a.BUP: frozenset({"buprenorphine"}),
    a.MTD: frozenset({"methadone"}),
    a.BZO: frozenset(
        {"lorazepam", "clonazepam", "alprazolam", "diazepam", "chlordiazepoxide", "temazepam", "oxazepam"}
    ),
    # Methylphenidate is not an amphetamine and does not make an amphetamine screen positive.
    a.AMP: frozenset({"amphetamine", "dextroamphetamine", "lisdexamfetamine"}),
    # The opiate screen is built for morphine and codeine (heroin shows as morphine); oxycodone has its own.
    a.OPI: frozenset({"morphine", "codeine", "hydrocodone", "hydromorphone"}),
    a.OXY: frozenset({"oxycodone", "oxymorphone"}),
}

# A negative with the medication on the list: what the clinician should know before reading anything into it.
_NEGATIVE_CAVEAT: dict[str, str] = {
    a.BZO: " Many benzodiazepine screens miss lorazepam and clonazepam: ask for confirmation before acting on it.",
    a.BUP: " Ask about missed doses; a confirmation test tells buprenorphine from its metabolite.",
    a.MTD: " Check the dosing record with the opioid treatment program.",
}


@dataclass(frozen=True)
class Verdict:
    status: str  # EXPECTED, UNEXPECTED or NOT_APPLICABLE
    reason: str  # in words, for the chart and the review

    @property
    def unexpected(self) -> bool:
        return self.status == UNEXPECTED


def _listed(names: Iterable[str]) -> str:
    """ "x is" or "x and y are": the medications found, with their verb."""
    items = sorted(names)
    return f"{items[0]} is" if len(items) == 1 else ", ".join(items[:-1]) + f" and {items[-1]} are"


def interpret(analyte: str, outcome: str, ingredients: Iterable[str]) -> Verdict:
    """The verdict on ``outcome`` (positive / negative / invalid) for ``analyte`` (an ``analytes`` code), given the
    ingredients the patient takes on the day of collection."""
    if analyte not in a.NAMES:
        raise ValueError(f"Unknown analyte {analyte!r}")
    if outcome not in (POSITIVE, NEGATIVE, INVALID):
        raise ValueError(f"Unknown outcome {outcome!r}")
    what = a.name(analyte).lower()
    if outcome == INVALID:
        return Verdict(NOT_APPLICABLE, f"No valid result for {what}: collect the specimen again.")
    taken = {i.lower() for i in ingredients} & ACCOUNTS_FOR.get(analyte, frozenset())
    if outcome == POSITIVE:
        if taken:
            return Verdict(EXPECTED, f"Positive for {what}, as expected: {_listed(taken)} on the medication list.")
        if analyte == a.FTY:
            return Verdict(
                UNEXPECTED,
                "Positive for fentanyl: never expected here, whatever the medication list says. Fentanyl in the "
                "supply is the leading cause of overdose death; review the overdose risk and naloxone.",
            )
        return Verdict(UNEXPECTED, f"Positive for {what}: no medication on the list accounts for it.")
    if taken:
        return Verdict(
            UNEXPECTED,
            f"Negative for {what} although {_listed(taken)} on the medication list: possible missed doses, "
            f"non-adherence or diversion.{_NEGATIVE_CAVEAT.get(analyte, '')}",
        )
    return Verdict(EXPECTED, f"Negative for {what}, as expected.")
