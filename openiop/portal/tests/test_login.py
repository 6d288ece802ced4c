"""Portal sign-in: its own login page, the same generic refusal for staff credentials (and for portal credentials
at the staff login), django-axes lockout, session limits that land on the portal's login, the optional second
factor with its own verification step, and the password change."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.forms import GENERIC_LOGIN_ERROR
from openiop.accounts.middleware import IDLE_KEY
from openiop.accounts.tests.helpers import enrol, totp_code, wrong_code
from openiop.core.models import AuditAction, AuditEvent
from openiop.testing.fixtures import PASSWORD

from .conftest import PORTAL_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("portal:login")


@pytest.fixture(autouse=True)
def _no_otp_backoff(settings):
    """Consecutive wrong codes are all checked (the back-off has its own test in accounts)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def sign_in(client, username, password=PORTAL_PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_a_patient_signs_in_and_lands_on_home(client, account):
    response = sign_in(client, "jordan")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, actor=account.user).count() == 1


def test_next_is_followed_when_it_is_on_this_site(client, account):
    response = sign_in(client, "jordan", next=reverse("portal:schedule"))
    assert response["Location"] == reverse("portal:schedule")
    client.logout()
    response = sign_in(client, "jordan", next="https://evil.example/")
    assert response["Location"] == reverse("portal:home")


def test_a_family_login_lands_on_the_family_home(client, family):
    response = sign_in(client, "alex")
    assert response.status_code == 302
    from openiop.portal.views import family_home_url

    assert response["Location"] == family_home_url()
    assert client.get(response["Location"]).status_code == 200


def test_staff_credentials_fail_at_the_portal_login_with_the_generic_message(client, clinic):
    response = sign_in(client, "clinician", PASSWORD)
    assert response.status_code == 200
    assert GENERIC_LOGIN_ERROR in response.content.decode()
    assert not signed_in(client)
    # Counted like a wrong password: audited, and toward django-axes' limit.
    assert AuditEvent.objects.filter(
        action=AuditAction.LOGIN_FAILED, object_id=str(clinic.clinician.public_id)
    ).exists()


def test_portal_credentials_fail_at_the_staff_login_with_the_generic_message(client, account):
    response = client.post(reverse("accounts:login"), {"username": "jordan", "password": PORTAL_PASSWORD})
    assert response.status_code == 200
    assert GENERIC_LOGIN_ERROR in response.content.decode()
    assert not signed_in(client)


def test_a_wrong_password_gets_the_same_message(client, account):
    response = sign_in(client, "jordan", "not the password")
    assert GENERIC_LOGIN_ERROR in response.content.decode()


def test_five_failures_lock_the_portal_login(client, account):
    for _ in range(4):
        assert sign_in(client, "jordan", "wrong password here").status_code == 200
    assert sign_in(client, "jordan", "wrong password here").status_code == 429
    assert sign_in(client, "jordan").status_code == 429
    assert not signed_in(client)


def test_logout_returns_to_the_portal_login(client, account):
    sign_in(client, "jordan")
    response = client.post(reverse("portal:logout"))
    assert response["Location"] == LOGIN
    assert not signed_in(client)


def test_an_idle_portal_session_ends_on_the_portal_login(client, account, settings):
    sign_in(client, "jordan")
    session = client.session
    session[IDLE_KEY] = time.time() - settings.SESSION_IDLE_TIMEOUT_MINUTES * 60 - 5
    session.save()
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?expired=1"
    assert "signed out after" in client.get(response["Location"]).content.decode()


def test_a_signed_in_patient_visiting_the_login_goes_home(client, account):
    sign_in(client, "jordan")
    assert client.get(LOGIN)["Location"] == reverse("portal:home")


# --- Optional second factor ---------------------------------------------------------------------------------------


def test_a_patient_turns_on_two_step_sign_in_from_the_security_page(client, account):
    sign_in(client, "jordan")
    page = client.get(reverse("portal:security"))
    assert "Turn on two-step sign-in" in page.content.decode()
    enrol_page = client.get(reverse("portal:mfa_enroll"))
    assert enrol_page.status_code == 200
    device = TOTPDevice.objects.get(user=account.user, confirmed=False)
    response = client.post(reverse("portal:mfa_enroll"), {"code": totp_code(device)})
    assert response.status_code == 200
    assert "Your backup codes" in response.content.decode()
    assert TOTPDevice.objects.filter(user=account.user, confirmed=True).exists()
    # Still signed in and verified: portal pages answer.
    assert client.get(reverse("portal:home")).status_code == 200


def test_with_a_device_the_portal_login_asks_for_a_code_on_the_portal_page(client, account):
    device, _ = enrol(account.user)
    response = sign_in(client, "jordan", next=reverse("portal:schedule"))
    assert response["Location"] == reverse("portal:mfa_verify")
    # The staff MFA gate sends a portal session to the portal's verification, never the staff pages.
    blocked = client.get(reverse("portal:home"))
    assert blocked["Location"] == reverse("portal:mfa_verify")
    assert client.get(reverse("accounts:mfa_enroll"))["Location"] == reverse("portal:mfa_verify")
    wrong = client.post(reverse("portal:mfa_verify"), {"code": wrong_code(device)})
    assert "That code is not right" in wrong.content.decode()
    response = client.post(reverse("portal:mfa_verify"), {"code": totp_code(device)})
    assert response["Location"] == reverse("portal:schedule")
    assert client.get(reverse("portal:home")).status_code == 200


def test_turning_two_step_off_needs_a_current_code(client, account):
    device, _ = enrol(account.user)
    sign_in(client, "jordan")
    client.post(reverse("portal:mfa_verify"), {"code": totp_code(device)})
    refused = client.post(reverse("portal:mfa_remove"), {"remove-code": wrong_code(device)})
    assert refused.status_code == 200
    assert TOTPDevice.objects.filter(user=account.user).exists()
    response = client.post(reverse("portal:mfa_remove"), {"remove-code": totp_code(device)})
    assert response["Location"] == reverse("portal:security")
    assert not TOTPDevice.objects.filter(user=account.user).exists()
    assert AuditEvent.objects.filter(action=AuditAction.MFA_RESET, actor=account.user).count() == 1
    assert client.get(reverse("portal:home")).status_code == 200


def test_a_patient_changes_their_password(client, account):
    sign_in(client, "jordan")
    new = "another long passphrase 2027"
    response = client.post(
        reverse("portal:password_change"),
        {"old_password": PORTAL_PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response["Location"] == reverse("portal:security")
    assert client.get(reverse("portal:home")).status_code == 200
    account.user.refresh_from_db()
    assert account.user.check_password(new)


def test_the_verify_page_is_a_404_for_staff(client, clinic):
    client.force_login(clinic.clinician)
    assert client.get(reverse("portal:mfa_verify")).status_code == 404
