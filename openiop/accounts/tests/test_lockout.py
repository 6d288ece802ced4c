from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.test import Client
from django.utils import timezone

from openiop.core.models import AuditAction

from .helpers import LOGIN_URL, events, is_signed_in, sign_in

WRONG = "not the password at all"


def fail(client, user, times: int):
    return [sign_in(client, user, password=WRONG) for _ in range(times)]


def test_four_failures_do_not_lock_the_account(client, clinic):
    responses = fail(client, clinic.clinician, 4)
    assert [r.status_code for r in responses] == [200] * 4
    assert sign_in(client, clinic.clinician).status_code == 302
    assert is_signed_in(client)


def test_fifth_failure_locks_the_account_and_shows_the_lockout_page(client, clinic, settings):
    settings.AXES_COOLOFF_TIME = 0.25  # hours
    responses = fail(client, clinic.clinician, 5)
    locked = responses[-1]
    assert locked.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in locked.templates]
    body = locked.content.decode()
    assert "Account locked" in body
    assert 'name="password"' not in body
    assert "locked for 15 minutes" in body
    assert "contact your system administrator" in body
    assert clinic.clinician.username not in body


def test_correct_password_is_refused_while_locked(client, clinic):
    fail(client, clinic.clinician, 5)
    response = sign_in(client, clinic.clinician)
    assert response.status_code == 429
    assert not is_signed_in(client)


def test_lockout_is_audited_with_the_failures(client, clinic):
    fail(client, clinic.clinician, 5)
    failed = events(AuditAction.LOGIN_FAILED)
    [locked] = events(AuditAction.LOCKED_OUT)
    assert len(failed) == 5
    assert locked.actor_id is None
    assert locked.object_id == str(clinic.clinician.public_id)
    assert locked.organization_id_ref == clinic.org.pk


def test_colleagues_on_other_devices_can_still_sign_in(client, clinic):
    fail(client, clinic.clinician, 5)
    # Same clinic address (staff share one NAT address), another browser.
    colleague = Client(HTTP_USER_AGENT="Tablet browser")
    assert sign_in(colleague, clinic.director).status_code == 302


def test_the_username_is_locked_whichever_device_tries(clinic):
    for n in range(5):
        sign_in(Client(REMOTE_ADDR=f"10.0.0.{n + 1}"), clinic.clinician, password=WRONG)
    response = sign_in(Client(REMOTE_ADDR="10.0.0.99"), clinic.clinician)
    assert response.status_code == 429


def test_one_browser_trying_many_usernames_is_locked(client, clinic):
    for n in range(5):
        client.post(LOGIN_URL, {"username": f"guess{n}", "password": WRONG})
    assert sign_in(client, clinic.director).status_code == 429


def test_account_opens_again_after_the_cooloff(client, clinic, settings):
    settings.AXES_COOLOFF_TIME = 0.25
    fail(client, clinic.clinician, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    response = sign_in(client, clinic.clinician)
    assert response.status_code == 302
    assert is_signed_in(client)


def test_account_stays_locked_inside_the_cooloff(client, clinic, settings):
    settings.AXES_COOLOFF_TIME = 0.25
    fail(client, clinic.clinician, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert sign_in(client, clinic.clinician).status_code == 429


def test_an_administrator_reset_unlocks_at_once(client, clinic):
    fail(client, clinic.clinician, 5)
    assert axes_reset(username=clinic.clinician.username) == 1
    assert sign_in(client, clinic.clinician).status_code == 302


def test_success_clears_earlier_failures(client, clinic):
    fail(client, clinic.clinician, 4)
    sign_in(client, clinic.clinician)
    client.logout()
    assert [r.status_code for r in fail(client, clinic.clinician, 4)] == [200] * 4
