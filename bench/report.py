"""What a bench run prints: medians over repeats with their spread, ratios taken within a repeat, and the targets.

A ratio is computed in each repeat from the page and its baseline measured in that repeat, and the median of those
ratios is printed: a change of load between repeats moves both sides of a ratio together.
"""

from __future__ import annotations

import math
import os
import statistics
from dataclasses import dataclass, field

from bench.load import Measurement

# The targets (issue 16), at 8 clients.
TARGET_CLIENTS = 8
WRITE_RATIO = 0.30  # booking and check-in, of the bare insert
BOOKING_P99_FACTOR = 4.0  # booking p99 at most this times the bare insert's p99
PEER_FACTOR = 2.0  # booking at least this times GNU Health's appointment create
READ_RATIO = 0.20  # the pages, of the bare read
FLAT_FACTOR = 1.2  # p50 on the large database at most this times p50 on the small one
RSS_LIMIT_MIB = 120.0
WRITE_TARGETS = ("booking", "check-in")
READ_TARGETS = ("chart", "search", "list", "calendar", "roster")


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def median(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


@dataclass
class Series:
    """One (server, path, clients) timing, repeated."""

    name: str
    kind: str  # "read", "write", "login", "peer"
    clients: int
    runs: list[Measurement] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)  # req/s over the baseline's, one per repeat
    p99_ratios: list[float] = field(default_factory=list)  # p99 over the baseline's p99, one per repeat

    @property
    def throughput(self) -> float:
        return median([r.throughput for r in self.runs])

    @property
    def spread(self) -> tuple[float, float]:
        values = [r.throughput for r in self.runs]
        return min(values), max(values)

    def percentile(self, q: float) -> float:
        return median([r.percentile(q) for r in self.runs])

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.runs)

    @property
    def ratio(self) -> float:
        return median(self.ratios)

    @property
    def p99_ratio(self) -> float:
        return median(self.p99_ratios)


def pair_ratios(series: Series, baseline: Series) -> None:
    """Fill ``series``' per-repeat ratios from the baseline timed in the same repeats."""
    series.ratios = []
    series.p99_ratios = []
    for run, base in zip(series.runs, baseline.runs, strict=False):
        if base.throughput:
            series.ratios.append(run.throughput / base.throughput)
        base_p99 = base.percentile(0.99)
        if base_p99 and not math.isnan(base_p99):
            series.p99_ratios.append(run.percentile(0.99) / base_p99)


def table(header: list[str], rows: list[list[str]], *, left: int = 1) -> str:
    """A Markdown table, the first ``left`` columns left-aligned and the rest right-aligned."""
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def fmt(cells: list[str]) -> str:
        padded = [c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ("-" if i < left else ":") for i, w in enumerate(widths)) + "|"
    return "\n".join([fmt(header), rule, *(fmt(line) for line in rows)])


def number(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def series_table(series: list[Series]) -> str:
    header = ["path", "clients", "requests", "req/s", "spread req/s", "p50 ms", "p99 ms", "errors", "vs baseline"]
    rows = []
    for s in series:
        low, high = s.spread
        vs = "-"
        if s.ratios:
            vs = f"{s.ratio:.2f}x {s.kind}"
            if s.kind == "write" and s.p99_ratios:
                vs += f" (p99 {s.p99_ratio:.1f}x)"
        rows.append([
            s.name, str(s.clients), str(s.requests), number(s.throughput), f"{low:.1f}-{high:.1f}",
            number(s.percentile(0.5)), number(s.percentile(0.99)), str(s.errors), vs,
        ])  # fmt: skip
    return table(header, rows)


@dataclass(frozen=True)
class Target:
    text: str
    measured: str
    status: str  # "MET", "NOT MET", "not measured", "not checked"


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def targets_table(targets: list[Target]) -> str:
    return table(["target", "measured", "status"], [[t.text, t.measured, t.status] for t in targets], left=3)


def sites(count: int) -> str:
    return f"{count} site" if count == 1 else f"{count} sites"
