"""The procedure code of one attended service, over every minute a session can last (the space is small)."""

from __future__ import annotations

import pytest

from openiop.billing.services import procedure_for
from openiop.scheduling.models import SessionType

Kind = SessionType.ServiceKind


def expected_individual(minutes: int) -> str:
    # CPT psychotherapy time bands, written out independently of the module's table.
    if minutes < 16:
        return ""
    if minutes <= 37:
        return "90832"
    if minutes <= 52:
        return "90834"
    return "90837"


@pytest.mark.parametrize("minutes", range(0, 481))
def test_every_minute_of_every_kind_gets_its_code(minutes):
    assert procedure_for(Kind.INDIVIDUAL_PSYCHOTHERAPY, minutes)[0] == expected_individual(minutes)
    assert procedure_for(Kind.FAMILY_PSYCHOTHERAPY, minutes)[0] == ("90847" if minutes >= 26 else "")
    assert procedure_for(Kind.GROUP_PSYCHOTHERAPY, minutes) == ("90853", "")
    assert procedure_for(Kind.ASSESSMENT, minutes) == ("90791", "")
    assert procedure_for(Kind.PSYCHOEDUCATION, minutes)[0] == ""
    assert procedure_for(Kind.MEDICATION_MANAGEMENT, minutes)[0] == ""


@pytest.mark.parametrize(
    ("minutes", "code"), [(15, ""), (16, "90832"), (37, "90832"), (38, "90834"), (52, "90834"), (53, "90837")]
)
def test_the_band_edges(minutes, code):
    assert procedure_for(Kind.INDIVIDUAL_PSYCHOTHERAPY, minutes)[0] == code


@pytest.mark.parametrize("kind", list(Kind))
def test_a_session_types_own_code_always_wins(kind):
    assert procedure_for(kind, 5, " g0177 ") == ("G0177", "")


def test_every_missing_code_says_why_and_where_to_set_it():
    assert "16 minutes" in procedure_for(Kind.INDIVIDUAL_PSYCHOTHERAPY, 10)[1]
    assert "26 minutes" in procedure_for(Kind.FAMILY_PSYCHOTHERAPY, 20)[1]
    for kind in (Kind.PSYCHOEDUCATION, Kind.MEDICATION_MANAGEMENT):
        assert "session type" in procedure_for(kind, 60)[1]
    assert procedure_for(Kind.GROUP_PSYCHOTHERAPY, 60)[1] == ""
