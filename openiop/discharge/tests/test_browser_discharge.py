"""A discharge in a real headless Chromium: the chart's Discharge tab, the draft's HTMX sections (a field error that
keeps what was typed), signing, the episode discharged with its coded reason, the follow-ups, the 7-day outcome,
and the summary PDF."""

from __future__ import annotations

import pytest

from openiop.discharge.models import AftercarePlan, DischargeSummary, FollowUp
from openiop.testing.browser import PDF_STEP_TIMEOUT_MS, screenshot, sign_in
from openiop.testing.discharge import attend
from openiop.testing.fixtures import build_clinic
from openiop.testing.scheduling import admit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clinician_discharges_signs_records_the_first_check_in_and_downloads_the_pdf(page, live_server):
    clinic = build_clinic()
    episode = admit(clinic, "Avery", admitted_days_ago=30)
    attend(episode, clinic.clinician, ["present", "present", "late", "absent_unexcused", "present"])
    patient = episode.patient
    sign_in(page, live_server, "clinician")

    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=discharge")
    tab = page.locator("#chart-tab")
    tab.get_by_label("Discharge reason (TEDS-D)").select_option("1")
    screenshot(page, "discharge-01-tab")
    tab.get_by_role("button", name="Start the discharge").click()
    page.get_by_role("heading", name="Discharge summary Draft").wait_for()
    summary = DischargeSummary.objects.get(episode=episode)
    assert page.get_by_text("Describe the course of treatment.").count() == 1

    summary_form = page.locator("#section-summary")
    summary_form.get_by_label("Course of treatment").fill("Attended groups; learned DBT distress-tolerance skills.")
    summary_form.get_by_label("Condition at discharge").fill("Stable, engaged; no current suicidal ideation.")
    summary_form.get_by_role("button", name="Save discharge summary").click()
    page.locator("#section-summary").get_by_text("Saved.").wait_for()
    page.get_by_text("Describe the course of treatment.").wait_for(state="detached")

    # "Other" without saying what: the action's field error comes back in the fragment, the typing is kept.
    step = page.locator("#section-step_down")
    step.get_by_label("Step-down level").select_option("other")
    step.get_by_label("Provider").fill("Dr. Alba Mockridge")
    step.get_by_label("Organization").fill("Northside Counseling")
    step.get_by_label("Phone").fill("555-0142")
    step.get_by_role("button", name="Save step-down and next appointment").click()
    step = page.locator("#section-step_down")
    step.get_by_text("Say what the other level or service is.").wait_for()
    assert step.get_by_text("Not saved: check the fields marked.").count() == 1
    assert step.get_by_label("Provider").input_value() == "Dr. Alba Mockridge"
    assert step.get_by_label("Organization").input_value() == "Northside Counseling"
    assert step.get_by_label("Step-down level").input_value() == "other"
    assert AftercarePlan.objects.get(episode=episode).appointment_provider == ""
    screenshot(page, "discharge-02-field-error")
    step.get_by_label("Step-down level").select_option("asam_1")
    step.get_by_role("button", name="Save step-down and next appointment").click()
    page.locator("#section-step_down").get_by_text("Saved.").wait_for()

    supports = page.locator("#section-supports")
    supports.get_by_label("Group 1", exact=True).fill("SMART Recovery")
    supports.get_by_label("When group 1 meets").fill("Tuesdays 7 pm, online")
    supports.get_by_label("Medications").fill("Sertraline 100 mg daily, Dr. Mockridge")
    supports.get_by_role("button", name="Save support groups, medications, family").click()
    page.locator("#section-supports").get_by_text("Saved.").wait_for()
    sign_panel = page.locator("#sign-panel")
    sign_panel.get_by_text("Everything signing needs is filled in.").wait_for()
    plan = AftercarePlan.objects.get(episode=episode)
    assert plan.step_down_level == "asam_1" and plan.support_groups == [
        {"name": "SMART Recovery", "schedule": "Tuesdays 7 pm, online"}
    ]
    assert plan.safety_plan["professionals"]  # 988 prefilled
    screenshot(page, "discharge-03-ready-to-sign")

    sign_panel.get_by_role("button", name="Sign the summary and discharge").click()
    page.get_by_text("Discharge summary signed; the episode is discharged").wait_for()
    episode.refresh_from_db()
    assert (episode.status, episode.discharge_reason) == ("discharged", "1")
    follow_ups = page.locator("tbody tr[id^=follow-up-]")
    assert follow_ups.count() == 3
    assert [f.days_after for f in FollowUp.objects.filter(episode=episode)] == [7, 30, 90]
    assert f"{summary.get_reason_display()} (TEDS-D 1)" in page.locator("main").inner_text()
    signer = clinic.clinician.display_name  # already carries the credentials: printed once
    assert page.get_by_text(f"Signed by {signer}").count() == 1 and f"{signer}, LCSW" not in page.content()
    screenshot(page, "discharge-04-signed")

    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=discharge")
    tab = page.locator("#chart-tab")
    tab.get_by_text("Summary signed").wait_for()
    assert tab.get_by_text(f"({episode.get_discharge_reason_display()})").count() == 1
    assert tab.locator("tr.follow-up-due").count() == 3
    tab.get_by_role("link", name="Open the discharge from").click()

    first = FollowUp.objects.get(episode=episode, days_after=7)
    row = page.locator(f"#follow-up-{first.public_id}")
    row.get_by_label("Outcome").select_option("reached_aftercare")
    row.get_by_role("button", name="Record the 7-day check-in").click()
    # Reached outcomes must say whether they attend aftercare and were readmitted: the row keeps the outcome.
    row = page.locator(f"#follow-up-{first.public_id}")
    row.get_by_text("Say whether they are attending aftercare.").wait_for()
    assert row.get_by_label("Outcome").input_value() == "reached_aftercare"
    row.get_by_label("Attending aftercare?").select_option("yes")
    row.get_by_label("Readmitted to a higher level of care?").select_option("no")
    row.get_by_label("Note").fill("Saw the outpatient counselor on Monday.")
    row.get_by_role("button", name="Record the 7-day check-in").click()
    page.locator(f"#follow-up-{first.public_id}").get_by_text("Recorded.").wait_for()
    first.refresh_from_db()
    assert (first.status, first.outcome, first.attending_aftercare, first.readmitted) == (
        "done",
        "reached_aftercare",
        True,
        False,
    )
    assert first.task is not None and first.task.status == "done"
    screenshot(page, "discharge-05-follow-up-recorded")

    with page.expect_download(timeout=PDF_STEP_TIMEOUT_MS) as download_info:
        page.get_by_role("link", name="Summary PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"discharge-summary-{summary.discharge_on:%Y-%m-%d}.pdf"
    with open(download.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"

    page.locator("#mainnav").get_by_role("link", name="Follow-ups").click()
    page.get_by_role("heading", name="Aftercare follow-ups").wait_for()
    assert page.locator("#mainnav a[aria-current=page]").inner_text() == "Follow-ups"
    screenshot(page, "discharge-06-follow-ups")


def test_the_follow_ups_item_keeps_the_directors_menu_on_one_line_at_1280(page, live_server):
    from openiop.patients.emergency import do_grant_emergency_access
    from openiop.testing.fixtures import make_patient

    clinic = build_clinic()
    # A pending emergency review and its work-queue task: the director's widest menu carries both badges.
    do_grant_emergency_access(
        make_patient(clinic), acting_user=clinic.outsider, reason_category="safety_risk", reason="Crisis walk-in."
    )
    sign_in(page, live_server, "director")  # the role with the most menu items
    nav = page.locator("#mainnav")
    assert nav.get_by_role("link", name="Follow-ups").count() == 1
    items = nav.locator("ul.me-auto > li")
    boxes = [items.nth(i).bounding_box() for i in range(items.count())]
    assert len({round(b["y"]) for b in boxes}) == 1, "the menu wrapped onto a second line"
    assert len({round(b["height"]) for b in boxes}) == 1, "an item's label wrapped inside it"
    screenshot(page, "discharge-07-director-menu")
