"""What every signed-in request pays before the view: the session, the user with the MFA gate's device check in the
same statement, and no session write unless something in it changed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.actions import do_reset_mfa
from openiop.conftest import login

from .helpers import enrol

pytestmark = pytest.mark.django_db

PAGE = reverse("accounts:security")
VERIFY = reverse("accounts:mfa_verify")


def _sql(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, [q["sql"] for q in queries.captured_queries]


def test_the_device_check_rides_on_the_user_query(client, clinic):
    login(client, clinic.frontdesk)
    client.get(PAGE)
    response, sql = _sql(client, PAGE)
    assert response.status_code == 200
    [user_query] = [s for s in sql if 'FROM "accounts_user"' in s and "otp_totp_totpdevice" in s]
    assert "EXISTS" in user_query.upper()
    # The device shown on the security page is its own read; the gate asks nothing more.
    assert not [s for s in sql if s.startswith('SELECT 1 AS "a" FROM "otp_totp_totpdevice"')]
    assert not [s for s in sql if "django_session" in s and not s.startswith("SELECT")]


def test_a_device_added_elsewhere_gates_the_very_next_request(client, clinic):
    """Not cached past the request: an authenticator confirmed in another session (or by anything else) sends this
    unverified session to verification at once."""
    login(client, clinic.frontdesk)
    assert client.get(PAGE).status_code == 200
    TOTPDevice.objects.create(user=clinic.frontdesk, name="Authenticator app", confirmed=True)
    assert client.get(PAGE)["Location"] == VERIFY


def test_a_device_removed_elsewhere_lifts_the_gate_at_once(client, clinic):
    enrol(clinic.frontdesk)
    login(client, clinic.frontdesk)
    assert client.get(PAGE)["Location"] == VERIFY
    do_reset_mfa(clinic.frontdesk, acting_user=clinic.sysadmin)
    assert client.get(PAGE).status_code == 200
