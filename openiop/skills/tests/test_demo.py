"""The demo's practice logs and the plan revision left for the patient to sign (a second run adding nothing is core's
demo test)."""

from __future__ import annotations

from openiop.core.audit import verify_chain
from openiop.plans.models import PlanVersion
from openiop.programs.models import Program
from openiop.skills.models import PracticeEntry


def test_the_demo_practice_and_plan_to_sign(seeded_demo):
    org = seeded_demo.organization
    made = seeded_demo.seeded["skills"]
    entries = PracticeEntry.objects.filter(patient__organization=org)
    assert made == entries.count() > 0
    programs = set(entries.values_list("episode__program__focus", "episode__program__population").distinct())
    assert programs == {(Program.Focus.MENTAL_HEALTH, Program.Population.ADULT)}
    assert entries.values("patient").distinct().count() > 5
    waiting = PlanVersion.objects.filter(plan__patient__organization=org, status="awaiting_patient")
    assert waiting.count() == 1 and waiting.get().number >= 2
    assert verify_chain() == []
