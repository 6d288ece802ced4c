"""Getting paid in headless Chromium: a billing user builds last month's claims from the form, fixes the setup a
draft names (a missing fee) and scrubs again, writes the 837 file, downloads it (pyx12 finds no error), imports the
clearinghouse's 277CA and sees the claim accepted with the payer's claim number. The claims list is also checked at
phone width (no console error, no CSP violation: the browser fixture fails the test on either)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from openiop.billing.models import FeeScheduleRate
from openiop.claims.models import Claim
from openiop.lib.x12 import validate
from openiop.lib.x12.simulate import acknowledge_277ca
from openiop.testing.browser import screenshot, sign_in
from openiop.testing.claims import billable_days, billed_episode, set_up_billing, weekdays
from openiop.testing.fixtures import build_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _fits(page) -> bool:
    """Nothing makes the page wider than the screen (a table may scroll inside its own box)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_build_fix_send_download_and_acknowledge_a_claim(page, live_server, tmp_path: Path):
    clinic = build_clinic()
    payer = set_up_billing(clinic)
    # The payer's fee has not been entered yet: the claim's lines have no charge, which the scrubber names.
    FeeScheduleRate.objects.filter(organization=clinic.org).delete()
    episode = billed_episode(clinic, payer)
    end = timezone.localdate().replace(day=1) - timedelta(days=1)
    start = end.replace(day=1)
    billable_days(episode, weekdays(start, 3))

    sign_in(page, live_server, "billing")
    page.get_by_role("link", name="Billing", exact=True).click()
    page.get_by_role("link", name="Claims", exact=True).first.click()
    page.get_by_role("link", name="Build claims").click()
    page.get_by_label("Program").select_option(str(clinic.mh.pk))
    page.get_by_label("Payer").select_option(str(payer.pk))
    assert page.get_by_label("From").input_value() == start.isoformat()  # last month, as the form offers it
    page.get_by_role("button", name="Build claims").click()
    row = page.locator("tr[data-claim]")
    assert "Draft" in row.inner_text() and "3 problems" in row.inner_text()
    screenshot(page, "claims-list-draft")

    row.get_by_role("link").click()
    problems = page.get_by_role("alert")
    assert "no fee for S9480" in problems.inner_text()
    screenshot(page, "claims-detail-problems")
    claim_url = page.url

    # The cause: Billing > Setup, add the payer's rate from the first day of the period, then scrub again.
    page.get_by_role("link", name="Billing", exact=True).click()
    page.get_by_role("link", name="Setup", exact=True).click()
    page.get_by_role("link", name="Add rate").click()
    page.get_by_label("Payer").select_option(label=payer.name)
    page.get_by_label("HCPCS / CPT code").fill("s9480")
    page.get_by_label("Rate (USD)").fill("450.00")
    page.get_by_label("Effective from").fill(start.isoformat())
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/billing/setup/**")
    page.goto(claim_url)
    page.get_by_role("button", name="Scrub again").click()
    assert page.locator("[data-claim-status]").get_attribute("data-claim-status") == "ready"
    assert page.locator("[data-problems]").count() == 0

    page.get_by_role("link", name="Claims", exact=True).first.click()
    claim = Claim.objects.get()
    page.get_by_label(f"Send {claim.control_number}").check()
    page.get_by_role("button", name="Write the 837 file for the chosen ready claims").click()
    page.wait_for_url(f"{live_server.url}/claims/files/**")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    text = Path(download.value.path()).read_text()
    assert text.startswith("ISA*") and validate(text) == []
    assert "Jordan" not in download.value.suggested_filename

    ack = tmp_path / "277ca.x12"
    ack.write_text(acknowledge_277ca(text, at=timezone.now(), number=903))
    page.get_by_role("link", name="X12 files").click()
    page.get_by_label("999, 277CA or 835 file").set_input_files(str(ack))
    page.get_by_role("button", name="Import").click()
    assert "imported" in page.get_by_role("alert").first.inner_text()
    page.get_by_role("link", name=claim.control_number).click()
    assert page.locator("[data-claim-status]").get_attribute("data-claim-status") == "accepted"
    assert f"ICN{claim.control_number}" in page.locator("main").inner_text()

    # The list on a phone: the status tiles and the table stay within the screen.
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/claims/")
    assert page.locator("[data-status-count='accepted']").inner_text() == "1"
    assert _fits(page)
    screenshot(page, "claims-list-phone")
    page.goto(claim_url)
    assert _fits(page)
    screenshot(page, "claims-detail-phone")
    page.goto(f"{live_server.url}/claims/files/")
    assert _fits(page)
    screenshot(page, "claims-files-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/claims/")
    screenshot(page, "claims-list")


def test_bill_the_secondary_payer_after_the_primary_paid_and_send_it(page, live_server, tmp_path: Path):
    """The primary payer paid part and left coinsurance: one click bills the secondary payer with that answer."""
    from openiop.claims.tests.test_secondary import primary_claim

    clinic = build_clinic()
    primary, _ = primary_claim(clinic)
    sign_in(page, live_server, "billing")
    page.goto(f"{live_server.url}/claims/{primary.public_id}/")
    page.get_by_role("button", name="Bill the secondary payer").click()
    page.wait_for_url(lambda url: str(primary.public_id) not in url)
    secondary = Claim.objects.get(primary_claim=primary)
    assert page.locator("[data-claim-status]").get_attribute("data-claim-status") == "ready"
    assert f"Secondary to claim {primary.control_number}" in page.locator("main").inner_text()
    screenshot(page, "claims-secondary")

    page.get_by_role("link", name="Claims", exact=True).first.click()
    page.get_by_label(f"Send {secondary.control_number}").check()
    page.get_by_role("button", name="Write the 837 file for the chosen ready claims").click()
    page.wait_for_url(f"{live_server.url}/claims/files/**")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    text = Path(download.value.path()).read_text()
    assert validate(text) == [] and "~SBR*S*" in text and "~AMT*D*" in text  # the primary's answer rides along
