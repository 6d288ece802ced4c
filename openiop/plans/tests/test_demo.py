"""The demo's treatment plans: most active episodes in force, one overdue, one awaiting co-signature, one revised
after a review; the same after a second run."""

from __future__ import annotations

import pytest
from django.utils import timezone

from openiop.core.audit import verify_chain
from openiop.demo.clinic import ensure_demo_clinic
from openiop.demo.intake import seed_demo_intake
from openiop.demo.plans import ensure_demo_plans
from openiop.patients.models import EpisodeOfCare
from openiop.plans.diff import diff_versions
from openiop.plans.models import Goal, Intervention, PlanVersion, Problem, ProgressReview, TreatmentPlan


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_demo_plans_cover_every_state_and_are_idempotent(demo_clinic):
    today = timezone.localdate()
    demo = ensure_demo_clinic(today)
    org = demo.organization
    seed_demo_intake(org, today)  # the diagnoses the plans' problems link, as `openiop demo` seeds them first
    episodes = EpisodeOfCare.objects.filter(patient__organization=org, status="active", admitted_on__isnull=False)
    made = ensure_demo_plans(org, today)
    assert made >= 0.7 * episodes.count()

    plans = TreatmentPlan.objects.filter(patient__organization=org)
    active = plans.filter(current_version__isnull=False)
    assert active.count() >= made - 2
    versions = PlanVersion.objects.filter(plan__in=plans)
    assert all(v.patient_signed_at and v.clinician_signed_at for v in versions.filter(status="active"))

    waiting = versions.get(status="awaiting_cosign")
    assert waiting.author.supervisor is not None and waiting.author.username == "intern"

    overdue = [p for p in plans.filter(current_version__isnull=True) if p.due_on < today]
    # Overdue: the half-written draft, and the intern's plan still waiting for its co-signature.
    assert sorted(p.versions.get().status for p in overdue) == ["awaiting_cosign", "draft"]
    latest = plans.get(versions__isnull=True)
    assert latest.episode == episodes.order_by("admitted_on", "patient__mrn").last()

    # Interventions name the clinic's staff; problems link to the intake diagnosis where the intake demo made one.
    assert Intervention.objects.filter(objective__goal__problem__version__plan__in=plans, responsible=None).count() == 0
    assert Problem.objects.filter(version__plan__in=plans, diagnosis__isnull=False).exists()
    codes = set(Goal.objects.filter(problem__version__plan__in=plans).values_list("measure_code", flat=True))
    assert {"phq9", "gad7", ""} <= codes

    (review,) = ProgressReview.objects.filter(plan__in=plans, status="completed")
    second = review.next_version
    assert second is not None and review.outcome == "modify_plan" and second.status == "active"
    first = review.plan.versions.get(number=1)
    assert first.status == "superseded"
    changes = diff_versions(first, second)
    assert [(i.kind, i.change) for i in changes.items] == [("objective", "changed")]
    assert [f.label for f in changes.text] == ["Barriers"]

    counts = sorted(versions.values_list("plan_id", "number", "status"))
    assert ensure_demo_plans(org, today) == 0
    assert sorted(PlanVersion.objects.filter(plan__in=plans).values_list("plan_id", "number", "status")) == counts
    assert verify_chain() == []
