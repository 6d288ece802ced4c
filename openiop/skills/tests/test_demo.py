"""The demo's practice logs and the plan revision left for the patient to sign; the same after a second run."""

from __future__ import annotations

import pytest
from django.utils import timezone

from openiop.core.audit import verify_chain
from openiop.demo.clinic import ensure_demo_clinic
from openiop.demo.intake import seed_demo_intake
from openiop.demo.plans import ensure_demo_plans
from openiop.demo.skills import ensure_demo_practice
from openiop.plans.models import PlanVersion
from openiop.programs.models import Program
from openiop.skills.models import PracticeEntry


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_demo_practice_and_plan_to_sign_are_idempotent(demo_clinic):
    today = timezone.localdate()
    org = ensure_demo_clinic(today).organization
    seed_demo_intake(org, today)
    ensure_demo_plans(org, today)
    made = ensure_demo_practice(org, today)
    entries = PracticeEntry.objects.filter(patient__organization=org)
    assert made == entries.count() > 0
    programs = set(entries.values_list("episode__program__focus", "episode__program__population").distinct())
    assert programs == {(Program.Focus.MENTAL_HEALTH, Program.Population.ADULT)}
    assert entries.values("patient").distinct().count() > 5
    waiting = PlanVersion.objects.filter(plan__patient__organization=org, status="awaiting_patient")
    assert waiting.count() == 1 and waiting.get().number >= 2
    assert verify_chain() == []

    assert ensure_demo_practice(org, today) == 0
    assert entries.count() == made and waiting.count() == 1
