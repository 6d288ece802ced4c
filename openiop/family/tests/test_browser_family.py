"""A family member in a real headless Chromium sees only what the release names; staff revoke the release in the
consents UI; the family member's next page load shows nothing shared."""

from __future__ import annotations

import pytest

from openiop.family.actions import do_create_material
from openiop.family.tests.conftest import REMARK, fill_record
from openiop.patients.actions import do_add_support_contact
from openiop.testing.browser import screenshot, sign_in_with_session
from openiop.testing.family import family_account, family_release
from openiop.testing.fixtures import PASSWORD, build_clinic, make_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_family_member_sees_what_the_release_names_until_staff_revoke_it(page, live_server):
    clinic = build_clinic()
    patient = make_patient(clinic)
    contact = do_add_support_contact(patient, acting_user=None, name="Sam Rivera", relationship="sibling")
    account = family_account(patient, contact)
    release = family_release(patient, clinic.clinician, contact, ["schedule", "attendance", "education"])
    fill_record(clinic, patient)
    do_create_material(
        clinic.mh, acting_user=clinic.clinician, title="Living with depression", summary="How families can help."
    )

    sign_in_with_session(page, live_server, account.user)
    page.goto(f"{live_server.url}/family/")
    page.get_by_role("heading", name="What is shared with you").wait_for()
    subnav = page.get_by_role("navigation", name="What is shared with you")
    assert [t.strip() for t in subnav.get_by_role("link").all_inner_texts()] == [
        "Overview",
        "Family sessions",
        "Attendance",
        "Education materials",
    ]
    screenshot(page, "family-01-home")

    subnav.get_by_role("link", name="Family sessions").click()
    page.locator("#family-sessions").get_by_text("Family session").wait_for()
    assert "5:30 PM" in page.locator("#family-sessions").inner_text()
    screenshot(page, "family-02-schedule")

    page.get_by_role("navigation", name="What is shared with you").get_by_role("link", name="Attendance").click()
    table = page.locator("#family-attendance")
    table.wait_for()
    assert sorted(table.locator("tbody .badge").all_inner_texts()) == ["No", "Yes"]
    body = page.locator("main").inner_text()
    assert REMARK not in body and "Process group" not in body and "unexcused" not in body.lower()
    screenshot(page, "family-03-attendance")

    page.goto(f"{live_server.url}/family/plan/")
    page.get_by_role("heading", name="Treatment goals: not shared with you").wait_for()
    assert "Mood improves" not in page.locator("main").inner_text()

    # Staff revoke the release in the consents UI, in their own browser session.
    staff = page.context.browser.new_context(viewport={"width": 1280, "height": 900})
    desk = staff.new_page()
    desk.goto(f"{live_server.url}/accounts/login/")
    desk.get_by_label("Username").fill("frontdesk")
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Sign in").click()
    desk.wait_for_url(f"{live_server.url}/")
    desk.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=family")
    tab = desk.locator("#chart-tab")
    tab.get_by_text("Sam Rivera (Sibling)").wait_for()
    assert "Attendance" in tab.locator("tr.table-success").all_inner_texts()[1]
    screenshot(desk, "family-04-staff-tab")
    desk.goto(f"{live_server.url}/consents/{release.public_id}/")
    desk.get_by_label("The patient's written revocation").fill("Please stop sharing with my brother. (signed)")
    desk.get_by_role("button", name="Revoke now").click()
    desk.get_by_text("Revoked", exact=True).first.wait_for()
    screenshot(desk, "family-05-revoked")
    staff.close()

    # The family member's next page load: nothing shared, and no hint of why.
    page.goto(f"{live_server.url}/family/attendance/")
    page.get_by_role("heading", name="Attendance: not shared with you").wait_for()
    assert page.locator("#family-attendance").count() == 0
    page.goto(f"{live_server.url}/family/")
    page.get_by_role("heading", name="Nothing is shared with you right now").wait_for()
    text = page.locator("main").inner_text()
    assert "555-0100" in text and "revoked" not in text.lower()
    screenshot(page, "family-06-nothing-shared")
