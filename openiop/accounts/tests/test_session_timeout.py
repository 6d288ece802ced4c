from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.accounts import middleware
from openiop.accounts.middleware import IDLE_KEY, START_KEY
from openiop.conftest import login
from openiop.core.models import AuditAction

from .helpers import LOGIN_URL, events, is_signed_in

PAGE = reverse("accounts:security")


@pytest.fixture
def limits(settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 15
    settings.SESSION_ABSOLUTE_TIMEOUT_MINUTES = 12 * 60


def set_clocks(client, *, idle_seconds: float, age_seconds: float) -> None:
    session = client.session
    now = time.time()
    session[IDLE_KEY] = now - idle_seconds
    session[START_KEY] = now - age_seconds
    session.save()


def test_activity_inside_the_idle_limit_keeps_the_session(client, clinic, limits):
    login(client, clinic.frontdesk)
    set_clocks(client, idle_seconds=14 * 60, age_seconds=3 * 3600)
    assert client.get(PAGE).status_code == 200
    assert client.session[IDLE_KEY] > time.time() - 5  # the request counted as activity


def test_idle_session_ends_after_the_limit(client, clinic, limits):
    login(client, clinic.frontdesk)
    set_clocks(client, idle_seconds=15 * 60 + 1, age_seconds=3600)
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN_URL}?expired=1"
    assert not is_signed_in(client)
    [row] = events(AuditAction.SESSION_EXPIRED)
    assert row.actor_id == clinic.frontdesk.pk
    assert events(AuditAction.LOGOUT) == []  # recorded once, as the expiry


def test_idle_limit_follows_the_setting(client, clinic, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 5
    login(client, clinic.frontdesk)
    set_clocks(client, idle_seconds=6 * 60, age_seconds=600)
    assert client.get(PAGE)["Location"] == f"{LOGIN_URL}?expired=1"


def test_expired_notice_is_shown_on_the_login_page(client, clinic, limits):
    login(client, clinic.frontdesk)
    set_clocks(client, idle_seconds=16 * 60, age_seconds=3600)
    response = client.get(PAGE, follow=True)
    assert "You were signed out after 15 minutes of inactivity" in response.content.decode()


def test_busy_session_still_ends_at_the_absolute_limit(client, clinic, limits):
    login(client, clinic.frontdesk)
    set_clocks(client, idle_seconds=10, age_seconds=12 * 3600 + 1)
    response = client.get(PAGE)
    assert response["Location"] == f"{LOGIN_URL}?expired=absolute"
    assert not is_signed_in(client)
    assert len(events(AuditAction.SESSION_EXPIRED)) == 1


def test_frozen_clock_past_the_idle_limit_signs_out(client, clinic, limits, monkeypatch):
    login(client, clinic.frontdesk)
    assert client.get(PAGE).status_code == 200
    later = time.time() + 15 * 60 + 5
    monkeypatch.setattr(middleware.time, "time", lambda: later)
    assert client.get(PAGE)["Location"] == f"{LOGIN_URL}?expired=1"


def test_htmx_request_gets_hx_redirect_instead_of_a_302(client, clinic, limits):
    login(client, clinic.frontdesk)
    set_clocks(client, idle_seconds=16 * 60, age_seconds=3600)
    response = client.get(PAGE, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"{LOGIN_URL}?expired=1"
    assert not is_signed_in(client)


def test_htmx_request_past_the_absolute_limit_gets_hx_redirect(client, clinic, limits):
    login(client, clinic.frontdesk)
    set_clocks(client, idle_seconds=1, age_seconds=13 * 3600)
    response = client.get(PAGE, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"{LOGIN_URL}?expired=absolute"


def test_api_request_on_an_expired_session_gets_401(client, clinic, limits):
    login(client, clinic.frontdesk)
    set_clocks(client, idle_seconds=16 * 60, age_seconds=3600)
    response = client.get("/api/v1/patients")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def _session_writes(queries) -> int:
    return sum(1 for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "django_session" in q["sql"])


def test_the_activity_clock_is_written_at_most_once_a_minute(client, clinic, limits, monkeypatch):
    login(client, clinic.frontdesk)
    stored = client.session[IDLE_KEY]
    now = stored + 59
    monkeypatch.setattr(middleware.time, "time", lambda: now)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE).status_code == 200
    assert _session_writes(queries) == 0  # nothing in the session changed: it is not saved at all
    assert client.session[IDLE_KEY] == stored
    now = stored + 60
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE).status_code == 200
    assert _session_writes(queries) == 1
    assert client.session[IDLE_KEY] == stored + 60


def test_the_idle_limit_counts_from_the_stored_time_so_a_session_ends_early_never_late(
    client, clinic, limits, monkeypatch
):
    login(client, clinic.frontdesk)
    stored = client.session[IDLE_KEY]
    now = stored + 50
    monkeypatch.setattr(middleware.time, "time", lambda: now)
    assert client.get(PAGE).status_code == 200  # activity, but the clock stays at `stored`
    now = stored + 15 * 60 + 1  # 14 min 11 s after the last request, 15 min 1 s after the stored time
    assert client.get(PAGE)["Location"] == f"{LOGIN_URL}?expired=1"
