"""A treatment plan in a real headless Chromium: the chart's Plan tab, the HTMX editor (problem, goal with a PHQ-9
target, objective, intervention), the clinician's and the patient's signatures, a review that modifies the plan,
version 2 signed, the diff, and the PDF."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from openiop.plans.models import PlanVersion, TreatmentPlan
from openiop.plans.policy import local_today
from openiop.testing import measures as mt
from openiop.testing.browser import PDF_STEP_TIMEOUT_MS, screenshot, sign_in
from openiop.testing.fixtures import build_clinic, make_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _add(page, summary: str):
    """Open the editor's "Add ..." fold and return it (the editor is swapped whole after each save)."""
    fold = page.locator("#plan-editor details", has=page.get_by_text(summary, exact=True)).last
    if fold.get_attribute("open") is None:
        fold.locator("summary").click()
    return fold


def _sign_for_patient(page, name: str) -> None:
    page.get_by_role("link", name="Patient signs").click()
    page.get_by_label("Patient's full name (typed)").fill(name)
    page.get_by_label("Typed name").check()
    page.get_by_label(re.compile("I took part in writing this plan")).check()
    page.get_by_role("button", name="Sign", exact=True).click()


def test_a_clinician_writes_signs_reviews_and_revises_a_plan(page, live_server):
    clinic = build_clinic()
    patient = make_patient(clinic)
    today = local_today(clinic.mh)
    sign_in(page, live_server, "clinician")

    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=plan")
    tab = page.locator("#chart-tab")
    screenshot(page, "plans-01-tab")
    tab.get_by_role("button", name="Write the plan").click()
    page.locator("#plan-editor").wait_for()
    editor = page.locator("#plan-editor")

    editor.get_by_label("Strengths").fill("Supportive sister; keeps a job.")
    editor.get_by_label("In the patient's own words").fill("I want my life back.")
    # The editor is swapped whole: wait for the save's answer before typing into the next form.
    with page.expect_response(lambda r: r.url.endswith("/text/")):
        editor.get_by_role("button", name="Save strengths, barriers and the patient's words").click()

    form = page.locator("#plan-editor section", has=page.get_by_role("heading", name="Add a problem"))
    form.get_by_label("Problem").fill("Depressed mood most days.")
    form.get_by_role("button", name="Add the problem").click()
    page.get_by_role("heading", name="Problem 1: Depressed mood most days.").wait_for()

    fold = _add(page, "Add a goal")
    fold.get_by_label("Goal").fill("Mood lifts.")
    fold.get_by_label("Measure").select_option("phq9")
    fold.get_by_label("Score").select_option("lt")
    fold.get_by_label("Target").fill("10")
    fold.get_by_role("button", name="Add the goal").click()
    page.locator("#plan-editor").get_by_text("PHQ-9 below 10").wait_for()

    fold = _add(page, "Add an objective")
    fold.get_by_label("Objective (measurable)").fill("Uses two coping skills daily, 5 of 7 days.")
    fold.get_by_label("Target date").fill(str(today + timedelta(days=28)))
    fold.get_by_role("button", name="Add the objective").click()
    page.locator("#plan-editor").get_by_text("Uses two coping skills daily, 5 of 7 days.").first.wait_for()

    fold = _add(page, "Add an intervention")
    fold.get_by_label("Modality").select_option("cbt_skills")
    fold.get_by_label("Frequency").fill("3x weekly")
    fold.get_by_label("Responsible").select_option(label=clinic.clinician.display_name)
    fold.get_by_role("button", name="Add the intervention").click()
    page.locator("#plan-editor").get_by_text("CBT skills group, 3x weekly").wait_for()
    screenshot(page, "plans-02-editor")

    page.get_by_role("button", name="Sign as the clinician").click()
    page.get_by_role("link", name="Patient signs").wait_for()
    _sign_for_patient(page, "Jordan Rivera")
    page.get_by_role("link", name="Back to the chart").wait_for()
    plan = TreatmentPlan.objects.get(episode__patient=patient)
    first = plan.versions.get()
    assert first.status == PlanVersion.Status.ACTIVE and first.patient_signature_name == "Jordan Rivera"
    goal = first.problems.get().goals.get()
    assert (goal.measure_code, goal.measure_comparator, goal.measure_target) == ("phq9", "lt", 10)
    screenshot(page, "plans-03-active")

    mt.completed(patient, clinic.clinician, "phq9", mt.phq9(17), today=today - timedelta(days=21))
    mt.completed(patient, clinic.clinician, "phq9", mt.phq9(9), today=today - timedelta(days=1))
    review = plan.reviews.get(status="due")
    page.goto(f"{live_server.url}/plans/reviews/{review.public_id}/")
    page.get_by_label("Modify the plan").check()
    page.get_by_label("Summary").fill("Attending well; first objective too easy, raise it.")
    measures = page.locator("[data-trend='phq9']")
    assert "17 → 9" in measures.inner_text() and measures.locator("svg").count() == 1
    assert "met" in measures.get_by_text(re.compile("Goal")).inner_text()
    screenshot(page, "plans-04-review")
    page.get_by_role("button", name="Record the review").click()
    page.locator("#plan-editor").wait_for()
    second = plan.versions.get(number=2)
    assert second.status == PlanVersion.Status.DRAFT

    fold = page.locator("#plan-editor details", has=page.get_by_text("Edit the objective", exact=True)).first
    fold.locator("summary").click()
    fold.get_by_label("Objective (measurable)").fill("Uses two coping skills daily and teaches one to family.")
    fold.get_by_role("button", name="Save the objective").click()
    page.locator("#plan-editor").get_by_text("teaches one to family").first.wait_for()
    page.get_by_role("button", name="Sign as the clinician").click()
    _sign_for_patient(page, "Jordan Rivera")
    page.get_by_role("link", name="Back to the chart").wait_for()
    second.refresh_from_db()
    first.refresh_from_db()
    assert (first.status, second.status) == ("superseded", "active")

    page.get_by_role("link", name="Changes from version 1").click()
    page.get_by_text("teaches one to family").first.wait_for()
    body = page.locator("main").inner_text()
    assert "Uses two coping skills daily, 5 of 7 days." in body
    screenshot(page, "plans-05-diff")

    response = page.request.get(f"{live_server.url}/plans/versions/{second.public_id}/plan.pdf",
                                timeout=PDF_STEP_TIMEOUT_MS)  # fmt: skip
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.body()[:5] == b"%PDF-"
