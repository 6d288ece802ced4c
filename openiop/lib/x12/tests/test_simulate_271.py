"""The demo's 271 generator (``simulate.answer_270``): what it writes for one of our 270s, read back by ``read_271``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from openiop.lib.x12 import Patient, read_271, validate_envelope, write_270
from openiop.lib.x12.simulate import answer_270
from openiop.lib.x12.tests import samples as s
from openiop.lib.x12.tests.test_eligibility import request

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_an_active_answer_reads_back_with_copay_visits_dates_and_trace() -> None:
    text = answer_270(
        write_270(request()),
        at=AT,
        number=4001,
        copay="30",
        coinsurance="0.1",
        deductible="750",
        visits=20,
        plan="Acme Gold PPO",
        group="GRP777",
        coverage_from=date(2026, 1, 1),
        coverage_to=date(2026, 12, 31),
        message="Copay applies per IOP day",
    )
    assert validate_envelope(text) == []
    (person,) = read_271(text).people
    assert person.trace_number == "TRACE-0001" and person.member_id == "ACM123456" and person.active
    assert (person.last_name, person.birth_date) == ("Doe", date(1984, 5, 17))
    (coverage,) = person.benefits_for("1")
    assert coverage.plan == "Acme Gold PPO" and coverage.dates == (("291", date(2026, 1, 1), date(2026, 12, 31)),)
    assert coverage.service_types == ("30", "MH", "A8", "AI")
    (copay,) = person.benefits_for("B", "MH")
    assert copay.amount == Decimal(30) and copay.in_network == "Y" and copay.messages == ("Copay applies per IOP day",)
    assert person.benefits_for("A")[0].percent == Decimal("0.1")
    assert person.benefits_for("C")[0].amount == Decimal(750)
    assert person.remaining_visits == Decimal(20)
    assert "REF*6P*GRP777*Acme Gold PPO~" in text and "ISA*00*" in text and "*000004001*" in text


def test_an_inactive_answer_and_a_dependent() -> None:
    text = answer_270(write_270(request(dependent=Patient(s.CHILD, "19"))), at=AT, number=4002, active=False)
    assert validate_envelope(text) == []
    subscriber, person = read_271(text).people
    assert subscriber.level == "22" and subscriber.trace_number == "" and subscriber.member_id == "ACM123456"
    assert person.level == "23" and person.trace_number == "TRACE-0001" and not person.active
    assert (person.last_name, person.first_name) == ("Doe", "Sam")
    assert person.remaining_visits is None and not person.benefits_for("B")
