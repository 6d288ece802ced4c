"""`python -m bench claims`: a month of claims for the synthetic network, built, scrubbed, written and validated.

In one process, no server: for the month (last calendar month by default) the billing office of each site builds
the claims of every payer and program with a setting (``claims.actions.do_build_claims``: pending days decided,
one claim per episode, a line a billable day, each scrubbed), then the ready claims are sent as 837 files of at
most ``--per-file`` claims each (``do_export_claims``: mapped to ``openiop.lib.x12``, written, validated with pyx12,
stored, every claim marked submitted with its history step and audit row). The build and the export are timed
apart, and the export's time is split into writing the text and pyx12's validation (the slow part).

Two baselines, measured in the same run: the same interchanges written and validated with ``openiop.lib.x12``
alone (no database: what any 837 costs), and a bare insert of as many rows as the build wrote claims and lines,
one savepoint per claim (the least a build can cost). Each repeat runs in one transaction that is rolled back, so
the bench database is unchanged and the same month can be measured again; the builds' and exports' own
transactions are then savepoints, for them and for the baseline alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.database import DEFAULT_URL, Target, TargetError, open_database
from bench.report import load_average

if TYPE_CHECKING:
    from openiop.lib.x12 import Interchange

PER_FILE = 1000


class _Rollback(Exception):
    """Raised at the end of a repeat to roll its transaction back."""


@dataclass
class Timer:
    """Seconds spent in a wrapped function, and what it was called with (the baseline replays the calls)."""

    seconds: float = 0.0
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def wrap(self, function: Callable[..., Any], *, keep: bool = False) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - began
                if keep:
                    self.calls.append(args)

        return timed


class Statements:
    """Counts the SQL statements sent (a ``connection.execute_wrapper``: one call per statement, nothing kept)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


@dataclass
class Repeat:
    claims: int = 0
    lines: int = 0
    ready: int = 0
    drafts: int = 0
    sent: int = 0
    files: int = 0
    file_bytes: int = 0
    build_s: float = 0.0
    export_s: float = 0.0
    write_s: float = 0.0  # of export_s: the 837 text written by openiop.lib.x12
    validate_s: float = 0.0  # of export_s: pyx12
    baseline_x12_write_s: float = 0.0
    baseline_x12_validate_s: float = 0.0
    baseline_insert_s: float = 0.0
    one_claim_validate_s: float = 0.0  # pyx12 on a file of one claim: its cost per file (loading its maps)
    build_statements: int = 0
    export_statements: int = 0
    problems: dict[str, int] = field(default_factory=dict)  # draft problems by field

    @property
    def month_s(self) -> float:
        return self.build_s + self.export_s

    @property
    def baseline_x12_s(self) -> float:
        return self.baseline_x12_write_s + self.baseline_x12_validate_s


def last_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def month(text: str) -> tuple[date, date]:
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError:
        raise argparse.ArgumentTypeError("give the month as YYYY-MM") from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench claims",
        description="Build, scrub, write and validate a month of claims for the synthetic network, against 837 "
        "text written and validated with openiop.lib.x12 alone and a bare insert of as many rows.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help="as for `python -m bench`; recreated and generated unless --reuse; env BENCH_DATABASE_URL",
    )
    parser.add_argument("--sites", type=int, default=2, help="sites to generate (not with --reuse)")
    parser.add_argument("--years", type=int, default=1, help="years to generate (not with --reuse)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the generated data")
    parser.add_argument("--reuse", action="store_true", help="measure the existing bench database as it is")
    parser.add_argument("--month", type=month, help="YYYY-MM (none: last calendar month)")
    parser.add_argument("--per-file", type=int, default=PER_FILE, help="claims per 837 file at most")
    parser.add_argument("--repeat", type=int, default=1, help="build and export the month this many times (medians)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.sites < 1 or args.years < 1 or args.per_file < 1 or args.repeat < 1:
        parser.error("--sites, --years, --per-file and --repeat must be 1 or more")
    return args


@contextmanager
def _patched(module: Any, name: str, replacement: Callable[..., Any]) -> Iterator[None]:
    original = getattr(module, name)
    setattr(module, name, replacement)
    try:
        yield
    finally:
        setattr(module, name, original)


def measure(start: date, end: date, per_file: int) -> Repeat:
    """One build and export of the month, in a transaction rolled back at the end."""
    from django.db import transaction

    try:
        with transaction.atomic():
            result = _measure(start, end, per_file)
            raise _Rollback
    except _Rollback:
        pass
    return result


def _measure(start: date, end: date, per_file: int) -> Repeat:
    from django.db import connection

    from bench import BENCH_ORGANIZATION
    from openiop.accounts.models import ProgramMembership, User
    from openiop.billing.models import PayerProgramSetting
    from openiop.claims.actions import do_build_claims, do_export_claims
    from openiop.claims.models import Claim, ClaimLine
    from openiop.core.roles import Role
    from openiop.lib import x12
    from openiop.programs.models import Organization

    org = Organization.objects.get(name=BENCH_ORGANIZATION)
    # Each site's billing office builds its own programs' claims.
    billing: dict[int, User] = {}
    for member in (
        ProgramMembership.objects.filter(user__organization=org, user__role=Role.BILLING)
        .select_related("user", "program")
        .order_by("pk")
    ):
        billing.setdefault(member.program.site_id, member.user)
    settings = list(
        PayerProgramSetting.objects.filter(payer__organization=org, is_active=True)
        .select_related("payer", "program__site__organization")
        .order_by("program__site_id", "program_id", "payer__name")
    )
    if not settings:
        raise RuntimeError("no payer has a setting for a program: run the generator's billing_setup")
    out = Repeat()
    statements = Statements()
    began = time.perf_counter()
    built: list[Claim] = []
    with connection.execute_wrapper(statements):
        for setting in settings:
            result = do_build_claims(
                acting_user=billing[setting.program.site_id],
                program=setting.program,
                payer=setting.payer,
                start=start,
                end=end,
            )
            built += result.created
    out.build_s = time.perf_counter() - began
    out.build_statements, statements.count = statements.count, 0
    out.claims = len(built)
    out.lines = ClaimLine.objects.filter(claim__in=built).count()
    ready = [c for c in built if c.status == Claim.Status.READY]
    out.ready, out.drafts = len(ready), out.claims - len(ready)
    counted: Counter[str] = Counter(p["field"].split(".")[0] for c in built for p in c.problems)
    out.problems = dict(counted.most_common())

    institutional, professional, validation = Timer(), Timer(), Timer()
    sender = billing[min(billing)]
    began = time.perf_counter()
    # The export calls the library through its module (``x12.write_837i`` ...), so wrapping the module's names
    # times the writing and the validation inside it, and keeps the interchanges for the baseline.
    with (
        connection.execute_wrapper(statements),
        _patched(x12, "write_837i", institutional.wrap(x12.write_837i, keep=True)),
        _patched(x12, "write_837p", professional.wrap(x12.write_837p, keep=True)),
        _patched(x12, "validate", validation.wrap(x12.validate)),
    ):
        for kind in (Claim.ClaimType.INSTITUTIONAL, Claim.ClaimType.PROFESSIONAL):
            batch = sorted((c for c in ready if c.claim_type == kind), key=lambda c: c.number)
            for first in range(0, len(batch), per_file):
                exported = do_export_claims(batch[first : first + per_file], acting_user=sender, organization=org)
                out.files += 1
                out.sent += len(exported.claims)
                out.file_bytes += len(exported.file.content)
    out.export_s = time.perf_counter() - began
    out.export_statements = statements.count
    out.write_s, out.validate_s = institutional.seconds + professional.seconds, validation.seconds

    # Baseline 1: the very interchanges the export wrote, written and validated again with the library alone.
    one_claim: list[float] = []
    for write, timer in ((x12.write_837i, institutional), (x12.write_837p, professional)):
        for (interchange,) in timer.calls:
            out.baseline_x12_write_s += _write_and_validate(write, interchange, out)
        if timer.calls:
            # The same file cut down to its first claim: what pyx12 costs per file, whatever the claims.
            (first,) = timer.calls[0]
            single = replace(first.transactions[0], claims=first.transactions[0].claims[:1])
            began = time.perf_counter()
            x12.validate(write(replace(first, transactions=(single,))))
            one_claim.append(time.perf_counter() - began)
    out.one_claim_validate_s = statistics.median(one_claim) if one_claim else 0.0
    # Baseline 2: a bare insert per claim and per line, one savepoint per claim (the build's grouping).
    out.baseline_insert_s = _bare_inserts(out.claims, out.lines)
    return out


def _write_and_validate(write: Callable[[Interchange], str], interchange: Interchange, out: Repeat) -> float:
    from openiop.lib import x12

    began = time.perf_counter()
    text = write(interchange)
    written = time.perf_counter()
    problems = x12.validate(text)
    out.baseline_x12_validate_s += time.perf_counter() - written
    if problems:
        raise RuntimeError(f"the baseline's file did not validate: {problems[0]}")
    return written - began


def _bare_inserts(claims: int, lines: int) -> float:
    from django.db import connection, transaction
    from django.utils import timezone

    per_claim = [lines // claims + (1 if n < lines % claims else 0) for n in range(claims)] if claims else []
    now = timezone.now()
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for count in per_claim:
            with transaction.atomic():
                for _ in range(1 + count):
                    cursor.execute("INSERT INTO bench_row (payload, created_at) VALUES (%s, %s)", ["claim", now])
    return time.perf_counter() - began


def _per(count: int, claims: int) -> str:
    return f"{count / claims:.1f}" if claims else "-"


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.1f}/s" if seconds > 0 else "-"


def report(runs: list[Repeat], start: date, end: date, sites: int, load: tuple[str, str]) -> list[tuple[str, str]]:
    def mid(value: Callable[[Repeat], float]) -> float:
        return statistics.median(value(r) for r in runs)

    last = runs[-1]
    build, export, whole = mid(lambda r: r.build_s), mid(lambda r: r.export_s), mid(lambda r: r.month_s)
    write, validate = mid(lambda r: r.write_s), mid(lambda r: r.validate_s)
    lib, lib_validate = mid(lambda r: r.baseline_x12_s), mid(lambda r: r.baseline_x12_validate_s)
    insert = mid(lambda r: r.baseline_insert_s)
    problems = ", ".join(f"{name} {n}" for name, n in last.problems.items()) or "none"
    per_file = mid(lambda r: r.one_claim_validate_s)
    per_thousand = (validate - last.files * per_file) / last.sent * 1000 if last.sent else 0.0
    return [
        ("month", f"{start:%Y-%m} ({start} to {end}), {sites} site(s)"),
        ("claims built", f"{last.claims:,} ({last.lines:,} lines): {last.ready:,} ready, {last.drafts:,} drafts"),
        ("draft problems (by field)", problems),
        ("claims sent", f"{last.sent:,} in {last.files} file(s), {last.file_bytes / 1024:,.0f} KiB"),
        (
            "build (s)",
            f"{build:.2f}  {_rate(last.claims, build)} claims, {_rate(last.lines, build)} lines; "
            f"{_per(last.build_statements, last.claims)} statements a claim",
        ),
        (
            "export (s)",
            f"{export:.2f}  {_rate(last.sent, export)} claims; {_per(last.export_statements, last.sent)} statements "
            "a claim",
        ),
        ("  of which 837 written (s)", f"{write:.2f}"),
        (
            "  of which pyx12 (s)",
            f"{validate:.2f}: {per_file:.2f} per file (a one-claim file) + {per_thousand:.1f} per 1,000 claims",
        ),
        ("whole month (s)", f"{whole:.2f}  {_rate(last.claims, whole)} claims built and sent"),
        (
            "baseline: lib x12 alone (s)",
            f"{lib:.2f} (pyx12 {lib_validate:.2f})  -> export/baseline {_ratio(runs, 'export_s', 'baseline_x12_s')}",
        ),
        (
            "baseline: bare insert (s)",
            f"{insert:.2f} for {last.claims + last.lines:,} rows  -> build/baseline "
            f"{_ratio(runs, 'build_s', 'baseline_insert_s')}",
        ),
        ("load average", f"at start {load[0]}, at end {load[1]}; {os.cpu_count()} CPUs"),
    ]


def _ratio(runs: list[Repeat], top: str, bottom: str) -> str:
    """Per repeat, then the median: both sides of a ratio are timed in the same repeat."""
    ratios = [getattr(r, top) / getattr(r, bottom) for r in runs if getattr(r, bottom) > 0]
    return f"{statistics.median(ratios):.1f}x" if ratios else "-"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        target = Target.parse(args.database_url)
    except TargetError as exc:
        print(f"bench claims: {exc}", file=sys.stderr)
        return 2
    if not open_database(target, reuse=args.reuse, name="bench claims"):
        return 2
    from django.utils import timezone

    from bench.__main__ import count_sites
    from bench.generate import Scale, billing_setup, generate
    from openiop.claims.x12out import ExportBlocked

    if not args.reuse:
        generate(Scale(args.sites, args.years, args.seed), name="bench claims")
    else:
        added = billing_setup()  # idempotent: a database generated before claims existed gets what they need
        print(f"bench claims: billing setup {added or 'complete'}")
    start, end = args.month or last_month(timezone.localdate())
    sites = count_sites()
    print(f"bench claims: {start:%Y-%m}, {args.repeat} repeat(s), python {platform.python_version()}")
    load_start = load_average()
    runs: list[Repeat] = []
    try:
        for number in range(args.repeat):
            run = measure(start, end, args.per_file)
            runs.append(run)
            print(
                f"  repeat {number + 1}: {run.claims} claims, build {run.build_s:.2f}s, export {run.export_s:.2f}s "
                f"(pyx12 {run.validate_s:.2f}s), lib x12 {run.baseline_x12_s:.2f}s, insert {run.baseline_insert_s:.2f}s"
            )
    except ExportBlocked as exc:
        print(f"bench claims: a file did not validate: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:
        print(f"bench claims: {exc}", file=sys.stderr)
        return 1
    if not runs[-1].claims:
        print(f"bench claims: no billable day in {start:%Y-%m} to claim (generate with more --years?)", file=sys.stderr)
        return 1
    rows = report(runs, start, end, sites, (load_start, load_average()))
    width = max(len(key) for key, _ in rows)
    print()
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    if args.json:
        results = {"database": target.label, "month": f"{start:%Y-%m}", "sites": sites, "cpus": os.cpu_count()}
        results |= {"rows": dict(rows), "repeats": [asdict(r) for r in runs]}
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nbench claims: results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
