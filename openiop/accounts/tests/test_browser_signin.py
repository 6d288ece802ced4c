"""Sign-in with two-step enrolment in a real headless Chromium: what a new clinician sees on day one."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django_otp.oath import totp

from openiop.core.models import AuditAction, AuditEvent
from openiop.testing.browser import screenshot
from openiop.testing.fixtures import PASSWORD, build_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code_from_setup_key(key: str) -> str:
    secret = key.replace(" ", "")
    secret += "=" * (-len(secret) % 8)
    return f"{totp(b32decode(secret)):06d}"


def test_new_clinician_enrols_then_signs_in_with_a_backup_code(page, live_server, settings):
    settings.MFA_REQUIRED_ROLES = ["clinician"]
    clinic = build_clinic()

    page.goto(f"{live_server.url}/accounts/security/")
    page.wait_for_url("**/accounts/login/?next=/accounts/security/")
    page.get_by_label("Username").fill("clinician")
    page.get_by_label("Password").fill(PASSWORD)
    screenshot(page, "accounts-01-login")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/accounts/mfa/enroll/")
    assert page.locator("svg.mfa-qr").is_visible()
    box = page.locator("svg.mfa-qr").bounding_box()
    assert box is not None and box["width"] == 220
    key = page.locator("code[aria-label='Setup key']").inner_text()
    screenshot(page, "accounts-02-enrol")
    page.get_by_label("6-digit code from the app").fill(_code_from_setup_key(key))
    page.get_by_role("button", name="Confirm and turn on").click()

    codes = page.get_by_role("list", name="Backup codes").get_by_role("listitem")
    codes.first.wait_for()
    assert codes.count() == 10
    backup_code = codes.nth(0).inner_text().strip()
    screenshot(page, "accounts-03-backup-codes")
    page.get_by_role("link", name="I have saved my codes, continue").click()

    page.wait_for_url("**/accounts/security/")
    assert page.get_by_text("Backup codes left:").is_visible()
    screenshot(page, "accounts-04-security")

    page.get_by_role("button", name="Clinician Tester, LCSW").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")
    assert page.get_by_text("You are signed out.").is_visible()

    page.goto(f"{live_server.url}/accounts/security/")
    page.get_by_label("Username").fill("clinician")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/mfa/verify/")
    page.get_by_label("Code").fill(backup_code)
    screenshot(page, "accounts-05-verify")
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/accounts/security/")
    assert page.get_by_text("9 left").first.is_visible()

    actions = set(AuditEvent.objects.filter(actor=clinic.clinician).values_list("action", flat=True))
    assert {AuditAction.LOGIN, AuditAction.MFA_ENROLLED, AuditAction.LOGOUT, AuditAction.MFA_VERIFIED} <= actions
