"""`python -m bench checkin`: the roster check-in tap and the roster page against the bare baselines.

One run: recreate the bench database, generate one site of synthetic clinic (bench/generate.py), then add
sessions running right now with the measured user's active patients booked on them, start gunicorn, and
measure in the same run and server:

- check-in: ``POST /attendance/sessions/<id>/roster/<patient>/`` as HTMX (status=present), each request a
  new person on a session, so every one is a real first check-in: login session, role and program check, the
  roster lookup, the insert, the ``attendance_recorded`` receivers (billable day, absence policy), the audit
  row, and the row fragment rendered; against the bare single-row INSERT.
- roster (12): ``GET /attendance/sessions/<id>/roster/`` of a group of 12 (half checked in), with its
  PATIENTS_LISTED audit row; against the bare primary-key read.

It prints the table, the ratios and p99, and the target from the issue (check-in at least 0.6x the insert,
p99 under 20 ms at 8 clients).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import random
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

from bench import BENCH_PASSWORD, BENCH_USERNAME
from bench.database import DEFAULT_URL, Target, TargetError, setup_django
from bench.load import USER_AGENT, Request, Response, Session, run_load
from bench.paths import INSERT_BASELINE, READ_BASELINE, BenchPath, Context
from bench.server import HOST, Server

ROSTER_SIZE = 12
SESSION_HOURS = 4  # long enough for the whole run to stay inside the sessions' check-in window
TARGET_RATIO = 0.6
TARGET_P99_MS = 20.0
CSRF_PLACEHOLDER = "<csrf>"


class CsrfSession(Session):
    """A logged-in client that fills its own CSRF token into the forms it posts (the tap is an HTMX POST)."""

    def request(self, request: Request, *, with_cookies: bool = True) -> Response:
        if request.form is None or request.form.get("csrfmiddlewaretoken") != CSRF_PLACEHOLDER:
            return super().request(request, with_cookies=with_cookies)
        form = {**request.form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
        headers = {
            "User-Agent": USER_AGENT,
            "Host": f"{self.host}:{self.port}",
            "Content-Type": "application/x-www-form-urlencoded",
            "HX-Request": "true",  # as the tablet's HTMX sends it: the answer is the row fragment
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(request.method, request.path, body=urlencode(form).encode(), headers=headers)
            response = conn.getresponse()
            return Response(response.status, response.headers.get("Location", ""), response.read())
        finally:
            conn.close()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench checkin",
        description="Measure the roster check-in and the roster page against the bare insert and read.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--clients", default="1,8", help="concurrent clients, e.g. 1,8")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per path and client count")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per client before each timing")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def prepare(requests_needed: int) -> tuple[list[tuple[str, str]], str]:
    """Sessions running now with the user's active patients booked; returns (session, patient) pairs to check
    in and the 12-person roster session. Rows go in with bulk_create, like the rest of the bench data."""
    from django.db import connections, transaction
    from django.db.models import F
    from django.utils import timezone

    from openiop.accounts.models import User
    from openiop.attendance.actions import do_check_in
    from openiop.core.bench_views import ensure_table
    from openiop.core.permissions import program_ids_for
    from openiop.patients.models import EpisodeOfCare
    from openiop.scheduling.models import Booking, SessionType
    from openiop.scheduling.models import Session as CalendarSession

    ensure_table()
    user = User.objects.get(username=BENCH_USERNAME)
    program_id = program_ids_for(user)[0]
    episodes = list(
        EpisodeOfCare.objects.filter(program_id=program_id, status=EpisodeOfCare.Status.ACTIVE).order_by("pk")
    )
    if len(episodes) < ROSTER_SIZE:
        raise SystemExit(f"bench: only {len(episodes)} active episodes in the first program")
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=5)
    with transaction.atomic():
        kind = SessionType.objects.create(
            program_id=program_id,
            name="Bench check-in group",
            kind=SessionType.Kind.PROCESS_GROUP,
            service_kind=SessionType.ServiceKind.GROUP_PSYCHOTHERAPY,
            default_duration_minutes=60,
        )

        def sessions(count: int, seats: int) -> list[CalendarSession]:
            return CalendarSession.objects.bulk_create(
                [
                    CalendarSession(
                        program_id=program_id,
                        session_type=kind,
                        title=f"Bench group {i}",
                        starts_at=start,
                        ends_at=start + timedelta(hours=SESSION_HOURS),
                        capacity=seats,
                    )
                    for i in range(count)
                ]
            )

        pool = sessions(-(-requests_needed // len(episodes)), len(episodes))
        roster = sessions(1, ROSTER_SIZE)[0]
        if pool[0].pk is None:  # no RETURNING on this backend: read them back
            made = list(CalendarSession.objects.filter(session_type=kind).order_by("pk"))
            pool, roster = made[:-1], made[-1]
        bookings = [
            Booking(session=s, episode=e, patient_id=e.patient_id, source=Booking.Source.STAFF)
            for s in pool
            for e in episodes
        ]
        bookings += [
            Booking(session=roster, episode=e, patient_id=e.patient_id, source=Booking.Source.STAFF)
            for e in episodes[:ROSTER_SIZE]
        ]
        Booking.objects.bulk_create(bookings, batch_size=2000)
        for s in [*pool, roster]:
            CalendarSession.objects.filter(pk=s.pk).update(booked_count=F("capacity"))
    roster = CalendarSession.objects.get(pk=roster.pk)
    for episode in episodes[: ROSTER_SIZE // 2]:
        do_check_in(roster, episode.patient, acting_user=user, status="present")
    pairs = [(str(s.public_id), str(e.patient.public_id)) for s in pool for e in episodes]
    connections.close_all()
    return pairs, str(roster.public_id)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    clients = [int(c) for c in args.clients.split(",") if c.strip()]
    try:
        target = Target.parse(args.database_url)
    except TargetError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    print(f"bench checkin: database {target.label}")
    target.recreate()
    setup_django(target)
    from bench.generate import Generator, Scale

    began = time.perf_counter()
    Generator(Scale(1, 1, args.seed), progress=lambda _: None).run()
    needed = (args.requests + args.warmup * max(clients)) * len(clients) + 100
    pairs, roster_id = prepare(needed)
    print(f"bench checkin: data ready in {time.perf_counter() - began:.1f}s ({len(pairs)} people to check in)")

    from bench.__main__ import Row, render_table  # the table of `python -m bench`

    next_pair = itertools.count()
    lock = threading.Lock()

    def tap(ctx: Context, rng: object) -> Request:
        with lock:
            session_id, patient_id = pairs[next(next_pair)]
        return Request(
            "POST",
            f"/attendance/sessions/{session_id}/roster/{patient_id}/",
            {"csrfmiddlewaretoken": CSRF_PLACEHOLDER, "status": "present"},
        )

    checkin = BenchPath("check-in", "write", "roster tap: HTMX POST, first check-in of a person", tap)
    roster = BenchPath(
        "roster (12)",
        "read",
        "roster page of a group of 12, PATIENTS_LISTED audit row",
        lambda ctx, rng: Request("GET", f"/attendance/sessions/{roster_id}/roster/"),
    )
    context = Context(patient_ids=[], search_terms=[], bench_rows=10_000)
    _fill_baseline_rows(context.bench_rows)
    rows: list[Row] = []
    log_path = target.sqlite_path.parent / "gunicorn.log" if target.sqlite_path else None
    from bench.database import PROJECT_DIR

    with Server(target.environment(), args.workers, log_path or PROJECT_DIR / "var" / "bench" / "gunicorn.log") as srv:
        sessions: list[Session] = [CsrfSession(HOST, srv.port) for _ in range(max(clients))]
        for number, path in enumerate([INSERT_BASELINE, checkin, READ_BASELINE, roster]):
            for count in clients:
                group = sessions[:count]
                if path.login:
                    for session in group:
                        if session.logged_in_at is None:
                            session.login(BENCH_USERNAME, BENCH_PASSWORD)
                result = run_load(
                    group,
                    _maker(path, context),
                    expect=path.expect,
                    with_cookies=path.login,
                    requests=args.requests,
                    duration=None,
                    warmup=args.warmup,
                    seed=args.seed * 100 + number,
                )
                rows.append(Row(path, result))
                note = f", {result.errors} errors (first: {result.first_error})" if result.errors else ""
                print(f"  {path.name:<16} x{count:<3} {result.throughput:8.1f} req/s{note}")
    by_key = {(r.path.name, r.result.clients): r for r in rows}
    for row in rows:
        base = {checkin.name: INSERT_BASELINE.name, roster.name: READ_BASELINE.name}.get(row.path.name)
        baseline = by_key.get((base, row.result.clients)) if base else None
        if baseline is not None and baseline.result.throughput:
            row.ratio = row.result.throughput / baseline.result.throughput
    print()
    print(render_table(rows))
    print()
    for count in clients:
        row = by_key[(checkin.name, count)]
        p99 = row.result.percentile(0.99)
        ratio = row.ratio or 0.0
        verdict = "met" if ratio >= TARGET_RATIO and (count != max(clients) or p99 < TARGET_P99_MS) else "NOT met"
        print(
            f"check-in x{count}: {ratio:.2f}x the bare insert (target {TARGET_RATIO}), p99 {p99:.1f} ms"
            f"{f' (target < {TARGET_P99_MS:.0f} ms)' if count == max(clients) else ''}: {verdict}"
        )
    return 1 if any(r.result.errors for r in rows) else 0


def _maker(path: BenchPath, context: Context) -> Callable[[random.Random], Request]:
    return lambda rng: path.make(context, rng)


def _fill_baseline_rows(count: int) -> None:
    from django.db import connection, connections, transaction
    from django.utils import timezone

    with transaction.atomic(), connection.cursor() as cursor:
        now = timezone.now()
        cursor.executemany("INSERT INTO bench_row (payload, created_at) VALUES (%s, %s)", [("seed", now)] * count)
    connections.close_all()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
