"""The plan check: one request per page through Django's test client, its statements counted, each SELECT explained.

Runs in the bench process, against the bench database, before the server starts. Every request goes inside one
transaction that is rolled back, so the bench data is unchanged (a write path's seat or record, the audit rows of a
read, the session the test client signs in with). Inside that transaction the view's own transactions are
savepoints, so the statement count is the one the query-count tests pin (a SAVEPOINT pair where the server has
BEGIN/COMMIT). Each path is requested twice, with different draws, and the second request is counted, as a warmed
worker would serve it (the first fills per-process caches).

On PostgreSQL each SELECT is explained (``EXPLAIN (FORMAT JSON)``, not executed), and a sequential scan of a
table that grows with the organization is flagged.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bench import BENCH_USERNAME
from bench.load import Request
from bench.paths import BenchPath, Context

# A sequential scan of these grows with the organization's history, whoever asks: flagged.
FLAGGED_TABLES = ("patients_patient", "scheduling_booking")
# The backend the real login stores in the session (accounts.backends.UserBackend): a session naming a backend the
# settings do not list is anonymous, and every page would answer with a redirect to the login.
LOGIN_BACKEND = "openiop.accounts.backends.UserBackend"


@dataclass
class PlanResult:
    path: str
    statements: int | None = None  # None when the request failed
    selects: int = 0
    flagged: Counter[str] = field(default_factory=Counter)  # table -> sequential scans in this path's plans
    other_seq_scans: Counter[str] = field(default_factory=Counter)
    explained: bool = False  # False on SQLite
    error: str = ""


def check_plans(paths: list[BenchPath], context: Context, seed: int) -> list[PlanResult]:
    from django.db import connections

    results = [check_path(path, context, random.Random(f"{seed}:{path.name}")) for path in paths]
    # The server's workers must not wait on anything this process holds.
    connections.close_all()
    return results


def check_path(path: BenchPath, context: Context, rng: random.Random) -> PlanResult:
    from django.db import DatabaseError, connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from openiop.accounts.models import User

    result = PlanResult(path.name, explained=connection.vendor == "postgresql")
    try:
        with transaction.atomic():
            client = Client()
            if path.login:
                client.force_login(User.objects.get(username=BENCH_USERNAME), backend=LOGIN_BACKEND)
            warm = send(client, path.make(context, rng))
            if warm.status_code != path.expect:
                result.error = f"first request answered {warm.status_code}, expected {path.expect}"
            else:
                request = path.make(context, rng)
                with CaptureQueriesContext(connection) as captured:
                    response = send(client, request)
                if response.status_code != path.expect:
                    result.error = f"{request.method} answered {response.status_code}, expected {path.expect}"
                else:
                    result.statements = len(captured.captured_queries)
                    selects = [q["sql"] for q in captured.captured_queries if is_select(q["sql"])]
                    result.selects = len(selects)
                    if result.explained:
                        for sql in selects:
                            for table in seq_scans(explain(sql)):
                                target = result.flagged if table in FLAGGED_TABLES else result.other_seq_scans
                                target[table] += 1
            transaction.set_rollback(True)
    except DatabaseError as exc:
        result.statements = None
        result.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return result


def send(client: Any, request: Request) -> Any:
    """The bench request, as the test client's request (no CSRF check: the client is signed in by force_login)."""
    headers = dict(request.headers or {})
    # The test client takes the body's type as an argument (CONTENT_TYPE), not as a header.
    given_type = next((headers.pop(k) for k in list(headers) if k.lower() == "content-type"), None)
    data: str | bytes
    if request.form is not None:
        data, content_type = urlencode(request.form), "application/x-www-form-urlencoded"
    elif request.body is not None:
        data, content_type = request.body, given_type or "application/octet-stream"
    else:
        data, content_type = "", given_type or "application/octet-stream"
    return client.generic(request.method, request.path, data, content_type=content_type, headers=headers)


def is_select(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    return head in ("SELECT", "WITH")


def explain(sql: str) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        # The captured SQL has its parameters inlined (client-side binding), so it runs as it is, without parameters
        # (a "%" in it is then not a placeholder).
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    return json.loads(plan) if isinstance(plan, str) else plan


def seq_scans(plan: Any) -> list[str]:
    """The relations a JSON plan reads with a sequential scan, one entry per scan node."""
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Node Type") == "Seq Scan":
            found.append(str(node.get("Relation Name", "?")))
        for child in node.get("Plans", []):
            walk(child)

    for entry in plan:
        walk(entry["Plan"])
    return found


def render_plans(results: list[PlanResult], small: dict[str, PlanResult] | None = None) -> str:
    from bench.report import table

    explained = any(r.explained for r in results)
    header = ["path", "statements", *(["small db"] if small is not None else []), "SELECTs", "flagged seq scans"]
    rows = []
    info = []
    for r in results:
        row = [r.path, "failed" if r.statements is None else str(r.statements)]
        if small is not None:
            other = small.get(r.path)
            row.append("-" if other is None or other.statements is None else str(other.statements))
        row.append(str(r.selects))
        if r.error:
            row.append(f"not checked: {r.error}")
        elif not r.explained:
            row.append("-")
        else:
            row.append(", ".join(f"{t} x{n}" for t, n in sorted(r.flagged.items())) or "none")
            if r.other_seq_scans:
                info.append(f"  {r.path}: {', '.join(sorted(r.other_seq_scans))}")
        rows.append(row)
    lines = [table(header, rows, left=1)]
    if info:
        lines.append("\nSequential scans of other tables (information; a small table is read faster whole):")
        lines.extend(info)
    if not explained:
        lines.append("\n(the plan check runs on PostgreSQL only; on SQLite only the statements are counted)")
    return "\n".join(lines)
