"""What the bench measures: the baselines and the real pages, each a function that makes the next request.

To measure a new page, add a BenchPath to PATHS: its kind ("read" or "write") picks the baseline it is
compared with, and ``make`` builds one request from the run's Context and a random generator.
``prepare_context`` builds the Context before the server starts.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from bench import BENCH_API_TOKEN, BENCH_USERNAME
from bench.load import Request

BASELINE_ROWS = 10_000

T = TypeVar("T")


class PoolExhausted(RuntimeError):
    pass


class Pool(Generic[T]):
    """Items handed out once each, to whichever client thread asks next (the write paths must never repeat one)."""

    def __init__(self, name: str, items: list[T]) -> None:
        self.name = name
        self.size = len(items)
        self._items: Iterator[T] = iter(items)
        self._lock = threading.Lock()

    def take(self) -> T:
        with self._lock:
            item = next(self._items, None)
        if item is None:
            raise PoolExhausted(f"all {self.size} {self.name} are used: measure fewer requests, or prepare again")
        return item


@dataclass(frozen=True)
class Context:
    """Data the requests draw from, read from the bench database before the server starts."""

    patient_ids: list[str]  # public ids of patients the measured user may see
    search_terms: list[str]  # name prefixes that match some of those patients
    bench_rows: int  # rows in bench_row, ids 1..bench_rows
    checkins: Pool[tuple[str, str]]  # (session, patient) public ids: booked, open for check-in, not checked in
    bookings: Pool[tuple[str, str]]  # (session, episode) public ids: a free seat, clear of the person's others
    roster_id: str  # a session running now with 12 people booked, half checked in
    calendar_path: str  # the day calendar of the user's site on the busiest day of the last week


@dataclass(frozen=True)
class BenchPath:
    name: str
    kind: str  # "read" or "write": which baseline the ratio uses
    description: str
    make: Callable[[Context, random.Random], Request]
    login: bool = True
    expect: int = 200


def booking_request(ctx: Context, rng: random.Random) -> Request:
    session_id, episode_id = ctx.bookings.take()
    return Request(
        "POST",
        f"/api/v1/sessions/{session_id}/bookings",
        body=json.dumps({"episode": episode_id}).encode(),
        headers={
            "Authorization": f"Bearer {BENCH_API_TOKEN}",
            "Content-Type": "application/json",
            # As a client that retries safely sends it: unique per booking.
            "Idempotency-Key": f"bench-{uuid.uuid4()}",
        },
    )


def checkin_request(ctx: Context, rng: random.Random) -> Request:
    session_id, patient_id = ctx.checkins.take()
    # The roster's tap, as its HTMX form posts it (the CSRF token goes in the X-CSRFToken header).
    return Request(
        "POST", f"/attendance/sessions/{session_id}/roster/{patient_id}/", {"status": "present"}, {"HX-Request": "true"}
    )


READ_BASELINE = BenchPath(
    "baseline read",
    "read",
    "bare primary-key SELECT of bench_row, JSON reply, no session",
    lambda ctx, rng: Request("GET", f"/bench/read/{rng.randint(1, ctx.bench_rows)}/"),
    login=False,
)
INSERT_BASELINE = BenchPath(
    "baseline insert",
    "write",
    "bare single-row INSERT into bench_row in one transaction, no session",
    lambda ctx, rng: Request("POST", "/bench/insert/", {}),
    login=False,
    expect=201,
)
BASELINES = {"read": READ_BASELINE, "write": INSERT_BASELINE}

PATHS = [
    BenchPath(
        "chart",
        "read",
        "patient chart: session, role and program check, CHART_VIEWED audit row, full page render",
        lambda ctx, rng: Request("GET", f"/patients/{rng.choice(ctx.patient_ids)}/"),
    ),
    BenchPath(
        "search",
        "read",
        "patient search by name prefix (the live search's HTMX post): scoped query, the search kept in the session, "
        "PATIENTS_SEARCHED audit row, first page of results",
        lambda ctx, rng: Request(
            "POST", "/patients/", {"q": rng.choice(ctx.search_terms)}, headers={"HX-Request": "true"}
        ),
    ),
    BenchPath(
        "list",
        "read",
        "patient list, first page: scoped query, PATIENTS_LISTED audit row, render",
        lambda ctx, rng: Request("GET", "/patients/"),
    ),
    BenchPath(
        "booking",
        "write",
        "API booking with a bearer token and an Idempotency-Key: a new seat on a future session for an active "
        "episode, overlap check, seat count, audit row, 201 with the booking",
        booking_request,
        login=False,  # the token, not a browser session
        expect=201,
    ),
    BenchPath(
        "check-in",
        "write",
        "roster tap (HTMX POST, status present): a person's first check-in on a session running now, billable day "
        "decided, audit rows, the row fragment",
        checkin_request,
    ),
    BenchPath(
        "roster",
        "read",
        "roster page of a group of 12 running now (half checked in), PATIENTS_LISTED audit row",
        lambda ctx, rng: Request("GET", f"/attendance/sessions/{ctx.roster_id}/roster/"),
    ),
    BenchPath(
        "calendar",
        "read",
        "day calendar of the user's site on the busiest day of the last week: scoped sessions with their track, "
        "room, facilitators and seats",
        lambda ctx, rng: Request("GET", ctx.calendar_path),
    ),
]


def prepare_context(seed: int) -> Context:
    """Pick what the requests will ask for, top up the write paths' pools, and fill the baseline table; runs
    before the server starts (Django set up on the bench database)."""
    from django.db import connection, connections, transaction
    from django.utils import timezone

    from bench.generate import LIVE_PROGRAM, live_pools
    from openiop.accounts.models import User
    from openiop.patients.queries import patients_for_user

    try:
        user = User.objects.get(username=BENCH_USERNAME)
    except User.DoesNotExist:
        raise SystemExit(f"bench: no {BENCH_USERNAME} in this database; run without --reuse first") from None
    # The write paths' drop-in cohort is a fixture (dozens of sessions today each): charts and terms come from the
    # clinic's own patients.
    patients = list(
        patients_for_user(user)
        .filter(is_active=True)
        .exclude(home_program__name=LIVE_PROGRAM)
        .values_list("public_id", "search_last")
    )
    if not patients:
        raise SystemExit(f"bench: {BENCH_USERNAME} sees no patients")
    rng = random.Random(seed)  # the same patients and terms for the same seed
    chosen = rng.sample(patients, min(len(patients), 1000))
    terms = sorted({last[:3] for _, last in chosen if len(last) >= 3})
    pools = live_pools(seed=seed)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM bench_row")
        existing = int(cursor.fetchone()[0])
        if existing < BASELINE_ROWS:
            now = timezone.now()
            cursor.executemany(
                "INSERT INTO bench_row (payload, created_at) VALUES (%s, %s)",
                [("seed", now)] * (BASELINE_ROWS - existing),
            )
    # The server's workers must not wait on a lock or a transaction held by this process.
    connections.close_all()
    return Context(
        patient_ids=[str(pid) for pid, _ in chosen],
        search_terms=terms,
        bench_rows=BASELINE_ROWS,
        checkins=Pool("check-ins", pools.checkins),
        bookings=Pool("bookings", pools.bookings),
        roster_id=pools.roster_id,
        calendar_path=calendar_path(pools.site_id, pools.busy_day),
    )


def calendar_path(site_id: str, day: date) -> str:
    return f"/schedule/day/?site={site_id}&date={day.isoformat()}"
