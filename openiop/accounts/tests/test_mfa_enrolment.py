from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts import mfa
from openiop.core.models import AuditAction

from .helpers import enrol, events, sign_in, sign_in_verified, totp_code, wrong_code

ENROL = reverse("accounts:mfa_enroll")
VERIFY = reverse("accounts:mfa_verify")
SECURITY = reverse("accounts:security")


@pytest.mark.parametrize("role_holder", ["director", "clinician", "intern", "intake", "auditor", "sysadmin"])
def test_clinical_roles_are_sent_to_enrolment_after_the_password(client, clinic, mfa_on, role_holder):
    response = sign_in(client, getattr(clinic, role_holder))
    assert response["Location"] == ENROL


@pytest.mark.parametrize(
    "url", [reverse("core:home"), SECURITY, reverse("accounts:password_change"), reverse("patients:list")]
)
def test_no_other_page_answers_before_enrolment(client, clinic, mfa_on, url):
    sign_in(client, clinic.clinician)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == ENROL


def test_htmx_requests_before_enrolment_get_hx_redirect(client, clinic, mfa_on):
    sign_in(client, clinic.clinician)
    response = client.get(SECURITY, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == ENROL


def test_api_answers_401_before_enrolment(client, clinic, mfa_on):
    sign_in(client, clinic.clinician)
    assert client.get("/api/v1/patients").status_code == 401


def test_roles_without_the_requirement_go_straight_in(client, clinic, mfa_on):
    response = sign_in(client, clinic.frontdesk)
    assert response["Location"] == reverse("core:home")
    assert client.get(SECURITY).status_code == 200


def test_enrolment_page_shows_a_qr_code_and_the_secret(client, clinic, mfa_on):
    sign_in(client, clinic.clinician)
    response = client.get(ENROL)
    assert response.status_code == 200
    body = response.content.decode()
    device = TOTPDevice.objects.get(user=clinic.clinician)
    assert not device.confirmed
    assert re.search(r'<svg class="mfa-qr" role="img" aria-label="[^"]+" width="220" height="220"', body)
    assert "<path" in body
    assert mfa.secret_for_display(device) in body
    assert 'action="/accounts/logout/"' in body  # the minimal header keeps a way out
    assert reverse("accounts:security") not in body  # but not the main menu


def test_reloading_the_enrolment_page_keeps_the_same_secret(client, clinic, mfa_on):
    sign_in(client, clinic.clinician)
    client.get(ENROL)
    client.get(ENROL)
    assert TOTPDevice.objects.filter(user=clinic.clinician).count() == 1


def test_full_enrolment_with_a_real_code(client, clinic, mfa_on):
    sign_in(client, clinic.clinician, next=SECURITY)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=clinic.clinician)
    response = client.post(ENROL, {"code": totp_code(device)})
    assert response.status_code == 200
    assert "accounts/backup_codes.html" in [t.name for t in response.templates]
    codes = response.context["codes"]
    assert len(codes) == 10 == len(set(codes))
    body = response.content.decode()
    assert all(f"{c[:4]}-{c[4:]}" in body for c in codes)
    assert response["Cache-Control"].startswith("max-age=0")
    assert f'href="{SECURITY}"' in body  # continue to where the user was going
    device.refresh_from_db()
    assert device.confirmed
    static = StaticDevice.objects.get(user=clinic.clinician)
    assert sorted(static.token_set.values_list("token", flat=True)) == sorted(codes)
    [row] = events(AuditAction.MFA_ENROLLED)
    assert row.actor_id == clinic.clinician.pk
    assert row.changed_fields == ["backup_codes", "totp"]
    # The enrolment itself verified this session.
    assert client.get(SECURITY).status_code == 200


def test_a_wrong_code_does_not_enrol(client, clinic, mfa_on):
    sign_in(client, clinic.clinician)
    client.get(ENROL)
    response = client.post(ENROL, {"code": wrong_code(TOTPDevice.objects.get(user=clinic.clinician))})
    assert response.status_code == 200
    assert "That code does not match" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert not TOTPDevice.objects.get(user=clinic.clinician).confirmed
    assert events(AuditAction.MFA_ENROLLED) == []
    assert client.get(SECURITY)["Location"] == ENROL


def test_a_code_of_the_wrong_shape_is_a_form_error(client, clinic, mfa_on):
    sign_in(client, clinic.clinician)
    response = client.post(ENROL, {"code": "12ab"})
    assert "Enter the 6 digits the app shows." in response.content.decode()


def test_someone_with_only_the_password_cannot_add_a_device(client, clinic, mfa_on):
    enrol(clinic.clinician)
    sign_in(client, clinic.clinician)
    response = client.get(ENROL)
    assert response["Location"] == VERIFY
    assert client.post(ENROL, {"code": "123456"})["Location"] == VERIFY
    assert TOTPDevice.objects.filter(user=clinic.clinician).count() == 1


def test_verified_user_needs_a_current_code_before_replacing_the_app(client, clinic, mfa_on):
    device, _ = enrol(clinic.clinician)
    sign_in_verified(client, clinic.clinician, device)
    response = client.get(ENROL)
    assert response["Location"] == SECURITY


def test_staff_without_the_requirement_may_enrol_by_choice(client, clinic, mfa_on):
    sign_in(client, clinic.frontdesk)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=clinic.frontdesk)
    assert client.post(ENROL, {"code": totp_code(device)}).status_code == 200
    client.post(reverse("accounts:logout"))
    # From now on the second step is asked of them too.
    assert sign_in(client, clinic.frontdesk)["Location"] == VERIFY


def test_enrolment_page_needs_a_signed_in_user(client, db):
    response = client.get(ENROL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
