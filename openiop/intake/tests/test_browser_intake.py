"""Staff complete an intake assessment and the consents in a real headless Chromium, from the patient's chart.

The patient comes from the fixtures (registered and admitted through the real actions), then a clinician does
the intake on one page with HTMX section saves, signs it, records a consent to treatment with a drawn signature,
a release to the patient's sister, and the sister's release is revoked in writing.
"""

from __future__ import annotations

import pytest

from openiop.consents import storage
from openiop.consents.checks import Recipient, may_disclose
from openiop.consents.models import Consent, ConsentStatus
from openiop.intake.models import RISK_QUESTIONS, IntakeAssessment
from openiop.patients.actions import do_add_support_contact
from openiop.testing.browser import PDF_STEP_TIMEOUT_MS, screenshot, sign_in
from openiop.testing.fixtures import build_clinic, make_patient
from openiop.testing.pdftext import plain_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _private_store(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def _save(page, section: str) -> None:
    form = page.locator(f"#section-{section}")
    form.get_by_role("button").click()
    page.locator(f"#section-{section} [role=status]").filter(has_text="Saved.").wait_for()


def test_staff_complete_intake_and_consents(page, live_server):
    clinic = build_clinic()
    patient = make_patient(clinic, legal_first_name="Morgan", legal_last_name="Ellison")
    sister = do_add_support_contact(patient, acting_user=None, name="Dana Ellison", relationship="sibling")
    sign_in(page, live_server, "clinician")

    # Intake: start from the chart's Intake tab.
    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=intake")
    page.get_by_role("link", name="Start an intake assessment").click()
    page.get_by_role("button", name="Start").click()
    page.get_by_role("heading", name="Intake assessment").wait_for()
    assessment = IntakeAssessment.objects.get(patient=patient)

    page.get_by_role("textbox", name="Presenting problem").fill("Panic attacks at work for three months.")
    _save(page, "presenting_problem")
    page.get_by_label("Substance 1", exact=True).fill("Alcohol")
    page.get_by_label("Route 1", exact=True).select_option("oral")
    page.get_by_label("Last use 1", exact=True).fill("2026-01-05")
    _save(page, "substance_use")
    for name, _ in RISK_QUESTIONS:
        page.check(f"#id_{name}_2")  # "No"
    page.get_by_label("Risk assessment and safety plan").fill("Denies ideation; safety plan reviewed.")
    _save(page, "risk")

    grid = page.locator("#ratings-asam3")
    for dim, value in {"d1": "0", "d2": "0", "d3": "2", "d4": "2", "d5": "2", "d6": "1"}.items():
        grid.locator(f"#id_asam3-rating_{dim}").select_option(value)
    grid.locator("#id_asam3-chosen_level").select_option("2.1")
    grid.get_by_role("button").click()
    page.locator("#ratings-asam3 [role=status]").filter(has_text="Saved.").wait_for()

    diagnoses = page.locator("#diagnoses")
    diagnoses.get_by_label("ICD-10-CM code").fill("f41.0")
    diagnoses.get_by_label("Description").fill("Panic disorder")
    diagnoses.get_by_label("Primary diagnosis").check()
    diagnoses.get_by_role("button", name="Add").click()
    page.locator("#diagnoses").get_by_role("button", name="Remove F41.0").wait_for()

    page.check("#id_recommendation_1")  # Admit to IOP
    page.locator("#id_recommended_program").select_option(label=clinic.mh.name)
    _save(page, "recommendation")
    page.locator("#sign-panel").get_by_text("Everything signing needs is filled in.").wait_for()
    screenshot(page, "intake-01-assessment-form")
    page.get_by_role("button", name="Sign and lock the assessment").click()
    page.get_by_text("Assessment signed.").wait_for()
    screenshot(page, "intake-02-signed-read-view")
    assessment.refresh_from_db()
    assert assessment.is_signed
    assert assessment.substances[0]["substance"] == "Alcohol"
    assert assessment.level_ratings.get().chosen_level == "2.1"

    # Consent to treatment with a drawn signature.
    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=consents")
    page.get_by_role("button", name="Record a consent").click()
    page.get_by_role("link", name="Consent to treatment").click()
    box = page.locator("#signature-canvas").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 80)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 80 + (25 if step % 2 else -25))
    page.mouse.up()
    page.get_by_label("I have read this form").check()
    screenshot(page, "consents-01-treatment-form")
    page.get_by_role("button", name="Sign and record").click()
    page.get_by_text("Consent to treatment signed and recorded.").wait_for(timeout=PDF_STEP_TIMEOUT_MS)
    treatment = Consent.objects.get(kind="treatment")
    assert treatment.signature.method == "drawn"
    assert treatment.signature.drawn_image.startswith("data:image/png;base64,")
    assert treatment.signature.ip_address == "127.0.0.1"
    assert treatment.pdf_sha256  # rendered when it was signed
    pdf = storage.read(treatment.pdf_name)
    assert pdf is not None and "Morgan Ellison" in plain_text(pdf)
    screenshot(page, "consents-02-treatment-detail")

    # A release to the sister, then her release revoked in writing.
    page.goto(f"{live_server.url}/consents/patients/{patient.public_id}/new/release/")
    page.get_by_label("Attendance").check()
    page.get_by_label("Treatment plan").check()
    page.get_by_label("A person in my support network").check()
    page.get_by_label("Support contact").select_option(label=str(sister))
    page.get_by_label("Treatment", exact=True).check()
    page.get_by_label("When an event happens").check()
    page.get_by_label("Expires when").fill("Discharge from the program")
    page.get_by_label("Checkbox attestation").check()
    page.get_by_label("I have read this form").check()
    page.get_by_role("button", name="Sign and record").click()
    page.get_by_text("Release of information signed and recorded.").wait_for(timeout=PDF_STEP_TIMEOUT_MS)
    release = Consent.objects.get(kind="release")
    who = Recipient.contact(sister)
    assert may_disclose(patient, recipient=who, data_class="attendance", purpose="treatment")

    page.get_by_label("The patient's written revocation").fill("I no longer want Dana to get my information.")
    page.get_by_role("button", name="Revoke now").click()
    page.get_by_text("Revocation recorded").wait_for()
    release.refresh_from_db()
    assert release.status == ConsentStatus.REVOKED
    assert not may_disclose(patient, recipient=who, data_class="attendance", purpose="treatment")
    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=consents")
    page.locator("#consent-table").get_by_text("Revoked").wait_for()
    screenshot(page, "consents-03-tab-with-revoked-release")
