"""Expected or unexpected, for every analyte against every MOUD state, positive and negative (the issue's exhaustive
table), then the rules for the other prescribed medications. The tables are written out, not derived from the
code's own mapping, so a change to a rule has to change a line here too."""

from __future__ import annotations

import pytest

from openiop.labs import analytes as a
from openiop.labs.interpret import (
    EXPECTED,
    INVALID,
    NEGATIVE,
    NOT_APPLICABLE,
    POSITIVE,
    UNEXPECTED,
    interpret,
)

# What ``medications.queries.active_ingredients`` returns for a patient in each MOUD state.
MOUD_STATES = {
    "none": set(),
    "buprenorphine": {"buprenorphine", "naloxone"},  # the combination film
    "methadone": {"methadone"},
    "naltrexone": {"naltrexone"},
}

# Per analyte, the verdict on a positive and on a negative in each MOUD state, in the order of STATES
# (E expected, U unexpected). Every analyte is listed.
STATES = ("none", "buprenorphine", "methadone", "naltrexone")
ROWS: dict[str, tuple[str, str]] = {
    #         positive  negative
    a.AMP: ("UUUU", "EEEE"),
    a.BZO: ("UUUU", "EEEE"),
    a.BUP: ("UEUU", "EUEE"),  # expected only on buprenorphine; its absence there is unexpected
    a.COC: ("UUUU", "EEEE"),
    a.FTY: ("UUUU", "EEEE"),  # never expected
    a.MTD: ("UUEU", "EEUE"),  # expected only on methadone; its absence there is unexpected
    a.OPI: ("UUUU", "EEEE"),
    a.OXY: ("UUUU", "EEEE"),
    a.THC: ("UUUU", "EEEE"),
    a.ETG: ("UUUU", "EEEE"),
    a.BAC: ("UUUU", "EEEE"),
}
LETTER = {"E": EXPECTED, "U": UNEXPECTED}
TABLE: dict[tuple[str, str], tuple[str, str]] = {
    (code, state): (LETTER[positive[i]], LETTER[negative[i]])
    for code, (positive, negative) in ROWS.items()
    for i, state in enumerate(STATES)
}


def test_the_table_covers_every_analyte_and_every_moud_state():
    assert set(ROWS) == set(a.CODES) and set(STATES) == set(MOUD_STATES)
    assert all(len(p) == len(n) == len(STATES) for p, n in ROWS.values())


@pytest.mark.parametrize(("analyte", "state"), sorted(TABLE))
@pytest.mark.parametrize("outcome", [POSITIVE, NEGATIVE])
def test_every_analyte_against_every_moud_state(analyte, state, outcome):
    want = TABLE[(analyte, state)][0 if outcome == POSITIVE else 1]
    verdict = interpret(analyte, outcome, MOUD_STATES[state])
    assert verdict.status == want
    assert verdict.reason.startswith(f"{outcome.capitalize()} for {a.name(analyte).lower()}")


@pytest.mark.parametrize("state", sorted(MOUD_STATES))
def test_an_invalid_result_is_never_interpreted(state):
    for analyte in a.CODES:
        verdict = interpret(analyte, INVALID, MOUD_STATES[state])
        assert verdict.status == NOT_APPLICABLE and "collect the specimen again" in verdict.reason


def test_a_missing_dose_says_so_in_words():
    verdict = interpret(a.BUP, NEGATIVE, MOUD_STATES["buprenorphine"])
    assert "buprenorphine is on the medication list" in verdict.reason
    assert "non-adherence or diversion" in verdict.reason and "missed doses" in verdict.reason
    assert "opioid treatment program" in interpret(a.MTD, NEGATIVE, {"methadone"}).reason


def test_fentanyl_is_never_expected_even_when_a_medication_list_names_it():
    for taken in ({"fentanyl"}, {"buprenorphine", "fentanyl"}, {"methadone"}):
        verdict = interpret(a.FTY, POSITIVE, taken)
        assert verdict.unexpected and "never expected" in verdict.reason and "naloxone" in verdict.reason


@pytest.mark.parametrize("benzodiazepine", ["lorazepam", "clonazepam", "alprazolam", "diazepam"])
def test_a_prescribed_benzodiazepine_accounts_for_bzo_and_its_absence_is_flagged_with_the_assay_caveat(benzodiazepine):
    assert interpret(a.BZO, POSITIVE, {benzodiazepine, "sertraline"}).status == EXPECTED
    negative = interpret(a.BZO, NEGATIVE, {benzodiazepine})
    assert negative.unexpected and "confirmation" in negative.reason


def test_methylphenidate_does_not_make_amphetamines_positive_but_prescribed_amphetamine_does():
    assert interpret(a.AMP, POSITIVE, {"methylphenidate"}).status == UNEXPECTED
    assert interpret(a.AMP, NEGATIVE, {"methylphenidate"}).status == EXPECTED
    assert interpret(a.AMP, POSITIVE, {"amphetamine"}).status == EXPECTED
    assert interpret(a.AMP, NEGATIVE, {"amphetamine"}).status == UNEXPECTED


def test_opioids_are_read_by_their_own_screens():
    assert interpret(a.OXY, POSITIVE, {"oxycodone"}).status == EXPECTED
    assert interpret(a.OPI, POSITIVE, {"oxycodone"}).status == UNEXPECTED  # the opiate screen is not oxycodone's
    assert interpret(a.OPI, POSITIVE, {"codeine"}).status == EXPECTED
    assert interpret(a.OPI, POSITIVE, {"naltrexone"}).status == UNEXPECTED  # naltrexone blocks, it never shows


def test_ingredient_names_are_compared_without_case():
    assert interpret(a.BUP, POSITIVE, {"Buprenorphine"}).status == EXPECTED


def test_an_unknown_analyte_or_outcome_is_a_programming_error():
    with pytest.raises(ValueError, match="analyte"):
        interpret("XYZ", POSITIVE, set())
    with pytest.raises(ValueError, match="outcome"):
        interpret(a.BUP, "maybe", set())
