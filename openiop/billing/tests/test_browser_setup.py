"""Billing setup in headless Chromium: billing staff add a payer through its form, then pick it for a coverage on
the chart's Insurance tab (no console error, no CSP violation: the browser fixture fails the test on either)."""

from __future__ import annotations

import pytest

from openiop.testing.browser import screenshot, sign_in
from openiop.testing.fixtures import build_clinic, make_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_a_payer_then_pick_it_for_a_coverage(page, live_server):
    clinic = build_clinic()
    patient = make_patient(clinic)
    sign_in(page, live_server, "billing")
    page.goto(f"{live_server.url}/billing/setup/")
    page.get_by_role("link", name="Add payer").click()
    page.get_by_label("Name").fill("Lakeshore Health Plan")
    page.get_by_label("EDI payer ID").fill("lkshp")
    page.get_by_label("Payer type").select_option("commercial")
    page.get_by_label("Claim filing indicator").select_option("CI")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/billing/setup/#payers")
    payers = page.locator("#payers")
    assert "Lakeshore Health Plan" in payers.inner_text() and "LKSHP" in payers.inner_text()
    screenshot(page, "billing-setup")

    page.goto(f"{live_server.url}/patients/{patient.public_id}/coverages/new/")
    page.get_by_label("Payer", exact=True).select_option(label="Lakeshore Health Plan (LKSHP)")
    page.get_by_label("Member ID").fill("LKS123456")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}{patient.get_absolute_url()}?tab=insurance")
    assert "payer ID LKSHP" in page.locator("main").inner_text()
