"""A clinician's first minutes, in a real headless Chromium: sign in with MFA, find a patient, open the chart."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from openiop.core.models import AuditAction, AuditEvent
from openiop.testing.browser import screenshot
from openiop.testing.fixtures import PASSWORD, build_clinic, make_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_clinician_signs_in_with_mfa_searches_and_opens_the_chart(page, live_server, settings):
    settings.MFA_REQUIRED_ROLES = ["clinician"]
    clinic = build_clinic()
    patient = make_patient(clinic, legal_first_name="Morgan", legal_last_name="Ellison")
    make_patient(clinic, legal_first_name="Sam", legal_last_name="Okafor")
    device = TOTPDevice.objects.create(user=clinic.clinician, name="phone", confirmed=True)

    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("clinician")
    page.get_by_label("Password").fill(PASSWORD)
    screenshot(page, "staff-01-login")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/accounts/mfa/**")
    page.locator("input[name=code], input[name=token], input[name=otp_token]").first.fill(_code(device))
    screenshot(page, "staff-02-mfa")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}/")
    screenshot(page, "staff-03-home")

    page.get_by_role("link", name="Patients").first.click()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.locator("#patient-search input[name=q]").fill("elli")
    results = page.locator("#patient-results")
    # The full list shows both; the live search (HTMX, 300 ms debounce) must leave only the match.
    expect(results.get_by_text("Okafor")).to_have_count(0)
    expect(results.get_by_text("Ellison").first).to_be_visible()
    screenshot(page, "staff-04-search")
    assert requested and not [url for url in requested if "elli" in url.lower()]  # the search is posted, not in a URL

    results.get_by_role("link", name="Ellison").first.click()
    page.wait_for_url(f"**/patients/{patient.public_id}/**")
    assert page.get_by_text(patient.mrn).first.is_visible()
    screenshot(page, "staff-05-chart")

    assert AuditEvent.objects.filter(action=AuditAction.CHART_VIEWED, patient=patient, actor=clinic.clinician).exists()
    assert AuditEvent.objects.filter(action=AuditAction.MFA_VERIFIED, actor=clinic.clinician).exists()
