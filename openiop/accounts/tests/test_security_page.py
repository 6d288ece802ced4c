from __future__ import annotations

from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.conftest import login
from openiop.core.models import AuditAction

from .helpers import LOGIN_URL, enrol, events, sign_in, sign_in_verified, totp_code, wrong_code

SECURITY = reverse("accounts:security")
ENROL = reverse("accounts:mfa_enroll")
REPLACE = reverse("accounts:mfa_reenroll")
BACKUP = reverse("accounts:backup_codes")
# Session, the user (with the MFA gate's device check in the same statement), the device shown, the events (one query
# however many), and the nav's work-queue badge. The session's activity clock is not saved: it moved by less than a
# minute (openiop.accounts.middleware.IDLE_WRITE_SECONDS).
QUERIES = 5


def test_security_page_needs_a_signed_in_user(client, db):
    assert client.get(SECURITY)["Location"].startswith(LOGIN_URL)


def test_security_page_renders_inside_the_main_layout(client, clinic):
    login(client, clinic.clinician)
    response = client.get(SECURITY)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'aria-label="Main"' in body
    assert "Off" in body
    assert f'href="{ENROL}"' in body


def test_security_page_shows_the_second_factor_and_codes_left(client, clinic, mfa_on):
    device, codes = enrol(clinic.clinician)
    StaticToken.objects.filter(token=codes[0]).delete()
    sign_in_verified(client, clinic.clinician, device)
    body = client.get(SECURITY).content.decode()
    assert "Backup codes left: <strong>9</strong> of 10" in body
    assert 'id="id_reenrol-code"' in body
    assert 'id="id_backup-code"' in body
    assert 'aria-describedby="id_reenrol-code_help"' in body


def test_recent_activity_lists_only_the_users_own_events(client, clinic):
    sign_in(Client(), clinic.clinician)
    sign_in(Client(), clinic.clinician, password="wrong password here")  # someone trying this account
    sign_in(Client(), clinic.director)
    sign_in(Client(), clinic.director, password="wrong password here")
    login(client, clinic.clinician)
    response = client.get(SECURITY)
    shown = list(response.context["events"])
    assert {e.action for e in shown} == {AuditAction.LOGIN, AuditAction.LOGIN_FAILED}
    assert len(shown) == 3  # two sign-ins (one is this session) and the failed attempt
    assert {e.object_id for e in shown} == {str(clinic.clinician.public_id)}
    assert "Login failed" in response.content.decode()


def test_recent_activity_shows_who_reset_the_factor(client, clinic):
    from openiop.accounts.actions import do_reset_mfa

    enrol(clinic.clinician)
    do_reset_mfa(clinic.clinician, acting_user=clinic.sysadmin)
    login(client, clinic.clinician)
    assert "by sysadmin" in client.get(SECURITY).content.decode()


def test_recent_activity_query_count_does_not_grow(client, clinic, django_assert_num_queries):
    login(client, clinic.clinician)
    client.get(SECURITY)  # the first request after sign-in also saves the session clocks
    with django_assert_num_queries(QUERIES):
        client.get(SECURITY)
    for _ in range(12):
        sign_in(Client(), clinic.clinician)
    with django_assert_num_queries(QUERIES):
        response = client.get(SECURITY)
    assert len(response.context["events"]) == 13


def test_replacing_the_app_needs_a_current_code(client, clinic, mfa_on):
    device, _ = enrol(clinic.clinician)
    sign_in_verified(client, clinic.clinician, device)
    response = client.post(REPLACE, {"reenrol-code": wrong_code(device)})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert 'aria-describedby="id_reenrol-code_help id_reenrol-code_error"' in response.content.decode()
    assert client.get(ENROL)["Location"] == SECURITY
    assert len(events(AuditAction.MFA_FAILED)) == 1


def test_replacing_the_app_swaps_the_device(client, clinic, mfa_on):
    old, _ = enrol(clinic.clinician)
    sign_in_verified(client, clinic.clinician, old)
    other = Client()
    sign_in_verified(other, clinic.clinician, old)

    assert client.post(REPLACE, {"reenrol-code": totp_code(old)})["Location"] == ENROL
    page = client.get(ENROL)
    assert "Replace your authenticator app" in page.content.decode()
    assert 'aria-label="Main"' in page.content.decode()
    new = TOTPDevice.objects.get(user=clinic.clinician, confirmed=False)
    # The old app keeps working until the new one is confirmed.
    assert client.get(SECURITY).status_code == 200

    response = client.post(ENROL, {"code": totp_code(new)})
    assert response.status_code == 200
    assert len(response.context["codes"]) == 10
    assert list(TOTPDevice.objects.filter(user=clinic.clinician).values_list("pk", flat=True)) == [new.pk]
    assert client.get(SECURITY).status_code == 200
    # A session verified with the old app must verify again.
    assert other.get(SECURITY)["Location"] == reverse("accounts:mfa_verify")
    assert len(events(AuditAction.MFA_ENROLLED)) == 2


def test_replace_without_a_device_goes_to_enrolment(client, clinic):
    login(client, clinic.frontdesk)
    assert client.post(REPLACE, {"reenrol-code": "123456"})["Location"] == ENROL


def test_new_backup_codes_need_a_current_code(client, clinic, mfa_on):
    device, _ = enrol(clinic.clinician)
    sign_in_verified(client, clinic.clinician, device)
    response = client.post(BACKUP, {"backup-code": wrong_code(device)})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert StaticToken.objects.filter(device__user=clinic.clinician).count() == 10
    assert len(events(AuditAction.MFA_ENROLLED)) == 1


def test_new_backup_codes_replace_the_old_ones(client, clinic, mfa_on):
    _, old_codes = enrol(clinic.clinician)
    sign_in(client, clinic.clinician)
    client.post(reverse("accounts:mfa_verify"), {"code": old_codes[0]})  # verified with a backup code
    response = client.post(BACKUP, {"backup-code": old_codes[1]})
    assert response.status_code == 200
    new_codes = response.context["codes"]
    assert "Your previous backup codes no longer work" in response.content.decode()
    stored = set(StaticToken.objects.filter(device__user=clinic.clinician).values_list("token", flat=True))
    assert stored == set(new_codes)
    assert not stored & set(old_codes)
    assert events(AuditAction.MFA_ENROLLED)[-1].changed_fields == ["backup_codes"]
    # The session verified with a backup code stays verified.
    assert client.get(SECURITY).status_code == 200


def test_new_backup_codes_need_an_authenticator(client, clinic):
    login(client, clinic.frontdesk)
    response = client.post(BACKUP, {"backup-code": "123456"})
    assert response.status_code == 200
    assert StaticToken.objects.count() == 0


def test_security_actions_refuse_get(client, clinic):
    login(client, clinic.frontdesk)
    assert client.get(REPLACE).status_code == 405
    assert client.get(BACKUP).status_code == 405


def test_wrong_codes_on_the_security_page_also_sign_out(client, clinic, mfa_on):
    device, _ = enrol(clinic.clinician)
    sign_in_verified(client, clinic.clinician, device)
    for _ in range(4):
        assert client.post(BACKUP, {"backup-code": wrong_code(device)}).status_code == 200
    response = client.post(REPLACE, {"reenrol-code": wrong_code(device)})
    assert response.status_code == 429
    assert client.get(SECURITY)["Location"].startswith(LOGIN_URL)
    assert len(events(AuditAction.LOCKED_OUT)) == 1
