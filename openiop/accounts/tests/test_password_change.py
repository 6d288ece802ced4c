from __future__ import annotations

from django.test import Client
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction
from openiop.testing.fixtures import PASSWORD

from .helpers import LOGIN_URL, enrol, events, is_signed_in, sign_in, sign_in_verified

CHANGE = reverse("accounts:password_change")
SECURITY = reverse("accounts:security")
NEW = "a brand new long passphrase 42"


def change(client: Client, old: str = PASSWORD, new1: str = NEW, new2: str | None = None):
    return client.post(CHANGE, {"old_password": old, "new_password1": new1, "new_password2": new2 or new1})


def test_password_page_needs_a_signed_in_user(client, db):
    assert client.get(CHANGE)["Location"].startswith(LOGIN_URL)


def test_password_page_renders_labelled_fields(client, clinic):
    login(client, clinic.frontdesk)
    body = client.get(CHANGE).content.decode()
    for name in ("old_password", "new_password1", "new_password2"):
        assert f'for="id_{name}"' in body
    assert 'autocomplete="new-password"' in body


def test_wrong_old_password_is_refused(client, clinic):
    login(client, clinic.frontdesk)
    response = change(client, old="not my password")
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    assert 'aria-describedby="id_old_password_error"' in response.content.decode()
    clinic.frontdesk.refresh_from_db()
    assert clinic.frontdesk.check_password(PASSWORD)
    assert events(AuditAction.PASSWORD_CHANGED) == []


def test_weak_or_mismatched_new_passwords_are_refused(client, clinic):
    login(client, clinic.frontdesk)
    assert "too short" in change(client, new1="short1").content.decode()
    assert "too common" in change(client, new1="password1234").content.decode()
    assert "didn\u2019t match" in change(client, new1=NEW, new2=NEW + "x").content.decode()
    clinic.frontdesk.refresh_from_db()
    assert clinic.frontdesk.check_password(PASSWORD)


def test_typed_input_is_not_echoed_back_for_passwords(client, clinic):
    login(client, clinic.frontdesk)
    body = change(client, old="not my password").content.decode()
    assert "not my password" not in body


def test_changing_the_password_keeps_this_session_and_ends_the_others(clinic):
    here, elsewhere = Client(), Client()
    sign_in(here, clinic.frontdesk)
    sign_in(elsewhere, clinic.frontdesk)
    assert elsewhere.get(SECURITY).status_code == 200

    response = change(here)
    assert response["Location"] == SECURITY
    assert here.get(SECURITY).status_code == 200
    assert is_signed_in(here)
    assert elsewhere.get(SECURITY)["Location"].startswith(LOGIN_URL)
    assert not is_signed_in(elsewhere)

    [row] = events(AuditAction.PASSWORD_CHANGED)
    assert row.actor_id == clinic.frontdesk.pk
    assert row.object_id == str(clinic.frontdesk.public_id)
    assert sign_in(Client(), clinic.frontdesk, password=NEW).status_code == 302
    assert sign_in(Client(), clinic.frontdesk).status_code == 200


def test_a_verified_session_stays_verified_after_the_change(client, clinic, mfa_on):
    device, _ = enrol(clinic.clinician)
    sign_in_verified(client, clinic.clinician, device)
    change(client)
    assert client.get(SECURITY).status_code == 200
