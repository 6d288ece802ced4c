"""The program outcome report: per instrument and track, admission against latest (or discharge) scores and the
share of episodes improved, responded, remitted and deteriorated. Aggregates only, no patient appears.

An episode counts when it has at least two scores of the instrument within the episode (a baseline and a later one);
"latest" is the discharge score for discharged episodes that have one, otherwise the most recent score.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from django.utils import timezone

from openiop.measures import change, instruments
from openiop.measures.charts import ScorePoint
from openiop.measures.models import Administration, Occasion
from openiop.measures.schedules import CSSRS, family
from openiop.programs.models import Program

ALL_TRACKS = "All tracks"
NO_TRACK = "No track"


@dataclass
class OutcomeRow:
    instrument: instruments.Instrument
    track: str
    episodes: int = 0
    admission_sum: int = 0
    latest_sum: int = 0
    improved: int = 0
    responded: int = 0
    remitted: int = 0
    deteriorated: int = 0
    not_on_track: int = 0

    @property
    def mean_admission(self) -> float | None:
        return round(self.admission_sum / self.episodes, 1) if self.episodes else None

    @property
    def mean_latest(self) -> float | None:
        return round(self.latest_sum / self.episodes, 1) if self.episodes else None

    def share(self, count: int) -> float | None:
        return round(100 * count / self.episodes) if self.episodes else None

    @property
    def shares(self) -> dict[str, float | None]:
        return {
            "improved": self.share(self.improved),
            "responded": self.share(self.responded),
            "remitted": self.share(self.remitted),
            "deteriorated": self.share(self.deteriorated),
        }


def program_outcomes(program: Program) -> list[OutcomeRow]:
    """Rows per instrument: every track of the program, then all tracks together. One query."""
    rows = (
        Administration.objects.filter(
            episode__program=program, status=Administration.Status.COMPLETED, total__isnull=False
        )
        .order_by("episode_id", "instrument_code", "completed_at", "pk")
        .values_list(
            "episode_id", "episode__track__name", "instrument_code", "completed_at", "total", "prorated", "occasion"
        )
    )
    zone = program.tz()
    series: dict[tuple[int, str], list[tuple[ScorePoint, str]]] = defaultdict(list)
    tracks: dict[int, str] = {}
    for episode_id, track, code, completed_at, total, prorated, occasion in rows:
        if code not in instruments.REGISTRY or completed_at is None or total is None:
            continue
        if family(code) == CSSRS:
            continue  # a risk category, not an outcome score
        tracks[episode_id] = track or NO_TRACK
        series[(episode_id, code)].append((ScorePoint(_day(completed_at, zone), total, prorated), occasion))
    table: dict[tuple[str, str], OutcomeRow] = {}
    for (episode_id, code), points in series.items():
        if len(points) < 2:
            continue
        instrument = instruments.get(code)
        # The discharge score, when there is one, is the episode's outcome even if a follow-up came later.
        discharge = [i for i, (_, occasion) in enumerate(points) if occasion == Occasion.DISCHARGE]
        upto = discharge[-1] + 1 if discharge else len(points)
        used = [p for p, _ in points[:upto]]
        result = change.assess([(p.day, p.total) for p in used], instrument)
        for track in (tracks[episode_id], ALL_TRACKS):
            row = table.setdefault((code, track), OutcomeRow(instrument=instrument, track=track))
            row.episodes += 1
            row.admission_sum += used[0].total
            row.latest_sum += used[-1].total
            row.improved += bool(result.reliably_improved)
            row.responded += bool(result.response)
            row.remitted += bool(result.remission)
            row.deteriorated += bool(result.reliably_deteriorated)
            row.not_on_track += bool(result.not_on_track)
    order = list(instruments.REGISTRY)
    return sorted(
        table.values(), key=lambda r: (order.index(r.instrument.code), r.track == ALL_TRACKS, r.track.lower())
    )


def _day(moment: datetime, zone: tzinfo) -> date:
    return timezone.localdate(moment, zone)


CSV_HEADER = [
    "instrument", "track", "episodes", "mean_admission", "mean_latest",
    "improved_pct", "responded_pct", "remitted_pct", "deteriorated_pct",
]  # fmt: skip


def outcomes_csv(rows: list[OutcomeRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for r in rows:
        s = r.shares
        writer.writerow(
            [r.instrument.short_name, r.track, r.episodes, r.mean_admission, r.mean_latest,
             s["improved"], s["responded"], s["remitted"], s["deteriorated"]]
        )  # fmt: skip
    return out.getvalue()
