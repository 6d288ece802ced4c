from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.actions import do_reset_mfa
from openiop.conftest import login
from openiop.core.models import AuditAction

from .helpers import LOGIN_URL, enrol, events, sign_in_verified

HOME = reverse("core:home")


def reset_url(user) -> str:
    return reverse("accounts:mfa_reset", args=[user.public_id])


def test_sysadmin_resets_a_colleagues_second_factor(client, clinic):
    enrol(clinic.clinician)
    login(client, clinic.sysadmin)
    back = reverse("accounts:security")
    response = client.post(reset_url(clinic.clinician), {"next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    assert not TOTPDevice.objects.filter(user=clinic.clinician).exists()
    assert not StaticDevice.objects.filter(user=clinic.clinician).exists()
    [row] = events(AuditAction.MFA_RESET)
    assert row.actor_id == clinic.sysadmin.pk
    assert row.object_id == str(clinic.clinician.public_id)
    assert row.organization_id_ref == clinic.org.pk
    assert "Two-step sign-in was reset for Clinician Tester, LCSW" in client.get(back).content.decode()


def test_unsafe_next_falls_back_to_home(client, clinic):
    enrol(clinic.clinician)
    login(client, clinic.sysadmin)
    response = client.post(reset_url(clinic.clinician), {"next": "https://evil.example/"})
    assert response["Location"] == HOME


@pytest.mark.parametrize(
    "role_holder", ["director", "clinician", "intern", "intake", "frontdesk", "billing", "auditor"]
)
def test_other_roles_get_403(client, clinic, role_holder):
    enrol(clinic.outsider)
    login(client, getattr(clinic, role_holder))
    assert client.post(reset_url(clinic.outsider)).status_code == 403
    assert TOTPDevice.objects.filter(user=clinic.outsider).exists()


def test_staff_of_another_organization_is_404(client, clinic):
    enrol(clinic.stranger)
    login(client, clinic.sysadmin)
    assert client.post(reset_url(clinic.stranger)).status_code == 404
    assert TOTPDevice.objects.filter(user=clinic.stranger).exists()


def test_unknown_staff_member_is_404(client, clinic):
    login(client, clinic.sysadmin)
    assert client.post(reverse("accounts:mfa_reset", args=[uuid.uuid4()])).status_code == 404


def test_reset_refuses_get(client, clinic):
    login(client, clinic.sysadmin)
    assert client.get(reset_url(clinic.clinician)).status_code == 405


def test_reset_needs_a_signed_in_user(client, clinic):
    response = client.post(reset_url(clinic.clinician))
    assert response["Location"].startswith(LOGIN_URL)


def test_sysadmin_cannot_reset_their_own_factor(client, clinic):
    device, _ = enrol(clinic.sysadmin)
    sign_in_verified(client, clinic.sysadmin, device)
    response = client.post(reset_url(clinic.sysadmin), follow=True)
    assert "You cannot reset your own two-step sign-in" in response.content.decode()
    assert TOTPDevice.objects.filter(user=clinic.sysadmin).exists()
    assert events(AuditAction.MFA_RESET) == []


def test_nothing_to_reset_writes_no_audit_row(client, clinic):
    login(client, clinic.sysadmin)
    response = client.post(reset_url(clinic.clinician), follow=True)
    assert "had no two-step sign-in to reset" in response.content.decode()
    assert events(AuditAction.MFA_RESET) == []


def test_after_a_reset_the_person_must_enrol_again(client, clinic, mfa_on):
    device, _ = enrol(clinic.clinician)
    sign_in_verified(client, clinic.clinician, device)
    do_reset_mfa(clinic.clinician, acting_user=clinic.sysadmin)
    assert client.get(reverse("accounts:security"))["Location"] == reverse("accounts:mfa_enroll")


def test_the_action_refuses_other_organizations_and_roles(clinic):
    enrol(clinic.stranger)
    with pytest.raises(PermissionDenied):
        do_reset_mfa(clinic.stranger, acting_user=clinic.sysadmin)
    with pytest.raises(PermissionDenied):
        do_reset_mfa(clinic.clinician, acting_user=clinic.director)
    with pytest.raises(ValidationError):
        do_reset_mfa(clinic.sysadmin, acting_user=clinic.sysadmin)
