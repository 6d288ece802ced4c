"""The demo's eligibility checks: three answered by the simulated payer, shown on their Insurance tabs (a second run
adding nothing is core's demo test)."""

from __future__ import annotations

from openiop.claims.eligibility import headline
from openiop.claims.eligibility_models import EligibilityCheck
from openiop.lib.x12 import read_271


def test_the_demo_answers_three_checks(seeded_demo):
    assert seeded_demo.seeded["eligibility"] == {"answered": 3}
    checks = list(EligibilityCheck.objects.filter(organization=seeded_demo.organization).order_by("trace_number"))
    assert [c.status for c in checks] == ["answered"] * 3
    assert [c.result["active"] for c in checks] == [True, True, False]
    assert headline(checks[0]).endswith("active, copay $25, 18 visits left")
    assert checks[1].result["deductible"] == "500"
    for check in checks:
        assert check.response_file is not None
        (person,) = [p for p in read_271(check.response_file.content).people if p.trace_number == check.trace_number]
        assert person.member_id == check.coverage.member_id
