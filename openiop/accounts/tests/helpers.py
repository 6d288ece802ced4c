"""Helpers for the accounts tests: real codes from a device, enrolment through the actions, sign-in."""

from __future__ import annotations

import time

from django.test import Client
from django.urls import reverse
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.actions import do_confirm_mfa_enrolment, do_start_mfa_enrolment
from openiop.accounts.models import User
from openiop.core.models import AuditAction, AuditEvent
from openiop.testing.fixtures import PASSWORD

LOGIN_URL = reverse("accounts:login")
CLINICAL_ROLES = ["director", "clinician", "supervised_clinician", "intake", "auditor", "sysadmin"]


def totp_code(device: TOTPDevice) -> str:
    """The code an authenticator app would show now, skipping steps the device has already accepted."""
    device.refresh_from_db()
    now_t = (int(time.time()) - device.t0) // device.step + device.drift
    t = max(now_t, device.last_t + 1)
    assert t <= now_t + device.tolerance
    return f"{hotp(device.bin_key, t, digits=device.digits):0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    """A well-formed code the device will refuse (none of the steps inside its tolerance window)."""
    device.refresh_from_db()
    now_t = (int(time.time()) - device.t0) // device.step + device.drift
    window = range(now_t - device.tolerance - 1, now_t + device.tolerance + 2)
    accepted = {f"{hotp(device.bin_key, t, digits=device.digits):06d}" for t in window}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


def enrol(user: User) -> tuple[TOTPDevice, list[str]]:
    device = do_start_mfa_enrolment(acting_user=user)
    codes = do_confirm_mfa_enrolment(device, acting_user=user, code=totp_code(device))
    device.refresh_from_db()
    return device, codes


def sign_in(client: Client, user: User, password: str = PASSWORD, **data: str):
    return client.post(LOGIN_URL, {"username": user.username, "password": password, **data})


def events(action: AuditAction, **filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("chain_index"))


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def verify(client: Client, code: str):
    return client.post(reverse("accounts:mfa_verify"), {"code": code})


def sign_in_verified(client: Client, user: User, device: TOTPDevice) -> Client:
    """Both steps through the real pages: password, then a code from the device."""
    assert sign_in(client, user)["Location"] == reverse("accounts:mfa_verify")
    response = verify(client, totp_code(device))
    assert response.status_code == 302, response.content.decode()
    return client
