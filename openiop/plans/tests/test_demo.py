"""The demo's treatment plans: most active episodes in force, one overdue, one awaiting co-signature, one revised
after a review (a second run adding nothing is core's demo test)."""

from __future__ import annotations

from openiop.core.audit import verify_chain
from openiop.patients.models import EpisodeOfCare
from openiop.plans.diff import diff_versions
from openiop.plans.models import Goal, Intervention, PlanVersion, Problem, ProgressReview, TreatmentPlan


def test_the_demo_plans_cover_every_state(seeded_demo):
    today = seeded_demo.today
    org = seeded_demo.organization
    episodes = EpisodeOfCare.objects.filter(patient__organization=org, status="active", admitted_on__isnull=False)
    made = seeded_demo.seeded["plans"]
    assert isinstance(made, int)
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
    assert verify_chain() == []
