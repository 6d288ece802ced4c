"""The questionnaire in a real headless Chromium: a phone on the token link (partial saves, the crisis path), live
C-SSRS skip logic, the clinic tablet hand-over, and the staff chart tab with its plots and the alert banner."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from openiop.measures import actions
from openiop.measures.models import Administration, SafetyAlert
from openiop.measures.schedules import CSSRS
from openiop.testing.browser import screenshot, sign_in
from openiop.testing.fixtures import build_clinic, make_patient
from openiop.testing.measures import completed, phq9, start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}


def _wait_saved(administration: Administration, code: str, value: int, page) -> None:
    for _ in range(50):
        administration.refresh_from_db()
        if administration.answers.get(code) == value:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{code} was not saved: {administration.answers}")


def test_the_phone_link_saves_each_answer_and_shows_crisis_resources_at_once(page, live_server):
    clinic = build_clinic()
    patient = make_patient(clinic)
    administration = start(patient, clinic.clinician, "phq9")
    _, token = actions.do_create_link(administration, acting_user=clinic.clinician)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/q/{token}/")
    crisis = page.locator("#crisis")
    assert not crisis.is_visible()
    assert page.get_by_text(patient.legal_last_name).count() == 0
    screenshot(page, "measures-01-link-phone")
    page.locator("label[for=phq9_1-1]").click()
    _wait_saved(administration, "phq9_1", 1, page)
    page.locator("label[for=phq9_2-2]").click()
    _wait_saved(administration, "phq9_2", 2, page)
    page.get_by_text("2 of 9 answered").wait_for()
    # Leaving and coming back: the partial answers are still there.
    page.reload()
    assert page.locator("#phq9_2-2").is_checked()
    assert not crisis.is_visible()
    # The critical answer: the resources show on the click itself, and the server raises the alert.
    page.locator("label[for=phq9_9-1]").click()
    crisis.wait_for(state="visible", timeout=2000)
    assert crisis.get_by_role("link", name="988").count() == 1
    assert crisis.get_by_text("911").count() == 1 and crisis.get_by_text(clinic.org.phone).count() == 1
    assert crisis.get_by_role("link").first.get_attribute("href") == "tel:988"
    _wait_saved(administration, "phq9_9", 1, page)
    assert SafetyAlert.objects.filter(administration=administration).count() == 1
    page.wait_for_timeout(300)  # let the out-of-band swap settle: the panel must stay shown
    assert crisis.is_visible()
    screenshot(page, "measures-02-link-crisis")
    for n in range(3, 9):
        page.locator(f"label[for=phq9_{n}-0]").click()
    _wait_saved(administration, "phq9_8", 0, page)
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    assert page.locator("#crisis").is_visible()
    screenshot(page, "measures-03-link-thanks")
    administration.refresh_from_db()
    assert (administration.status, administration.total, administration.channel) == ("completed", 4, "link")
    page.goto(f"{live_server.url}/q/{token}/")
    page.get_by_role("heading", name="This link is not available").wait_for()


def test_cssrs_skip_logic_is_live(page, live_server):
    clinic = build_clinic()
    patient = make_patient(clinic)
    administration = start(patient, clinic.clinician, CSSRS)
    _, token = actions.do_create_link(administration, acting_user=clinic.clinician)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/q/{token}/")
    q3 = page.locator(f"#item-{CSSRS}_3")
    assert not q3.is_visible()
    page.locator(f"label[for={CSSRS}_1-0]").click()
    page.locator(f"label[for={CSSRS}_2-1]").click()
    q3.wait_for(state="visible")
    assert page.locator(f"#item-{CSSRS}_5").is_visible()
    assert not page.locator("#crisis").is_visible()
    screenshot(page, "measures-04-cssrs-skip-logic")
    page.locator(f"label[for={CSSRS}_3-1]").click()  # thinking about how: moderate risk
    page.locator("#crisis").wait_for(state="visible")
    page.locator(f"label[for={CSSRS}_2-0]").click()  # back to no: 3-5 disappear, the resources stay
    q3.wait_for(state="hidden")
    assert page.locator("#crisis").is_visible()
    _wait_saved(administration, f"{CSSRS}_2", 0, page)
    administration.refresh_from_db()
    assert f"{CSSRS}_3" not in administration.answers
    assert SafetyAlert.objects.filter(administration=administration).exists()


def test_the_clinic_tablet_hand_over_ends_on_a_locked_screen(page, live_server):
    clinic = build_clinic()
    patient = make_patient(clinic)
    start(patient, clinic.clinician, "gad7")
    other = make_patient(clinic, legal_first_name="Other", legal_last_name="Waiting")
    start(other, clinic.clinician, "gad7")
    sign_in(page, live_server, "clinician", viewport=TABLET)
    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=measures")
    page.get_by_role("button", name="Hand the tablet to the patient").click()
    page.wait_for_url("**/q/tablet/")
    assert page.get_by_text("clinic tablet").count() == 1
    assert page.get_by_text(patient.legal_last_name).count() == 0
    assert page.get_by_text("Waiting").count() == 0
    for n in range(1, 8):
        page.locator(f"label[for=gad7_{n}-1]").click()
    screenshot(page, "measures-05-tablet-form")
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name="Thank you. Please hand the tablet back to a staff member.").wait_for()
    screenshot(page, "measures-06-tablet-locked")
    page.goto(f"{live_server.url}/patients/")  # the staff session is gone
    page.wait_for_url("**/accounts/login/**")
    done = Administration.objects.get(patient=patient)
    assert (done.status, done.channel, done.total) == ("completed", "tablet", 7)


def test_the_chart_tab_plots_scores_with_bands_and_the_banner_shows(page, live_server):
    clinic = build_clinic()
    patient = make_patient(clinic)
    for weeks, total in enumerate((19, 17, 16, 15, 15)):
        completed(patient, clinic.clinician, "phq9", phq9(total), today=date(2026, 11, 2) + timedelta(weeks=weeks))
    for weeks, total in enumerate((14, 12, 9, 6)):
        completed(patient, clinic.clinician, "gad7", {f"gad7_{n}": 0 for n in range(1, 8)} | _gad(total),
                  today=date(2026, 11, 2) + timedelta(weeks=weeks))  # fmt: skip
    completed(patient, clinic.clinician, "phq9", phq9(14, item9=1))
    start(patient, clinic.clinician, "gad7")
    sign_in(page, live_server, "clinician", viewport=TABLET)
    page.locator("#safety-alert-banner").wait_for()
    assert "1 safety alert" in page.locator("#safety-alert-banner").inner_text()
    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=measures")
    page.locator("#mq-panel-phq9").wait_for()
    assert page.locator("svg.mq-trend").count() == 2
    assert page.locator("#chart-tab").get_by_text("Not on track").count() == 1
    screenshot(page, "measures-07-chart-tab")
    page.locator("#chart-tab").get_by_role("button", name="Acknowledge").click()
    page.get_by_text("Alert acknowledged").wait_for()
    assert page.locator("#safety-alert-banner").count() == 0
    page.goto(f"{live_server.url}/patients/")
    page.locator("svg.mq-spark").first.wait_for()
    screenshot(page, "measures-08-patient-list-sparklines")


def _gad(total: int) -> dict[str, int]:
    answers = {}
    for n in range(1, 8):
        step = min(3, total)
        answers[f"gad7_{n}"] = step
        total -= step
    return answers


def test_resolving_an_alert_and_the_outcome_report(page, live_server):
    clinic = build_clinic()
    for i, (first, last) in enumerate(((20, 6), (16, 13), (12, 19))):
        p = make_patient(clinic, legal_first_name=f"P{i}", legal_last_name="Course")
        completed(p, clinic.clinician, "phq9", phq9(first), today=date(2026, 11, 2))
        completed(p, clinic.clinician, "phq9", phq9(last, item9=1 if i == 0 else 0), today=date(2026, 11, 30))
    alert = SafetyAlert.objects.get()
    sign_in(page, live_server, "clinician", viewport=TABLET)
    page.goto(f"{live_server.url}/measures/alerts/")
    screenshot(page, "measures-09-alerts")
    page.get_by_role("link", name="Open alert for P0 Course").click()
    page.get_by_role("button", name="Resolve alert").click()
    page.get_by_text("Say what was done").wait_for()
    page.get_by_label("Safety plan reviewed").check()
    page.get_by_role("textbox", name="Note").fill("Reviewed the safety plan together; follow-up call tomorrow.")
    screenshot(page, "measures-10-resolve")
    page.get_by_role("button", name="Resolve alert").click()
    page.get_by_text("Alert resolved.").wait_for()
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.resolution_action == "safety_plan"
    page.goto(f"{live_server.url}/measures/reports/programs/{clinic.mh.public_id}/")
    page.get_by_role("cell", name="All tracks").wait_for()
    screenshot(page, "measures-11-outcomes")
