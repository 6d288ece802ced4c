"""Plans and the measures app: goals aimed at a score, the review page's trends, safety alerts raising reviews."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from openiop.conftest import login
from openiop.measures.models import SafetyAlert
from openiop.plans import actions, content_actions
from openiop.plans.deadlines import run_plan_deadlines
from openiop.plans.forms import measure_choices
from openiop.plans.models import Goal, ProgressReview
from openiop.testing import measures as mt
from openiop.testing.plans import active, draft

HTMX = {"HTTP_HX_REQUEST": "true"}


def _problem(patient, user):
    version = draft(patient, user)
    return content_actions.do_add_problem(version, acting_user=user, statement="Depressed mood most days.")


def test_a_goal_with_a_phq9_target_saves(clinic, patient):
    problem = _problem(patient, clinic.clinician)
    goal = content_actions.do_add_goal(
        problem,
        acting_user=clinic.clinician,
        statement="Mood lifts.",
        measure_code="phq9",
        measure_comparator="lt",
        measure_target=10,
    )
    goal.refresh_from_db()
    assert (goal.measure_code, goal.measure_comparator, goal.measure_target) == ("phq9", "lt", 10)
    assert goal.target_met(9) and not goal.target_met(10)


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"measure_code": "phq99", "measure_comparator": "lt", "measure_target": 10}, {"measure_code"}),
        ({"measure_code": "phq9", "measure_comparator": "lt", "measure_target": None}, {"measure_target"}),
        ({"measure_code": "", "measure_comparator": "lt", "measure_target": None}, {"measure_code", "measure_target"}),
        ({"measure_code": "phq9", "measure_comparator": "lt", "measure_target": 28}, {"measure_target"}),
        ({"measure_code": "gad7", "measure_comparator": "", "measure_target": 5}, {"measure_comparator"}),
        # The C-SSRS total is a risk level, not a score to aim for; the BAM has no total at all.
        ({"measure_code": "cssrs_screener", "measure_comparator": "lt", "measure_target": 1}, {"measure_code"}),
        ({"measure_code": "bam", "measure_comparator": "lt", "measure_target": 1}, {"measure_code"}),
    ],
)
def test_a_bad_measure_target_is_a_field_error_and_saves_nothing(clinic, patient, fields, bad):
    problem = _problem(patient, clinic.clinician)
    with pytest.raises(ValidationError) as exc:
        content_actions.do_add_goal(problem, acting_user=clinic.clinician, statement="Mood lifts.", **fields)
    assert set(exc.value.message_dict) == bad
    assert not Goal.objects.filter(problem=problem).exists()


def test_the_goal_form_offers_the_registry_instruments_with_a_total():
    codes = [code for code, _ in measure_choices()]
    assert codes[0] == "" and "phq9" in codes and "gad7" in codes
    assert "bam" not in codes and not any(c.startswith("cssrs") for c in codes)


def test_the_goal_editor_shows_a_measure_error_and_keeps_what_was_typed(client, clinic, patient):
    problem = _problem(patient, clinic.clinician)
    prefix = f"add-goal-{problem.public_id}"
    data = {
        f"{prefix}-statement": "Worry eases",
        f"{prefix}-measure_code": "gad7",
        f"{prefix}-measure_comparator": "lt",
    }
    response = login(client, clinic.clinician).post(
        reverse("plans:add", args=["goal", problem.public_id]), data, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Give the target score." in html and "Worry eases" in html
    assert not problem.goals.exists()


def _phq9_goal_plan(clinic, patient):
    version = draft(patient, clinic.clinician)
    actions.do_update_version_text(version, acting_user=clinic.clinician, strengths="Keeps a job.")
    problem = content_actions.do_add_problem(version, acting_user=clinic.clinician, statement="Depressed mood.")
    goal = content_actions.do_add_goal(
        problem,
        acting_user=clinic.clinician,
        statement="Mood lifts.",
        measure_code="phq9",
        measure_comparator="lt",
        measure_target=10,
    )
    objective = content_actions.do_add_objective(
        goal, acting_user=clinic.clinician, statement="Two coping skills daily.", target_date=date(2026, 12, 1)
    )
    content_actions.do_add_intervention(
        objective, acting_user=clinic.clinician, modality="cbt_skills", frequency="3x weekly"
    )
    actions.do_sign_version(version, acting_user=clinic.clinician)
    return actions.do_patient_sign(version, acting_user=clinic.clinician, name="Jordan Rivera", method="typed",
                                   agreed=True)  # fmt: skip


def test_the_review_page_shows_the_measure_trend_against_the_goal(client, clinic, patient):
    version = _phq9_goal_plan(clinic, patient)
    mt.completed(patient, clinic.clinician, "phq9", mt.phq9(18), today=date(2026, 11, 3))
    mt.completed(patient, clinic.clinician, "phq9", mt.phq9(12), today=date(2026, 11, 10))
    mt.completed(patient, clinic.clinician, "phq9", mt.phq9(7), today=date(2026, 11, 24))
    mt.completed(patient, clinic.clinician, "gad7", mt.all_items("gad7", 2), today=date(2026, 11, 3))
    review, _ = actions.do_request_review(version.plan, acting_user=clinic.clinician, trigger="other")
    response = login(client, clinic.clinician).get(reverse("plans:review", args=[review.public_id]))
    html = response.content.decode()
    assert response.status_code == 200
    phq9 = html[html.index('data-trend="phq9"') :]
    phq9 = phq9[: phq9.index('data-trend="gad7"')] if 'data-trend="gad7"' in phq9 else phq9
    # measures.change.assess: 18 -> 7 is an 11-point drop (reliable change 6), a response (>= 50%), no remission (< 5).
    assert "18 → 12 → 7" in phq9 and "change -11" in phq9
    assert "reliably improved" in phq9 and "response" in phq9 and "remission" not in phq9
    assert "<svg" in phq9 and "met</strong>" in phq9.split("Goal")[1]
    gad7 = html[html.index('data-trend="gad7"') :]
    assert "GAD-7" in gad7 and "14" in gad7 and "Goal" not in gad7.split("</div>")[0]


def test_a_review_page_with_no_scores_says_so(client, clinic, patient):
    version = active(patient, clinic.clinician)
    review, _ = actions.do_request_review(version.plan, acting_user=clinic.clinician, trigger="other")
    response = login(client, clinic.clinician).get(reverse("plans:review", args=[review.public_id]))
    assert "No scored measures yet." in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_phq9_item9_answer_raises_one_unscheduled_review():
    from openiop.testing.fixtures import build_clinic, make_patient

    clinic = build_clinic()
    patient = make_patient(clinic)
    version = active(patient, clinic.clinician)
    administration = mt.completed(patient, clinic.clinician, "phq9", mt.phq9(6, item9=1))
    alert = SafetyAlert.objects.get(administration=administration)
    reviews = ProgressReview.objects.filter(plan=version.plan, trigger=ProgressReview.Trigger.SAFETY_EVENT)
    assert [r.trigger_key for r in reviews] == [f"safety_alert:{alert.public_id}"]
    # The sweep sees the alert already reviewed; a later answer to the same alert adds no review either.
    assert run_plan_deadlines().safety_reviews == 0
    assert reviews.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_alert_before_the_plan_is_in_force_raises_no_review_until_the_sweep():
    from openiop.testing.fixtures import build_clinic, make_patient

    clinic = build_clinic()
    patient = make_patient(clinic)
    version = draft(patient, clinic.clinician)
    mt.completed(patient, clinic.clinician, "phq9", mt.phq9(6, item9=2))
    assert not ProgressReview.objects.filter(plan=version.plan).exists()
    # Once the plan is in force, the daily sweep raises the review the hook could not.
    active(patient, clinic.clinician)
    assert run_plan_deadlines().safety_reviews == 1
    assert run_plan_deadlines().safety_reviews == 0
    assert ProgressReview.objects.filter(plan=version.plan, trigger="safety_event").count() == 1
