"""The replica router's decisions (core/dbrouter.py) and the settings for several machines, without a replica or a
second server: the router is asked directly, inside the scope the middleware sets, and the settings module is
evaluated afresh under a given environment."""

from __future__ import annotations

import runpy
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.http import HttpResponse
from django.test import RequestFactory

from openiop import settings as settings_module
from openiop.accounts.models import User
from openiop.api.models import ApiToken
from openiop.attendance.models import AttendancePolicy
from openiop.core import dbrouter
from openiop.core.dbrouter import REPLICA, WROTE_COOKIE, ReplicaMiddleware, ReplicaRouter
from openiop.patients.models import Patient
from openiop.programs.models import Program
from openiop.scheduling.models import Session

router = ReplicaRouter()
factory = RequestFactory()


@pytest.fixture(autouse=True)
def _pin_seconds(settings):
    settings.DATABASE_REPLICA_PIN_SECONDS = 15


def _reads_inside(request, read) -> str:
    """Where ``read`` (called while the request is handled) is routed; outside any transaction."""
    seen: list[str] = []

    def view(req):
        seen.append(read())
        return HttpResponse()

    ReplicaMiddleware(view)(request)
    return seen[0]


def test_a_report_or_api_get_reads_from_the_replica():
    for path in ("/attendance/reports/at-risk/", "/measures/reports/", "/api/v1/sessions"):
        assert _reads_inside(factory.get(path), lambda: router.db_for_read(Session)) == REPLICA, path
    assert _reads_inside(factory.head("/api/v1/sessions"), lambda: router.db_for_read(Patient)) == REPLICA


def test_other_pages_and_every_other_method_read_from_the_primary():
    assert _reads_inside(factory.get("/patients/"), lambda: router.db_for_read(Session)) == DEFAULT_DB_ALIAS
    assert _reads_inside(factory.get("/"), lambda: router.db_for_read(Session)) == DEFAULT_DB_ALIAS
    for method in ("post", "put", "patch", "delete", "options"):
        request = getattr(factory, method)("/api/v1/sessions")
        assert _reads_inside(request, lambda: router.db_for_read(Session)) == DEFAULT_DB_ALIAS, method


def test_outside_a_request_everything_reads_from_the_primary():
    assert router.db_for_read(Session) == DEFAULT_DB_ALIAS  # commands, the worker, the shell


def test_who_may_do_what_is_read_from_the_primary_even_on_a_replica_request():
    for model in (User, ApiToken):
        assert _reads_inside(factory.get("/api/v1/sessions"), lambda m=model: router.db_for_read(m)) == DEFAULT_DB_ALIAS


def test_a_write_pins_the_rest_of_the_request_to_the_primary_but_an_audit_row_does_not():
    def run(sql: str):
        def read_after():
            # What Django does with every statement on the primary's connection while the request runs.
            wrapper = connections[DEFAULT_DB_ALIAS].execute_wrappers[-1]
            before = router.db_for_read(Session)
            wrapper(lambda *args: None, sql, None, False, {})
            return f"{before}->{router.db_for_read(Session)}"

        return _reads_inside(factory.get("/api/v1/sessions"), read_after)

    assert run('SELECT "x" FROM "scheduling_session"') == f"{REPLICA}->{REPLICA}"
    assert run('INSERT INTO "core_auditevent" ("x") VALUES (1)') == f"{REPLICA}->{REPLICA}"
    assert run('UPDATE "core_auditchainhead" SET "x" = 1') == f"{REPLICA}->{REPLICA}"
    for sql in ('UPDATE "scheduling_session" SET "x" = 1', 'INSERT INTO "patients_patient" ("x") VALUES (1)'):
        assert run(sql) == f"{REPLICA}->{DEFAULT_DB_ALIAS}", sql


def test_building_an_unsaved_object_is_not_a_write():
    # Django asks the router's db_for_write when a related object is assigned, saved or not: no pin from that.
    def build_then_read():
        AttendancePolicy(program=Program(name="x"))
        assert router.db_for_write(Patient) == DEFAULT_DB_ALIAS
        return router.db_for_read(Session)

    assert _reads_inside(factory.get("/api/v1/sessions"), build_then_read) == REPLICA


@pytest.mark.django_db
def test_inside_a_transaction_reads_go_to_the_primary():
    # pytest-django's db fixture already wraps the test in one: that is the point.
    with transaction.atomic():
        assert _reads_inside(factory.get("/api/v1/sessions"), lambda: router.db_for_read(Session)) == DEFAULT_DB_ALIAS


def test_a_write_sets_the_cookie_and_the_client_reads_from_the_primary_until_it_is_old():
    response = ReplicaMiddleware(lambda r: HttpResponse())(factory.post("/api/v1/sessions/x/bookings"))
    cookie = response.cookies[WROTE_COOKIE]
    assert cookie["max-age"] == 15 and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert abs(float(cookie.value) - time.time()) < 60

    def get(wrote_at: str):
        request = factory.get("/api/v1/sessions")
        request.COOKIES[WROTE_COOKIE] = wrote_at
        return request

    now = time.time()
    assert not dbrouter.may_use_replica(get(str(int(now - 5))), now)
    assert dbrouter.may_use_replica(get(str(int(now - 16))), now)
    assert not dbrouter.may_use_replica(get("garbage"), now)  # unreadable: the primary is never wrong
    assert _reads_inside(get(str(int(time.time()))), lambda: router.db_for_read(Session)) == DEFAULT_DB_ALIAS
    no_cookie = ReplicaMiddleware(lambda r: HttpResponse())(factory.get("/api/v1/sessions"))
    assert WROTE_COOKIE not in no_cookie.cookies


def test_only_the_primary_is_migrated_and_relations_cross():
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "patients")
    assert not router.allow_migrate(REPLICA, "patients")
    assert router.allow_relation(Patient(), Session())


# --- Settings ----------------------------------------------------------------------------------------------------

BASE = ("DATABASE_URL", "DATABASE_REPLICA_URL", "CACHE_URL", "SESSION_STORE", "SESSION_CACHE_URL")


def _settings(monkeypatch, **env: str) -> dict:
    for name in (*BASE, "DB_DISABLE_SERVER_SIDE_CURSORS", "CACHE_KEY_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(settings_module.__file__)))


def test_a_single_machine_keeps_its_defaults(monkeypatch):
    conf = _settings(monkeypatch)
    assert conf["SESSION_STORE"] == "db" and "SESSION_ENGINE" not in conf
    assert set(conf["CACHES"]) == {"default"} and set(conf["DATABASES"]) == {"default"}
    assert conf["DATABASE_ROUTERS"] == []
    assert "openiop.core.dbrouter.ReplicaMiddleware" not in conf["MIDDLEWARE"]


def test_several_machines_sessions_in_redis_a_replica_and_pgbouncer(monkeypatch):
    conf = _settings(
        monkeypatch,
        DATABASE_URL="postgres://app@pgbouncer:6432/openiop",
        DATABASE_REPLICA_URL="postgres://app@replica:5432/openiop",
        CACHE_URL="redis://redis:6379/1",
        CACHE_KEY_PREFIX="site1",
        SESSION_STORE="cache",
        DB_DISABLE_SERVER_SIDE_CURSORS="true",
    )
    assert conf["SESSION_ENGINE"] == "django.contrib.sessions.backends.cache"
    sessions = conf["CACHES"][conf["SESSION_CACHE_ALIAS"]]
    assert sessions["LOCATION"] == "redis://redis:6379/1" and sessions["KEY_PREFIX"] == "site1:sessions"
    assert conf["DATABASES"]["replica"]["HOST"] == "replica"
    assert conf["DATABASES"]["replica"]["TEST"] == {"MIRROR": "default"}
    assert conf["DATABASE_ROUTERS"] == ["openiop.core.dbrouter.ReplicaRouter"]
    assert "openiop.core.dbrouter.ReplicaMiddleware" in conf["MIDDLEWARE"]
    for alias in ("default", "replica"):
        assert conf["DATABASES"][alias]["DISABLE_SERVER_SIDE_CURSORS"] is True
        assert conf["DATABASES"][alias]["OPTIONS"]["prepare_threshold"] is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SESSION_STORE": "cache"}, "SESSION_STORE=cache needs"),
        ({"SESSION_STORE": "redis"}, "SESSION_STORE must be"),
        ({"DATABASE_REPLICA_URL": "postgres://replica/openiop"}, "DATABASE_REPLICA_URL needs DATABASE_URL"),
    ],
)
def test_settings_that_cannot_work_are_refused(monkeypatch, env, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        _settings(monkeypatch, **env)
