from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from openiop.accounts.actions import do_set_staff_active
from openiop.accounts.forms import GENERIC_LOGIN_ERROR
from openiop.accounts.middleware import IDLE_KEY, START_KEY
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent

from .helpers import LOGIN_URL, events, is_signed_in, sign_in


def test_login_page_renders_for_anonymous_visitors(client, db):
    response = client.get(LOGIN_URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'autocomplete="username"' in body
    assert 'autocomplete="current-password"' in body
    assert '<label class="form-label" for="id_password">' in body
    assert "Log out" not in body  # no navigation for anonymous visitors


def test_correct_password_signs_in_and_goes_home(client, clinic):
    response = sign_in(client, clinic.frontdesk)
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    assert is_signed_in(client)
    [row] = events(AuditAction.LOGIN)
    assert row.actor_id == clinic.frontdesk.pk
    assert row.object_type == "user"
    assert row.object_id == str(clinic.frontdesk.public_id)
    assert row.organization_id_ref == clinic.org.pk


def test_sign_in_starts_the_session_clocks(client, clinic):
    sign_in(client, clinic.frontdesk)
    session = client.session
    assert session[START_KEY] == session[IDLE_KEY]


def test_safe_next_is_followed_after_sign_in(client, clinic):
    target = reverse("accounts:security")
    response = sign_in(client, clinic.frontdesk, next=target)
    assert response["Location"] == target


@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_unsafe_next_is_ignored(client, clinic, unsafe):
    response = sign_in(client, clinic.frontdesk, next=unsafe)
    assert response["Location"] == reverse("core:home")


def test_next_from_the_query_string_is_kept_in_the_form(client, db):
    target = reverse("accounts:security")
    response = client.get(f"{LOGIN_URL}?next={target}")
    assert f'name="next" value="{target}"' in response.content.decode()


def test_wrong_password_shows_a_generic_error_and_audits_without_actor(client, clinic):
    response = sign_in(client, clinic.clinician, password="not the password")
    assert response.status_code == 200
    assert GENERIC_LOGIN_ERROR in response.content.decode()
    assert not is_signed_in(client)
    [row] = events(AuditAction.LOGIN_FAILED)
    assert row.actor_id is None
    assert row.object_type == "user"
    assert row.object_id == str(clinic.clinician.public_id)
    assert row.organization_id_ref == clinic.org.pk


def test_unknown_username_gets_the_same_error_and_stores_no_typed_text(client, db):
    typed = "someone-typed-their-password-here"
    response = client.post(LOGIN_URL, {"username": typed, "password": "whatever it is"})
    assert response.status_code == 200
    assert GENERIC_LOGIN_ERROR in response.content.decode()
    [row] = events(AuditAction.LOGIN_FAILED)
    assert row.actor_id is None
    assert (row.object_type, row.object_id, row.organization_id_ref) == ("user", "", None)
    stored = " ".join(
        str(v)
        for v in AuditEvent.objects.values_list(
            "actor_label", "object_type", "object_id", "changed_fields", "user_agent"
        ).get(pk=row.pk)
    )
    assert typed not in stored
    assert "whatever" not in stored


def test_failed_row_never_holds_the_password(client, clinic):
    sign_in(client, clinic.clinician, password="hunter2-secret")
    row = events(AuditAction.LOGIN_FAILED)[0]
    assert "hunter2" not in str(row.__dict__)


def test_deactivated_account_gets_the_same_generic_error(client, clinic):
    do_set_staff_active(clinic.billing, acting_user=clinic.sysadmin, active=False)
    response = sign_in(client, clinic.billing)
    assert GENERIC_LOGIN_ERROR in response.content.decode()
    assert not is_signed_in(client)


def test_idle_expiry_notice_names_the_limit(client, db, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 15
    response = client.get(f"{LOGIN_URL}?expired=1")
    assert "You were signed out after 15 minutes of inactivity" in response.content.decode()


def test_absolute_expiry_notice_names_the_daily_limit(client, db, settings):
    settings.SESSION_ABSOLUTE_TIMEOUT_MINUTES = 12 * 60
    body = client.get(f"{LOGIN_URL}?expired=absolute").content.decode()
    assert "a session lasts at most 12 hours" in body
    assert "inactivity" not in body


def test_signed_in_visitor_is_sent_on_from_the_login_page(client, clinic):
    login(client, clinic.frontdesk)
    response = client.get(LOGIN_URL)
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")


def test_logout_refuses_get(client, clinic):
    login(client, clinic.frontdesk)
    response = client.get(reverse("accounts:logout"))
    assert response.status_code == 405
    assert is_signed_in(client)


def test_logout_by_post_ends_the_session_and_is_audited(client, clinic):
    login(client, clinic.frontdesk)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    assert not is_signed_in(client)
    [row] = events(AuditAction.LOGOUT)
    assert row.actor_id == clinic.frontdesk.pk
    assert "You are signed out." in client.get(LOGIN_URL).content.decode()


def test_logout_checks_the_csrf_token(clinic):
    client = Client(enforce_csrf_checks=True)
    login(client, clinic.frontdesk)
    assert client.post(reverse("accounts:logout")).status_code == 403
    assert is_signed_in(client)
