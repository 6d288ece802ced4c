"""What the bench measures: the baselines and the real pages, each a function that makes the next request.

To measure a new page, add a BenchPath to PATHS: its kind ("read" or "write") picks the baseline it is
compared with, and ``make`` builds one request from the run's Context and a random generator.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from bench.load import Request


@dataclass(frozen=True)
class Context:
    """Data the requests draw from, read from the bench database before the server starts."""

    patient_ids: list[str]  # public ids of patients the measured user may see
    search_terms: list[str]  # name prefixes that match some of those patients
    bench_rows: int  # rows in bench_row, ids 1..bench_rows


@dataclass(frozen=True)
class BenchPath:
    name: str
    kind: str  # "read" or "write": which baseline the ratio uses
    description: str
    make: Callable[[Context, random.Random], Request]
    login: bool = True
    expect: int = 200


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
]
