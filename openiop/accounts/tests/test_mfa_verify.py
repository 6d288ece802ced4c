from __future__ import annotations

from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken

from openiop.accounts import mfa
from openiop.core.models import AuditAction

from .helpers import LOGIN_URL, enrol, events, is_signed_in, sign_in, totp_code, verify, wrong_code

VERIFY = reverse("accounts:mfa_verify")
SECURITY = reverse("accounts:security")
HOME = reverse("core:home")


def test_enrolled_user_is_asked_for_a_code_after_the_password(client, clinic, mfa_on):
    enrol(clinic.clinician)
    assert sign_in(client, clinic.clinician)["Location"] == VERIFY
    assert client.get(SECURITY)["Location"] == VERIFY
    page = client.get(VERIFY)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'autocomplete="one-time-code"' in body
    assert 'aria-describedby="id_code_help"' in body
    assert 'action="/accounts/logout/"' in body


def test_a_device_is_asked_for_even_when_the_role_does_not_require_one(client, clinic):
    enrol(clinic.frontdesk)  # MFA_REQUIRED_ROLES is empty in this test
    assert sign_in(client, clinic.frontdesk)["Location"] == VERIFY
    assert client.get(SECURITY)["Location"] == VERIFY


def test_a_right_code_completes_sign_in(client, clinic, mfa_on):
    device, _ = enrol(clinic.clinician)
    sign_in(client, clinic.clinician)
    response = verify(client, totp_code(device))
    assert response["Location"] == HOME
    assert client.get(SECURITY).status_code == 200
    [row] = events(AuditAction.MFA_VERIFIED)
    assert row.actor_id == clinic.clinician.pk
    assert row.changed_fields == ["totp"]


def test_passing_the_second_step_renews_the_session_key(client, clinic, mfa_on):
    device, _ = enrol(clinic.clinician)
    sign_in(client, clinic.clinician)
    before = client.session.session_key
    verify(client, totp_code(device))
    assert client.session.session_key != before
    assert client.get(SECURITY).status_code == 200


def test_the_page_asked_for_before_sign_in_is_reached_after_the_code(client, clinic, mfa_on):
    device, _ = enrol(clinic.clinician)
    sign_in(client, clinic.clinician, next=SECURITY)
    assert verify(client, totp_code(device))["Location"] == SECURITY


def test_a_code_cannot_be_used_twice(client, clinic, mfa_on):
    device, _ = enrol(clinic.clinician)
    sign_in(client, clinic.clinician)
    code = totp_code(device)
    assert verify(client, code).status_code == 302
    client.post(reverse("accounts:logout"))
    sign_in(client, clinic.clinician)
    assert verify(client, code).status_code == 200
    assert client.get(SECURITY)["Location"] == VERIFY


def test_a_backup_code_works_once_only(client, clinic, mfa_on):
    _, codes = enrol(clinic.clinician)
    sign_in(client, clinic.clinician)
    response = verify(client, codes[0])
    assert response["Location"] == HOME
    assert client.get(SECURITY).status_code == 200
    assert mfa.backup_codes_left(clinic.clinician) == 9
    [row] = events(AuditAction.MFA_VERIFIED)
    assert row.changed_fields == ["backup_code"]

    client.post(reverse("accounts:logout"))
    sign_in(client, clinic.clinician)
    response = verify(client, codes[0])
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert len(events(AuditAction.MFA_FAILED)) == 1
    assert client.get(SECURITY)["Location"] == VERIFY


def test_backup_codes_are_accepted_as_printed(client, clinic, mfa_on):
    _, codes = enrol(clinic.clinician)
    sign_in(client, clinic.clinician)
    printed = f"{codes[3][:4]}-{codes[3][4:]}".upper()
    assert verify(client, printed)["Location"] == HOME
    assert not StaticToken.objects.filter(token=codes[3]).exists()


def test_signing_in_with_a_backup_code_says_how_many_are_left(client, clinic, mfa_on):
    _, codes = enrol(clinic.clinician)
    sign_in(client, clinic.clinician)
    response = client.post(VERIFY, {"code": codes[0]}, follow=True)
    assert "9 left" in response.content.decode()


def test_wrong_codes_count_down_then_sign_the_session_out(client, clinic, mfa_on):
    device, _ = enrol(clinic.clinician)
    sign_in(client, clinic.clinician)
    for left in (4, 3, 2, 1):
        response = verify(client, wrong_code(device))
        assert response.status_code == 200
        assert f"{left} {'try' if left == 1 else 'tries'} left" in response.content.decode()
    response = verify(client, wrong_code(device))
    assert response.status_code == 429
    assert "accounts/mfa_locked.html" in [t.name for t in response.templates]
    assert "After 5 wrong codes" in response.content.decode()
    assert not is_signed_in(client)
    assert client.get(SECURITY)["Location"].startswith(LOGIN_URL)
    assert len(events(AuditAction.MFA_FAILED)) == 5
    [locked] = events(AuditAction.LOCKED_OUT)
    assert locked.actor_id == clinic.clinician.pk
    assert locked.changed_fields == ["mfa"]
    assert len(events(AuditAction.LOGOUT)) == 1


def test_a_locked_out_code_step_cannot_be_finished_with_the_right_code(client, clinic, mfa_on):
    device, _ = enrol(clinic.clinician)
    sign_in(client, clinic.clinician)
    for _ in range(5):
        verify(client, wrong_code(device))
    response = verify(client, totp_code(device))
    assert response["Location"].startswith(LOGIN_URL)
    assert not is_signed_in(client)


def test_a_success_resets_the_count_of_wrong_codes(client, clinic, mfa_on):
    device, _ = enrol(clinic.clinician)
    sign_in(client, clinic.clinician)
    for _ in range(4):
        verify(client, wrong_code(device))
    assert verify(client, totp_code(device)).status_code == 302
    assert mfa.FAILURES_KEY not in client.session


def test_device_back_off_refuses_codes_without_counting_them(client, clinic, mfa_on):
    mfa_on.OTP_TOTP_THROTTLE_FACTOR = 60
    device, _ = enrol(clinic.clinician)
    sign_in(client, clinic.clinician)
    verify(client, wrong_code(device))
    response = verify(client, totp_code(device))
    assert response.status_code == 200
    assert "Wait 60 seconds" in response.content.decode() or "Wait 59 seconds" in response.content.decode()
    assert client.get(SECURITY)["Location"] == VERIFY
    assert len(events(AuditAction.MFA_FAILED)) == 1
    assert client.session[mfa.FAILURES_KEY] == 1


def test_verify_page_sends_users_without_a_device_on(client, clinic, mfa_on):
    sign_in(client, clinic.frontdesk)
    assert client.get(VERIFY)["Location"] == HOME
    client.post(reverse("accounts:logout"))
    sign_in(client, clinic.clinician)
    assert client.get(VERIFY)["Location"] == reverse("accounts:mfa_enroll")


def test_verified_user_visiting_the_verify_page_goes_home(client, clinic, mfa_on):
    device, _ = enrol(clinic.clinician)
    sign_in(client, clinic.clinician)
    verify(client, totp_code(device))
    assert client.get(VERIFY)["Location"] == HOME


def test_verify_page_needs_the_password_step_first(client, db):
    assert client.get(VERIFY)["Location"].startswith(LOGIN_URL)


def test_user_can_log_out_from_the_code_step(client, clinic, mfa_on):
    enrol(clinic.clinician)
    sign_in(client, clinic.clinician)
    assert client.post(reverse("accounts:logout"))["Location"] == LOGIN_URL
    assert not is_signed_in(client)
