"""Reads from the replica, when DATABASE_REPLICA_URL names one (docs/operations.md#more-than-one-machine).

Installed only with a replica (settings.py adds the router and the middleware then). A request may read from the
replica when all of these hold, and otherwise every query goes to the primary:

- it is a GET or HEAD of a report page (a path with ``/reports/`` in it) or of the API (``/api/v1/``);
- its client wrote nothing in the last ``DATABASE_REPLICA_PIN_SECONDS``: any other method sets the
  ``openiop_wrote`` cookie (a timestamp, no secret: a client that drops it only reads its own writes late), so the
  client reads its own writes however far behind the replica is, up to that long;
- the query is not inside a transaction on the primary, and the request has not written yet (a statement other than
  a SELECT on the primary pins the rest of the request there; the audit trail's own rows do not, since nothing
  reads them back);
- the model is not one that decides who may do what now: sessions, users and memberships, second factors,
  lockouts, API tokens, and the task queue are always read from the primary, so a revocation takes effect at once.

Writes always go to the primary, and the replica is never migrated.
"""

from __future__ import annotations

import contextvars
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
WROTE_COOKIE = "openiop_wrote"
READ_METHODS = frozenset({"GET", "HEAD"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Who may do what, and the queue: read where they are written, so a revoked token, a deactivated user or a removed
# membership never works for the length of the replica's lag.
PRIMARY_APPS = frozenset(
    {"sessions", "auth", "contenttypes", "accounts", "otp_totp", "otp_static", "axes", "api", "django_tasks_db", "jobs"}
)
# Statements that are not writes. Anything else on the primary pins the rest of the request there.
NOT_WRITES = ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "SET ", "SHOW")
# Append-only rows no request reads back: writing them does not pin the request to the primary.
AUDIT_WRITE = re.compile(r'\s*(INSERT\s+INTO|UPDATE)\s+"(core_auditevent|core_auditchainhead)"', re.IGNORECASE)


@dataclass
class _Scope:
    replica_ok: bool
    wrote: bool = False


_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("openiop_db_scope", default=None)


def replica_path(path: str) -> bool:
    return path.startswith("/api/v1/") or "/reports/" in path


def recently_wrote(request: HttpRequest, now: float) -> bool:
    value = request.COOKIES.get(WROTE_COOKIE, "")
    try:
        wrote_at = float(value)
    except ValueError:
        return bool(value)  # unreadable: treat as a recent write (the primary is never wrong)
    return now - wrote_at < settings.DATABASE_REPLICA_PIN_SECONDS


def may_use_replica(request: HttpRequest, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    return request.method in READ_METHODS and replica_path(request.path_info) and not recently_wrote(request, now)


def watch_writes(scope: _Scope) -> Callable[..., Any]:
    """An execute wrapper for the primary's connection: the first write pins the scope to the primary.

    A statement, not the router's db_for_write: Django asks that also when a related object is merely assigned to
    an unsaved instance (a policy's defaults, built and never saved), which is no write at all.
    """

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        if not scope.wrote and not sql.lstrip()[:10].upper().startswith(NOT_WRITES) and not AUDIT_WRITE.match(sql):
            scope.wrote = True
        return execute(sql, params, many, context)

    return wrapper


class ReplicaMiddleware:
    """Decide, per request, whether its reads may go to the replica; remember each client's last write."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        scope = _Scope(replica_ok=may_use_replica(request))
        token = _scope.set(scope)
        try:
            if scope.replica_ok:
                with connections[DEFAULT_DB_ALIAS].execute_wrapper(watch_writes(scope)):
                    response = self.get_response(request)
            else:
                response = self.get_response(request)
        finally:
            _scope.reset(token)
        if request.method not in SAFE_METHODS:
            response.set_cookie(
                WROTE_COOKIE,
                str(int(time.time())),
                max_age=settings.DATABASE_REPLICA_PIN_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


class ReplicaRouter:
    """Names an alias for every query (never None), so an instance read from the replica is saved to the primary."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        scope = _scope.get()
        if (
            scope is None
            or not scope.replica_ok
            or scope.wrote
            or model._meta.app_label in PRIMARY_APPS
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # one database, two copies

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
