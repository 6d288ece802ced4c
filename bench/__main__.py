"""`python -m bench`: build a synthetic clinic at scale, start the real server, and measure pages against baselines.
`python -m bench peer`: GNU Health's appointment create, measured the same way (bench/peer.py).
`python -m bench placement`: time the placement optimizer (bench/placement.py).
`python -m bench claims`: build, write and validate a month of claims (bench/claims.py).
`python -m bench checkin`: the roster check-in and roster page against the baselines (bench/checkin.py).

See bench/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import copyreg
import json
import os
import pickle
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import BENCH_ORGANIZATION, BENCH_PASSWORD, BENCH_USERNAME
from bench.database import DEFAULT_URL, PROJECT_DIR, Target, TargetError, open_database, setup_django
from bench.load import BenchError, Measurement, Request, Session, run_load
from bench.paths import BASELINES, PATHS, BenchPath, Context, prepare_context
from bench.plans import PlanResult, check_plans, render_plans
from bench.report import (
    BOOKING_P99_FACTOR,
    FLAT_FACTOR,
    PEER_FACTOR,
    READ_RATIO,
    READ_TARGETS,
    RSS_LIMIT_MIB,
    TARGET_CLIENTS,
    WRITE_RATIO,
    WRITE_TARGETS,
    Series,
    load_average,
    median,
    number,
    pair_ratios,
    series_table,
    sites,
    table,
    targets_table,
    verdict,
)
from bench.report import Target as Goal
from bench.server import HOST, Server, WorkerMemory, memory_summary

BASELINE_ROWS = 10_000
RELOGIN_AFTER_SECONDS = 10 * 60  # well inside the 15-minute idle logoff
SMALL_SITES = 2


def client_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("give client counts as numbers separated by commas, e.g. 1,8") from None
    if not counts or any(n < 1 for n in counts):
        raise argparse.ArgumentTypeError("client counts must be 1 or more")
    return counts


def add_load_options(parser: argparse.ArgumentParser, clients: str) -> None:
    load = parser.add_argument_group("load")
    load.add_argument("--clients", type=client_counts, default=clients, help="concurrent clients, e.g. 1,8,32")
    load.add_argument("--duration", type=float, default=15.0, help="timed seconds per path, client count and repeat")
    load.add_argument(
        "--requests", type=int, help="time this many requests per path, client count and repeat instead of --duration"
    )
    load.add_argument("--repeat", type=int, default=3, help="timings of each (path, clients); medians are printed")
    load.add_argument(
        "--warmup-seconds", type=float, default=3.0, help="untimed load before each timing, at its client count"
    )
    load.add_argument("--warmup", type=int, default=0, help="untimed requests per client before the warm-up seconds")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    names = [p.name for p in PATHS]
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Generate synthetic data at scale, start gunicorn on it, and measure OpenIOP pages "
        "against bare read and insert baselines served by the same server and database, then print the issue's "
        "targets. `python -m bench peer --help` measures GNU Health; `python -m bench placement --help` times the "
        "placement optimizer; `python -m bench claims --help` builds and validates a month of claims.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help="sqlite:///DIR/openiop.sqlite3, or postgres://user@host:port/NAME where NAME contains 'bench' "
        "(it is dropped and recreated unless --reuse); env BENCH_DATABASE_URL",
    )
    data.add_argument("--sites", type=int, default=2, help="sites; each has 3 programs, 5 tracks and 9 staff")
    data.add_argument("--years", type=int, default=1, help="years of rolling admissions to simulate")
    data.add_argument("--seed", type=int, default=1, help="random seed for the data and the request mix")
    mode = data.add_mutually_exclusive_group()
    mode.add_argument("--reuse", action="store_true", help="measure the existing bench database as it is")
    mode.add_argument("--generate-only", action="store_true", help="build the database, measure nothing")
    data.add_argument(
        "--small-database-url",
        default=os.environ.get("BENCH_SMALL_DATABASE_URL"),
        help="a second bench database with --small-sites sites (generated with the same --years and --seed if it "
        "does not exist, reused if it does), served by a second server with the same settings in the same run: "
        "the read pages' p50 and statement counts are compared with it; env BENCH_SMALL_DATABASE_URL",
    )
    data.add_argument("--small-sites", type=int, default=SMALL_SITES, help="sites of the small database")
    add_load_options(parser, "1,8,32")
    load = parser.add_argument_group("server and paths")
    load.add_argument(
        "--small-clients", type=client_counts, default="1,8", help="client counts timed on the small database too"
    )
    load.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (per server)")
    load.add_argument(
        "--warm-per-worker", type=int, default=50, help="bare reads every worker must answer before any timing"
    )
    load.add_argument("--paths", default=",".join(names), help=f"pages to measure, from: {', '.join(names)}")
    load.add_argument("--no-plans", action="store_true", help="skip the statement count and EXPLAIN check")
    load.add_argument("--login-seconds", type=float, default=5.0, help="timed logins through the server per repeat")
    load.add_argument("--verify-samples", type=int, default=5, help="in-process password verifications timed")
    load.add_argument("--json", type=Path, help="also write the results to this file")
    add_peer_options(parser)
    args = parser.parse_args(argv)
    unknown = set(args.paths.split(",")) - set(names)
    if unknown:
        parser.error(f"unknown paths: {', '.join(sorted(unknown))}")
    if args.sites < 1 or args.years < 1 or args.small_sites < 1:
        parser.error("--sites, --small-sites and --years must be 1 or more")
    if args.repeat < 1 or args.workers < 1:
        parser.error("--repeat and --workers must be 1 or more")
    return args


def add_peer_options(parser: argparse.ArgumentParser, prefix: str = "peer-") -> None:
    from bench.peer import DEFAULT_DATABASE, DEFAULT_USER
    from bench.peer import DEFAULT_URL as PEER_URL

    peer = parser.add_argument_group("GNU Health peer (Tryton JSON-RPC)")
    peer.add_argument(f"--{prefix}url", default=PEER_URL, help="the Tryton server; env GNUHEALTH_URL")
    peer.add_argument(f"--{prefix}database", default=DEFAULT_DATABASE, help="env GNUHEALTH_DATABASE")
    peer.add_argument(f"--{prefix}user", default=DEFAULT_USER, help="env GNUHEALTH_USER")
    peer.add_argument(
        f"--{prefix}password", default=os.environ.get("GNUHEALTH_PASSWORD", ""), help="env GNUHEALTH_PASSWORD"
    )
    if prefix:
        peer.add_argument("--no-peer", action="store_true", help="do not look for a GNU Health server")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["placement"]:
        # The placement optimizer is measured on its own: no database, no server (bench/placement.py).
        from bench.placement import main as placement_main

        return placement_main(argv[1:])
    if argv[:1] == ["claims"]:
        # A month of claims built, written and validated in this process: no server (bench/claims.py).
        from bench.claims import main as claims_main

        return claims_main(argv[1:])
    if argv[:1] == ["checkin"]:
        # The roster check-in and roster page against the bare baselines, on their own data (bench/checkin.py).
        from bench.checkin import main as checkin_main

        return checkin_main(argv[1:])
    if argv[:1] == ["peer"]:
        return peer_main(argv[1:])
    if argv[:1] == ["inspect"]:
        return inspect_main(argv[1:])
    args = parse_args(argv)
    try:
        target = Target.parse(args.database_url)
        small = Target.parse(args.small_database_url) if args.small_database_url else None
    except TargetError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    if small is not None and small.url == target.url:
        print("bench: --small-database-url must name another database than --database-url", file=sys.stderr)
        return 2
    if not open_database(target, reuse=args.reuse, name="bench"):
        return 2
    if not args.reuse:
        from bench.generate import Scale, generate  # needs Django set up

        generate(Scale(args.sites, args.years, args.seed), name="bench")
    if args.generate_only:
        return 0
    context = prepare_context(args.seed)
    paths = [p for p in PATHS if p.name in args.paths.split(",")]
    try:
        run = Run(args, target, paths, context, sites=count_sites())
        run.inspect()
        if small is not None:
            run.prepare_small(small)
        run.measure()
    except (BenchError, RuntimeError) as exc:  # a failed login, or a server that would not start
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    run.print_results()
    if args.json:
        args.json.write_text(json.dumps(run.as_json(), indent=2) + "\n")
        print(f"\nbench: results written to {args.json}")
    # Unmet targets are results, not failures; failed requests are.
    return 1 if run.errors() else 0


def count_sites() -> int:
    from django.db import connections

    from openiop.programs.models import Organization, Site

    sites = Site.objects.filter(organization__in=Organization.objects.filter(name=BENCH_ORGANIZATION)).count()
    connections.close_all()
    return sites


def request_maker(path: BenchPath, context: Context) -> Callable[[random.Random], Request]:
    return lambda rng: path.make(context, rng)


@dataclass
class Side:
    """One server of the run, its clients and what the requests draw from."""

    label: str
    target: Target
    context: Context
    sessions: list[Session] = field(default_factory=list)
    server: Server | None = None
    plans: list[PlanResult] = field(default_factory=list)
    memory: list[WorkerMemory] = field(default_factory=list)
    load: tuple[str, str] = ("", "")  # load average when its timings began and ended

    def logged_in(self, clients: int) -> list[Session]:
        group = self.sessions[:clients]
        for session in group:
            if session.logged_in_at is None or time.monotonic() - session.logged_in_at > RELOGIN_AFTER_SECONDS:
                session.login(BENCH_USERNAME, BENCH_PASSWORD)
        return group


class Run:
    """The measuring part of `python -m bench`: plan check, servers, repeated timings, results and targets."""

    def __init__(
        self, args: argparse.Namespace, target: Target, paths: list[BenchPath], context: Context, sites: int
    ) -> None:
        self.args = args
        self.paths = paths
        self.sites = sites
        self.main = Side("main", target, context)
        self.small: Side | None = None
        self.series: dict[tuple[str, str, int], Series] = {}  # (side, path, clients)
        self.hasher: Any = None
        self.verify_ms: list[float] = []
        self.peer: Any = None  # bench.peer.Peer when a GNU Health server answered
        self.peer_context: Any = None  # bench.peer.PeerContext
        self.peer_sessions: list[Any] = []
        self.peer_note = ""
        self.small_sites = 0

    # --- before the servers start -------------------------------------------------------------------------

    def inspect(self) -> None:
        from bench.login import configured_hasher, verify_times

        if not self.args.no_plans:
            print("bench: counting statements and checking plans (one request per path, rolled back)")
            self.main.plans = check_plans(self.paths, self.main.context, self.args.seed)
        self.hasher = configured_hasher()
        self.verify_ms = [t * 1000 for t in verify_times(self.args.verify_samples)]

    def prepare_small(self, small: Target) -> None:
        """Generate the small database if it is missing, then read its context and plans in a child process.

        This process's Django is bound to the main database; a child configured for the small one does its part.
        """
        command = [sys.executable, "-m", "bench", "--database-url", small.url, "--seed", str(self.args.seed)]
        if not small.exists():
            print(f"bench: generating the small database {small.label} ({self.args.small_sites} sites)")
            generate = [*command, "--sites", str(self.args.small_sites), "--years", str(self.args.years)]
            subprocess.run([*generate, "--generate-only"], check=True, cwd=PROJECT_DIR)  # noqa: S603
        print(f"bench: reading the small database {small.label}")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "small.pickle"
            inspect = [sys.executable, "-m", "bench", "inspect", "--database-url", small.url, "--seed"]
            inspect += [str(self.args.seed), "--paths", ",".join(p.name for p in self.paths), "--out", str(out)]
            if self.args.no_plans:
                inspect.append("--no-plans")
            subprocess.run(inspect, check=True, cwd=PROJECT_DIR)  # noqa: S603
            found = pickle.loads(out.read_bytes())  # noqa: S301 - written just now by our own child process
        self.small = Side("small", small, found["context"], plans=found["plans"])
        self.small_sites = found["sites"]

    # --- timings ----------------------------------------------------------------------------------------------

    def measure(self) -> None:
        args = self.args
        log_dir = PROJECT_DIR / "var" / "bench"
        sides = [self.main, *([self.small] if self.small else [])]
        servers = [
            Server(side.target.environment(), args.workers, log_dir / f"gunicorn-{side.label}.log") for side in sides
        ]
        self.find_peer()
        try:
            for side, server in zip(sides, servers, strict=True):
                server.__enter__()
                side.server = server
                side.sessions = [Session(HOST, server.port) for _ in range(max(args.clients))]
                print(f"bench: {side.label} database on gunicorn, {args.workers} sync workers at {server.url}")
                warmed = server.warm_workers(args.warm_per_worker)
                print(f"bench: warmed workers (bare reads answered per pid: {warmed})")
            self.time_everything()
            for side in sides:
                assert side.server is not None
                side.memory = side.server.worker_memory()
        finally:
            for server in reversed(servers):
                server.__exit__(None, None, None)

    def time_everything(self) -> None:
        args = self.args
        baselines = [BASELINES["read"], BASELINES["write"]]
        every = [*baselines, *self.paths]
        small_reads = [p for p in self.paths if p.kind == "read"] if self.small else []
        self.main.load = (load_average(), "")
        if self.small:
            self.small.load = self.main.load
        # Once per path, at the largest client count: every worker has served the path before its first timing.
        for path in every:
            self.time(self.main, path, max(args.clients), warm_only=True)
        for path in small_reads:
            assert self.small is not None
            self.time(self.small, path, max(args.small_clients), warm_only=True)
        for repeat in range(args.repeat):
            print(f"bench: repeat {repeat + 1} of {args.repeat}, load average {load_average()}")
            for clients in args.clients:
                for number_, path in enumerate(every):
                    seed = args.seed * 100_000 + repeat * 1000 + number_ * 10 + clients
                    self.record(self.main, path, clients, self.time(self.main, path, clients, seed=seed))
                    if path in small_reads and clients in args.small_clients:
                        assert self.small is not None
                        self.record(self.small, path, clients, self.time(self.small, path, clients, seed=seed))
                if self.peer is not None and clients in (1, TARGET_CLIENTS):
                    self.record_peer(clients, repeat)
            self.time_logins()
            print(f"bench: repeat {repeat + 1} done, load average {load_average()}")
        self.main.load = (self.main.load[0], load_average())
        if self.small:
            self.small.load = self.main.load
        self.pair()

    def time(self, side: Side, path: BenchPath, clients: int, *, seed: int = 0, warm_only: bool = False) -> Measurement:
        args = self.args
        group = side.logged_in(clients) if path.login else side.sessions[:clients]
        by_requests = args.requests is not None and not warm_only
        return run_load(
            group,
            request_maker(path, side.context),
            expect=path.expect,
            with_cookies=path.login,
            requests=(args.requests or 0) if not warm_only else 0,
            duration=None if by_requests else (args.warmup_seconds if warm_only else args.duration),
            warmup=0 if warm_only else args.warmup,
            warmup_seconds=0.0 if warm_only else args.warmup_seconds,
            seed=seed,
        )

    def record(self, side: Side, path: BenchPath, clients: int, result: Measurement) -> None:
        key = (side.label, path.name, clients)
        series = self.series.setdefault(key, Series(path.name, path.kind, clients))
        series.runs.append(result)
        note = f", {result.errors} errors (first: {result.first_error})" if result.errors else ""
        where = "" if side is self.main else f" [{side.label} db]"
        p50 = number(result.percentile(0.5))
        print(f"  {path.name:<16} x{clients:<3} {result.throughput:8.1f} req/s  p50 {p50:>7} ms{where}{note}")

    def pair(self) -> None:
        for (side, name, clients), series in self.series.items():
            if side != "main" or series.kind not in BASELINES or name in (b.name for b in BASELINES.values()):
                continue
            baseline = self.series.get(("main", BASELINES[series.kind].name, clients))
            if baseline is not None:
                pair_ratios(series, baseline)

    # --- login ------------------------------------------------------------------------------------------------

    def time_logins(self) -> None:
        from bench.login import time_logins

        assert self.main.server is not None
        result = time_logins(
            HOST, self.main.server.port, BENCH_USERNAME, BENCH_PASSWORD, self.args.login_seconds, warmup=2
        )
        series = self.series.setdefault(("main", "login", 1), Series("login POST", "login", 1))
        series.runs.append(result)
        note = f", {result.errors} errors (first: {result.first_error})" if result.errors else ""
        p50 = number(result.percentile(0.5))
        print(f"  {'login POST':<16} x1   {result.throughput:8.1f} req/s  p50 {p50:>7} ms{note}")

    # --- the GNU Health peer -----------------------------------------------------------------------------------

    def find_peer(self) -> None:
        from bench.peer import Peer, PeerError, prepare, probe

        args = self.args
        peer = Peer(args.peer_url, args.peer_database, args.peer_user, args.peer_password)
        if args.no_peer:
            self.peer_note = "GNU Health: not looked for (--no-peer); the peer target is not checked"
            return
        try:
            version = probe(peer)
        except PeerError as exc:
            self.peer_note = peer.not_running(str(exc))
            return
        if not peer.password:
            self.peer_note = f"GNU Health {version} at {peer.url}: no --peer-password given; not checked"
            return
        try:
            self.peer_context = prepare(peer)
        except (PeerError, OSError) as exc:
            self.peer_note = f"GNU Health {version} at {peer.url}: {exc}; not checked"
            return
        self.peer = peer
        self.peer_note = f"GNU Health {version} at {peer.url}, database {peer.database}"

    def record_peer(self, clients: int, repeat: int) -> None:
        from bench.peer import TrytonSession, appointment_request

        while len(self.peer_sessions) < clients:
            session = TrytonSession(self.peer)
            session.login(self.peer.user, self.peer.password)
            self.peer_sessions.append(session)
        result = run_load(
            self.peer_sessions[:clients],
            lambda rng: appointment_request(self.peer, self.peer_context, rng),
            expect=200,
            with_cookies=False,
            requests=self.args.requests or 0,
            duration=None if self.args.requests else self.args.duration,
            warmup=self.args.warmup,
            warmup_seconds=self.args.warmup_seconds,
            seed=self.args.seed * 1000 + repeat,
        )
        series = self.series.setdefault(
            ("peer", "GNU Health create", clients), Series("GNU Health create", "peer", clients)
        )
        series.runs.append(result)
        note = f", {result.errors} errors (first: {result.first_error})" if result.errors else ""
        print(f"  {'GNU Health':<16} x{clients:<3} {result.throughput:8.1f} req/s{note}")

    # --- results ----------------------------------------------------------------------------------------------

    def of(self, side: str) -> list[Series]:
        order = {name: i for i, name in enumerate([b.name for b in BASELINES.values()] + [p.name for p in self.paths])}
        found = [s for (where, _, _), s in self.series.items() if where == side and s.name in order]
        return sorted(found, key=lambda s: (order[s.name], s.clients))

    def errors(self) -> int:
        return sum(s.errors for s in self.series.values())

    def print_results(self) -> None:
        args = self.args
        cpus = os.cpu_count()
        timing = f"{args.requests} requests" if args.requests else f"{args.duration:g} s"
        print()
        print(
            f"## {self.main.target.label}, {sites(self.sites)}: {args.workers} sync workers, {cpus} CPUs, "
            f"{timing} x {args.repeat} repeats, warm-up {args.warmup_seconds:g} s"
        )
        print(f"load average (1, 5, 15 min) at start {self.main.load[0]}, at end {self.main.load[1]}")
        print("req/s, p50 and p99 are medians of the repeats; spread is the lowest and highest req/s; vs baseline is")
        print("the median of the per-repeat ratios to the baseline timed in the same repeat.\n")
        print(series_table(self.of("main")))
        if self.small is not None:
            self.print_flat()
        if self.main.plans:
            print(f"\n## Statements and plans (one request per path, {self.main.target.label}, {sites(self.sites)})\n")
            small = {p.path: p for p in self.small.plans} if self.small else None
            print(render_plans(self.main.plans, small))
        self.print_login()
        self.print_memory()
        self.print_peer()
        print("\n## Targets (issue 16)\n")
        print(f"load average at start {self.main.load[0]}, at end {self.main.load[1]}; {cpus} CPUs\n")
        print(targets_table(self.targets()))

    def flat_ratios(self) -> dict[tuple[str, int], float]:
        """p50 on the main database over p50 on the small one, per read path and client count (median of repeats)."""
        ratios = {}
        for (side, name, clients), series in self.series.items():
            other = self.series.get(("small", name, clients))
            if side != "main" or other is None:
                continue
            per_repeat = [
                a.percentile(0.5) / b.percentile(0.5)
                for a, b in zip(series.runs, other.runs, strict=False)
                if b.percentile(0.5)
            ]
            ratios[(name, clients)] = median(per_repeat)
        return ratios

    def print_flat(self) -> None:
        assert self.small is not None
        label = self.small.target.label
        print(f"\n## Flat with data size: {sites(self.sites)} against {sites(self.small_sites)} ({label})\n")
        print(
            f"timed in the same repeats as the table above, each right after the same page on the large database; "
            f"load average at start {self.main.load[0]}, at end {self.main.load[1]}\n"
        )
        ratios = self.flat_ratios()
        rows = []
        for series in self.of("small"):
            big = self.series[("main", series.name, series.clients)]
            rows.append([
                series.name, str(series.clients), number(big.percentile(0.5)), number(series.percentile(0.5)),
                f"{ratios[(series.name, series.clients)]:.2f}x", number(big.throughput), number(series.throughput),
            ])  # fmt: skip
        header = ["path", "clients", f"p50 ms ({self.sites})", f"p50 ms ({self.small_sites})", "ratio"]
        print(table([*header, f"req/s ({self.sites})", f"req/s ({self.small_sites})"], rows))

    def print_login(self) -> None:
        from bench.login import owasp_line

        print("\n## Login\n")
        print(f"hasher: {self.hasher.describe()}")
        print(f"guidance: {owasp_line()}")
        print(f"meets it: {'yes' if self.hasher.meets_owasp else 'NO'}")
        print(
            f"password verify in-process: median {median(self.verify_ms):.0f} ms of {len(self.verify_ms)} "
            f"(min {min(self.verify_ms):.0f}, max {max(self.verify_ms):.0f})"
        )
        login = self.series.get(("main", "login", 1))
        if login is not None:
            print(
                f"login POST through the server, 1 client: {number(login.throughput)} logins/s "
                f"(spread {login.spread[0]:.1f}-{login.spread[1]:.1f}), p50 {number(login.percentile(0.5))} ms, "
                f"p99 {number(login.percentile(0.99))} ms, {login.errors} errors"
            )

    def print_memory(self) -> None:
        print("\n## Worker memory after the load (/proc/<pid>/status of each gunicorn worker)\n")
        for side in (self.main, self.small):
            if side is None:
                continue
            if not side.memory:
                print(f"{side.label}: not measured (no /proc, or no workers)")
                continue
            m = memory_summary(side.memory)
            print(
                f"{side.label} ({len(side.memory)} workers): VmRSS max {m['rss_max']:.0f} MiB, median "
                f"{m['rss_median']:.0f} MiB; VmHWM max {m['hwm_max']:.0f} MiB, median {m['hwm_median']:.0f} MiB"
            )

    def print_peer(self) -> None:
        print("\n## GNU Health peer\n")
        print(self.peer_note)
        for clients in (1, TARGET_CLIENTS):
            peer = self.series.get(("peer", "GNU Health create", clients))
            booking = self.series.get(("main", "booking", clients))
            if peer is None:
                continue
            line = f"x{clients}: {number(peer.throughput)} appointments/s, p50 {number(peer.percentile(0.5))} ms"
            if booking is not None and peer.throughput:
                factor = booking.throughput / peer.throughput
                line += f"; OpenIOP booking {number(booking.throughput)} req/s = {factor:.2f}x"
            print(line)

    def targets(self) -> list[Goal]:
        at = TARGET_CLIENTS
        goals = []

        def ratio_goal(name: str, kind: str, minimum: float) -> Goal:
            text = f"{name} >= {minimum:.2f}x bare {'insert' if kind == 'write' else 'read'} at {at} clients"
            series = self.series.get(("main", name, at))
            if series is None or not series.ratios:
                return Goal(text, "-", "not measured")
            return Goal(text, f"{series.ratio:.2f}x", verdict(series.ratio >= minimum))

        goals.append(ratio_goal("booking", "write", WRITE_RATIO))
        booking = self.series.get(("main", "booking", at))
        text = f"booking p99 <= {BOOKING_P99_FACTOR:g}x bare insert p99 at {at} clients"
        if booking is None or not booking.p99_ratios:
            goals.append(Goal(text, "-", "not measured"))
        else:
            goals.append(Goal(text, f"{booking.p99_ratio:.1f}x", verdict(booking.p99_ratio <= BOOKING_P99_FACTOR)))
        text = f"booking >= {PEER_FACTOR:g}x GNU Health appointment create at {at} clients"
        peer = self.series.get(("peer", "GNU Health create", at))
        if booking is None:
            goals.append(Goal(text, "-", "not measured"))
        elif peer is None or not peer.throughput:
            goals.append(Goal(text, "GNU Health not running", "not checked"))
        else:
            factor = median(
                [b.throughput / p.throughput for b, p in zip(booking.runs, peer.runs, strict=False) if p.throughput]
            )
            goals.append(Goal(text, f"{factor:.2f}x", verdict(factor >= PEER_FACTOR)))
        for name in WRITE_TARGETS[1:]:
            goals.append(ratio_goal(name, "write", WRITE_RATIO))
        for name in READ_TARGETS:
            goals.append(ratio_goal(name, "read", READ_RATIO))
        goals.append(self.flat_goal())
        goals.extend(self.plan_goals())
        goals.append(self.memory_goal())
        goals.append(self.login_goal())
        return goals

    def flat_goal(self) -> Goal:
        small_sites = self.small_sites or self.args.small_sites
        text = f"p50 at {sites(self.sites)} <= {FLAT_FACTOR:g}x p50 at {sites(small_sites)} (read pages)"
        ratios = self.flat_ratios()
        if not ratios:
            return Goal(text, "no --small-database-url", "not measured")
        (name, clients), worst = max(ratios.items(), key=lambda item: item[1])
        return Goal(text, f"worst {worst:.2f}x ({name}, x{clients})", verdict(worst <= FLAT_FACTOR))

    def plan_goals(self) -> list[Goal]:
        grow_text = "statements per page do not grow with the data"
        scan_text = f"no sequential scan of patients or bookings in any page's plan ({sites(self.sites)})"
        plans = self.main.plans
        if not plans:
            return [Goal(grow_text, "--no-plans", "not measured"), Goal(scan_text, "--no-plans", "not measured")]
        failed = [p.path for p in plans if p.statements is None]
        if self.small is None:
            grow = Goal(grow_text, "no --small-database-url", "not measured")
        else:
            small = {p.path: p.statements for p in self.small.plans}
            compared = [(p.path, p.statements, small.get(p.path)) for p in plans]
            compared = [(n, a, b) for n, a, b in compared if a is not None and b is not None]
            grown = [f"{n} {b}->{a}" for n, a, b in compared if a is not None and b is not None and a > b]
            measured = f"{len(compared)} paths compared" + (f"; grew: {', '.join(grown)}" if grown else ", none grew")
            grow = Goal(grow_text, measured, verdict(not grown) if compared else "not measured")
        if not any(p.explained for p in plans):
            scan = Goal(scan_text, "SQLite: plans checked on PostgreSQL only", "not measured")
        else:
            flagged = [f"{p.path}: {', '.join(sorted(p.flagged))}" for p in plans if p.flagged]
            checked = [p for p in plans if p.statements is not None]
            measured = "; ".join(flagged) if flagged else f"{len(checked)} paths, none"
            if failed:
                measured += f" (not checked: {', '.join(failed)})"
            scan = Goal(scan_text, measured, verdict(not flagged) if checked else "not measured")
        return [grow, scan]

    def memory_goal(self) -> Goal:
        text = f"a warmed web worker < {RSS_LIMIT_MIB:g} MiB RSS ({sites(self.sites)})"
        if not self.main.memory:
            return Goal(text, "-", "not measured")
        worst = memory_summary(self.main.memory)["rss_max"]
        return Goal(text, f"max {worst:.0f} MiB", verdict(worst < RSS_LIMIT_MIB))

    def login_goal(self) -> Goal:
        h = self.hasher
        text = "Argon2 parameters meet OWASP (Argon2id, m=19456 KiB t=2 p=1 or equivalent)"
        login = self.series.get(("main", "login", 1))
        cost = f"; verify {median(self.verify_ms):.0f} ms" if self.verify_ms else ""
        if login is not None:
            cost += f", login POST p50 {number(login.percentile(0.5))} ms"
        params = f"t={h.time_cost} m={h.memory_cost} p={h.parallelism}" if h.is_argon2 else h.algorithm
        return Goal(text, params + cost, verdict(h.meets_owasp))

    def as_json(self) -> dict[str, Any]:
        args = self.args

        def figures(s: Series) -> dict[str, Any]:
            return {
                "path": s.name, "kind": s.kind, "clients": s.clients, "requests": s.requests,
                "req_per_s": round(s.throughput, 2), "spread": [round(v, 2) for v in s.spread],
                "p50_ms": round(s.percentile(0.5), 2), "p99_ms": round(s.percentile(0.99), 2), "errors": s.errors,
                "ratio_to_baseline": round(s.ratio, 3) if s.ratios else None,
            }  # fmt: skip

        return {
            "database": self.main.target.label,
            "organization": BENCH_ORGANIZATION,
            "sites": self.sites,
            "workers": args.workers,
            "repeat": args.repeat,
            "duration": None if args.requests else args.duration,
            "requests": args.requests,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": {"start": self.main.load[0], "end": self.main.load[1]},
            "results": [figures(s) for s in self.of("main")],
            "small": [figures(s) for s in self.of("small")],
            "peer": [figures(s) for (side, _, _), s in self.series.items() if side == "peer"],
            "targets": [{"target": t.text, "measured": t.measured, "status": t.status} for t in self.targets()],
        }


def inspect_main(argv: list[str]) -> int:
    """Internal: the small database's context and plans, for the parent run (`prepare_small`)."""
    parser = argparse.ArgumentParser(prog="python -m bench inspect")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--paths", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--no-plans", action="store_true")
    args = parser.parse_args(argv)
    target = Target.parse(args.database_url)
    setup_django(target)
    context = prepare_context(args.seed)
    paths = [p for p in PATHS if p.name in args.paths.split(",")]
    plans = [] if args.no_plans else check_plans(paths, context, args.seed)
    # A Context may hold locks (the write paths' pools hand each row out once across client threads); they cannot
    # be pickled, so each travels as a new, unlocked lock.
    copyreg.pickle(type(threading.Lock()), lambda lock: (threading.Lock, ()))
    args.out.write_bytes(pickle.dumps({"context": context, "plans": plans, "sites": count_sites()}))
    return 0


def peer_main(argv: list[str]) -> int:
    """`python -m bench peer`: GNU Health's appointment create alone, with the bench's warm-up, duration and repeats."""
    from bench.peer import Peer, PeerError, TrytonSession, appointment_request, prepare, probe

    parser = argparse.ArgumentParser(
        prog="python -m bench peer",
        description="Measure a running GNU Health (Tryton) server's appointment create the way `python -m bench` "
        "measures OpenIOP's booking. Prints 'not running' and exits 0 when nothing answers.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_peer_options(parser, prefix="")
    add_load_options(parser, "1,8")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    peer = Peer(args.url, args.database, args.user, args.password)
    try:
        version = probe(peer)
    except PeerError as exc:
        print(peer.not_running(str(exc)))
        return 0
    if not peer.password:
        print(f"GNU Health {version} at {peer.url}: give --password (or GNUHEALTH_PASSWORD)", file=sys.stderr)
        return 2
    try:
        context = prepare(peer)
        sessions = []
        for _ in range(max(args.clients)):
            session = TrytonSession(peer)
            session.login(peer.user, peer.password)
            sessions.append(session)
    except (PeerError, OSError) as exc:
        print(f"bench peer: {exc}", file=sys.stderr)
        return 1
    print(f"GNU Health {version} at {peer.url}, database {peer.database}, load average {load_average()}")
    series = {clients: Series("GNU Health create", "peer", clients) for clients in args.clients}
    for repeat in range(args.repeat):
        for clients in args.clients:
            result = run_load(
                sessions[:clients],
                lambda rng: appointment_request(peer, context, rng),
                expect=200,
                with_cookies=False,
                requests=args.requests or 0,
                duration=None if args.requests else args.duration,
                warmup=args.warmup,
                warmup_seconds=args.warmup_seconds,
                seed=args.seed * 1000 + repeat,
            )
            series[clients].runs.append(result)
            print(f"  x{clients:<3} {result.throughput:8.1f} req/s")
    print(f"load average at end {load_average()}; {os.cpu_count()} CPUs\n")
    print(series_table(list(series.values())))
    print("\nOpenIOP's booking against it: run `python -m bench` with the same --peer-* options (same window).")
    return 1 if any(s.errors for s in series.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
