"""`python -m bench`: build a synthetic clinic at scale, start the real server, and measure pages against baselines.
`python -m bench placement`: time the placement optimizer (bench/placement.py).
`python -m bench checkin`: the roster check-in and roster page against the baselines (bench/checkin.py).

See bench/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import BENCH_ORGANIZATION, BENCH_PASSWORD, BENCH_USERNAME
from bench.database import DEFAULT_URL, PROJECT_DIR, Target, TargetError, setup_django
from bench.load import BenchError, Measurement, Request, Session, run_load
from bench.paths import BASELINES, PATHS, BenchPath, Context, prepare_context
from bench.server import HOST, Server

BASELINE_ROWS = 10_000
RELOGIN_AFTER_SECONDS = 10 * 60  # well inside the 15-minute idle logoff


def client_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("give client counts as numbers separated by commas, e.g. 1,8") from None
    if not counts or any(n < 1 for n in counts):
        raise argparse.ArgumentTypeError("client counts must be 1 or more")
    return counts


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    names = [p.name for p in PATHS]
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Generate synthetic data at scale, start gunicorn on it, and measure OpenIOP pages "
        "against bare read and insert baselines served by the same server and database. "
        "`python -m bench placement --help` times the placement optimizer instead.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help="sqlite:///DIR/openiop.sqlite3, or postgres://user@host:port/NAME where NAME contains 'bench' "
        "(it is dropped and recreated); env BENCH_DATABASE_URL",
    )
    data.add_argument("--sites", type=int, default=2, help="sites; each has 3 programs, 5 tracks and 9 staff")
    data.add_argument("--years", type=int, default=1, help="years of rolling admissions to simulate")
    data.add_argument("--seed", type=int, default=1, help="random seed for the data and the request mix")
    mode = data.add_mutually_exclusive_group()
    mode.add_argument("--reuse", action="store_true", help="measure the existing bench database as it is")
    mode.add_argument("--generate-only", action="store_true", help="build the database, measure nothing")
    load = parser.add_argument_group("load")
    load.add_argument("--clients", type=client_counts, default="1,8", help="concurrent clients, e.g. 1,8")
    load.add_argument("--requests", type=int, default=300, help="timed requests per path and client count")
    load.add_argument("--duration", type=float, help="seconds per path and client count (instead of --requests)")
    load.add_argument("--warmup", type=int, default=10, help="untimed requests per client before each timing")
    load.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    load.add_argument("--paths", default=",".join(names), help=f"pages to measure, from: {', '.join(names)}")
    load.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    unknown = set(args.paths.split(",")) - set(names)
    if unknown:
        parser.error(f"unknown paths: {', '.join(sorted(unknown))}")
    if args.sites < 1 or args.years < 1:
        parser.error("--sites and --years must be 1 or more")
    return args


@dataclass
class Row:
    path: BenchPath
    result: Measurement
    ratio: float | None = None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["placement"]:
        # The placement optimizer is measured on its own: no database, no server (bench/placement.py).
        from bench.placement import main as placement_main

        return placement_main(argv[1:])
    if argv[:1] == ["checkin"]:
        # The roster check-in and roster page against the bare baselines, on their own data (bench/checkin.py).
        from bench.checkin import main as checkin_main

        return checkin_main(argv[1:])
    args = parse_args(argv)
    try:
        target = Target.parse(args.database_url)
    except TargetError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    print(f"bench: database {target.label}")
    if args.reuse:
        if not target.exists():
            print("bench: --reuse, but the bench database does not exist yet", file=sys.stderr)
            return 2
    else:
        target.recreate()
    began = time.perf_counter()
    setup_django(target)
    print(f"bench: migrated in {time.perf_counter() - began:.1f}s")
    if not args.reuse:
        from bench.generate import Generator, Scale  # needs Django set up

        began = time.perf_counter()
        print(f"bench: generating {args.sites} site(s) x {args.years} year(s), seed {args.seed}")
        counts = Generator(Scale(args.sites, args.years, args.seed)).run()
        print(f"bench: generated {counts} in {time.perf_counter() - began:.1f}s")
    if args.generate_only:
        return 0
    context = prepare_context(args.seed)
    paths = [p for p in PATHS if p.name in args.paths.split(",")]
    try:
        rows = measure(target, paths, context, args)
    except (BenchError, RuntimeError) as exc:  # a failed login, or a server that would not start
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    print()
    print(render_table(rows))
    if args.json:
        args.json.write_text(json.dumps(as_json(target, args, rows), indent=2) + "\n")
        print(f"\nbench: results written to {args.json}")
    return 1 if any(r.result.errors for r in rows) else 0


def measure(target: Target, paths: list[BenchPath], context: Context, args: argparse.Namespace) -> list[Row]:
    # Both baselines, always: the pages measured so far are reads that also commit an audit row.
    baselines = [BASELINES["read"], BASELINES["write"]]
    log_path = PROJECT_DIR / "var" / "bench" / "gunicorn.log"
    rows: list[Row] = []
    with Server(target.environment(), args.workers, log_path) as server:
        print(f"bench: gunicorn with {args.workers} sync workers at {server.url} (log: {log_path})")
        sessions = [Session(HOST, server.port) for _ in range(max(args.clients))]
        for number, path in enumerate([*baselines, *paths]):
            for clients in args.clients:
                group = sessions[:clients]
                if path.login:
                    for session in group:
                        if (
                            session.logged_in_at is None
                            or time.monotonic() - session.logged_in_at > RELOGIN_AFTER_SECONDS
                        ):
                            session.login(BENCH_USERNAME, BENCH_PASSWORD)
                result = run_load(
                    group,
                    request_maker(path, context),
                    expect=path.expect,
                    with_cookies=path.login,
                    requests=args.requests,
                    duration=args.duration,
                    warmup=args.warmup,
                    seed=args.seed * 100 + number,
                )
                rows.append(Row(path, result))
                note = f", {result.errors} errors (first: {result.first_error})" if result.errors else ""
                print(f"  {path.name:<16} x{clients:<3} {result.throughput:8.1f} req/s{note}")
    by_key = {(r.path.name, r.result.clients): r for r in rows}
    for row in rows:
        if row.path in baselines:
            continue
        baseline = by_key.get((BASELINES[row.path.kind].name, row.result.clients))
        if baseline is not None and baseline.result.throughput:
            row.ratio = row.result.throughput / baseline.result.throughput
    return rows


def request_maker(path: BenchPath, context: Context) -> Callable[[random.Random], Request]:
    return lambda rng: path.make(context, rng)


def render_table(rows: list[Row]) -> str:
    header = ["path", "clients", "requests", "req/s", "p50 ms", "p99 ms", "errors", "vs baseline"]
    lines = [header]
    for row in rows:
        r = row.result
        vs = f"{row.ratio:.2f}x {row.path.kind}" if row.ratio is not None else "-"
        lines.append([
            row.path.name, str(r.clients), str(r.requests), f"{r.throughput:.1f}", f"{r.percentile(0.50):.1f}",
            f"{r.percentile(0.99):.1f}", str(r.errors), vs,
        ])  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def fmt(cells: list[str]) -> str:
        padded = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ("-" if i == 0 else ":") for i, w in enumerate(widths)) + "|"
    return "\n".join([fmt(lines[0]), rule, *(fmt(line) for line in lines[1:])])


def as_json(target: Target, args: argparse.Namespace, rows: list[Row]) -> dict[str, Any]:
    return {
        "database": target.label,
        "organization": BENCH_ORGANIZATION,
        "sites": args.sites,
        "years": args.years,
        "workers": args.workers,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "results": [
            {
                "path": r.path.name,
                "kind": r.path.kind,
                "clients": r.result.clients,
                "requests": r.result.requests,
                "req_per_s": round(r.result.throughput, 2),
                "p50_ms": round(r.result.percentile(0.5), 2),
                "p99_ms": round(r.result.percentile(0.99), 2),
                "errors": r.result.errors,
                "ratio_to_baseline": None if r.ratio is None else round(r.ratio, 3),
            }
            for r in rows
        ],
    }


if __name__ == "__main__":
    sys.exit(main())
