"""Bare baseline endpoints for the benchmark (`python -m bench`), mounted only with OPENIOP_BENCH_ENDPOINTS.

They run through the same server, middleware and database as the real pages but skip everything an
OpenIOP page adds (login, access checks, audit row, template), so the ratio of a page's throughput to
theirs shows what those additions cost. The bench creates and fills the ``bench_row`` table (ensure_table);
nothing here touches clinical data, and there is no authentication, so never mount them in production.
"""

from __future__ import annotations

import os

from django.db import connection, transaction
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST


def ensure_table() -> None:
    """Create the baseline table if missing (the bench calls this; the app never does)."""
    id_column = "BIGSERIAL PRIMARY KEY" if connection.vendor == "postgresql" else "INTEGER PRIMARY KEY AUTOINCREMENT"
    ts = "TIMESTAMP WITH TIME ZONE" if connection.vendor == "postgresql" else "TIMESTAMP"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS bench_row (id {id_column}, payload VARCHAR(40), created_at {ts})")


@csrf_exempt
@require_POST
def insert_row(request: HttpRequest) -> JsonResponse:
    """One single-row INSERT in its own transaction: the floor for any page that commits a write."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_row (payload, created_at) VALUES (%s, %s)",
            ["baseline", timezone.now()],
        )
    return JsonResponse({"ok": True}, status=201)


@require_GET
def read_row(request: HttpRequest, row_id: int) -> JsonResponse:
    """One primary-key SELECT: the floor for any page that reads.

    The reply names the worker process that served it, so the bench can warm every worker before timing.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, payload FROM bench_row WHERE id = %s", [row_id])
        row = cursor.fetchone()
    if row is None:
        raise Http404
    return JsonResponse({"id": row[0], "payload": row[1], "pid": os.getpid()})


app_name = "bench"
urlpatterns = [
    path("insert/", insert_row, name="insert"),
    path("read/<int:row_id>/", read_row, name="read"),
]
