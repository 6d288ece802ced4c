"""The work queue and the billable days page in headless Chromium at tablet size: a clinician finds the outreach
task from the home panel, closes it in place with HTMX; billing staff read the day's decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from openiop.attendance.actions import do_check_in
from openiop.billing.tests.conftest import add_coverage, make_day
from openiop.billing.tests.conftest import rule as make_rule
from openiop.testing.browser import screenshot, sign_in
from openiop.testing.fixtures import build_clinic
from openiop.worklist.models import WorkTask
from openiop.worklist.tests.conftest import UNEXCUSED, person_with_sessions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 1024, "height": 1366}


def test_a_clinician_closes_an_outreach_task_from_the_queue(page, live_server):
    clinic = build_clinic()
    robin = person_with_sessions(clinic, [6, 4, 2], "Robin")
    robin.mark(0, UNEXCUSED)
    robin.mark(1, UNEXCUSED)
    sky = person_with_sessions(clinic, [9, 7], "Sky", legal_last_name="Okafor")
    sky.mark(0, UNEXCUSED)
    sky.mark(1, UNEXCUSED)
    WorkTask.objects.filter(episode=sky.episode).update(due_on=clinic.mh.now().date() - timedelta(days=2))

    sign_in(page, live_server, "clinician", viewport=TABLET)
    panel = page.get_by_role("region", name="My tasks")
    panel.get_by_text("Robin Rivera").wait_for()
    assert panel.get_by_text("Overdue").count() == 1
    assert page.get_by_role("link", name="Work queue 2 open tasks").count() == 1
    screenshot(page, "worklist-01-home-panel")

    page.get_by_role("link", name="Work queue 2 open tasks").click()
    page.get_by_role("heading", name="Work queue").wait_for()
    table = page.get_by_role("table", name="Tasks assigned to you")
    assert table.get_by_role("row").count() == 3
    screenshot(page, "worklist-02-queue")

    row = table.get_by_role("row").filter(has_text="Robin Rivera")
    row.get_by_role("link", name="Close or reassign").click()
    page.get_by_label("Left a message").check()
    page.get_by_label("Note (optional)").fill("Voicemail; will call again Thursday")
    screenshot(page, "worklist-03-close-panel")
    page.get_by_role("button", name="Close task").click()
    closed = table.get_by_role("row").filter(has_text="Robin Rivera")
    closed.get_by_text("Voicemail; will call again Thursday").wait_for()
    assert closed.get_by_text("Left a message").count() == 1
    screenshot(page, "worklist-04-closed")
    task = WorkTask.objects.get(episode=robin.episode)
    assert (task.status, task.outcome) == (WorkTask.Status.DONE, WorkTask.Outcome.LEFT_MESSAGE)


def test_billing_staff_read_the_days_and_their_reasons(page, live_server):
    clinic = build_clinic()
    make_rule(clinic, name="Medicare IOP (CMHC)", payer_kind="medicare", code="APC 5851/5852", high_tier_services=4)
    make_rule(clinic, name="Commercial psychiatric IOP", code="S9480", min_minutes_per_day=180)
    for name, count, payer in (("Ada", 4, "medicare"), ("Bo", 3, "medicare"), ("Cy", 3, ""), ("Di", 2, "medicare")):
        day = make_day(clinic, legal_first_name=name, days_ago=2)
        if payer:
            add_coverage(day.patient, payer)
        day.attend(count)
    late = make_day(clinic, legal_first_name="Eve", days_ago=3, sessions=3)
    add_coverage(late.patient, "medicare")
    late.attend(2)
    do_check_in(late.sessions[2], late.patient, acting_user=clinic.clinician, status="late", late_minutes=20)

    sign_in(page, live_server, "billing", viewport=TABLET)
    page.get_by_role("link", name="Billing").click()
    page.get_by_role("heading", name="Billing").wait_for()
    table = page.get_by_role("table", name="Billable-day decisions")
    assert table.get_by_role("row").count() == 6
    assert page.get_by_text("4 services, 220 min: meets Medicare IOP (CMHC) (3 services); 4+ service tier").count() == 1
    assert page.get_by_text("3 services, 165 min: Commercial psychiatric IOP needs 180 min").count() == 1
    screenshot(page, "billing-01-days")

    page.get_by_role("link", name="Payer rules").click()
    page.get_by_role("table", name="Payer rules").wait_for()
    screenshot(page, "billing-02-rules")
