"""Change over a series of totals: reliable change, response, remission and "not on track".

Pure functions over ``(date, total)`` pairs; the caller passes the totals it has (None totals are skipped) and any
per-program thresholds, and gets a frozen ``Change``. Lower totals are better for every shipped instrument.

Definitions (defaults from docs/clinical-rules.md#change-response-and-remission, each a keyword argument):

* **Baseline** is the first dated total, **latest** the last; ``change = latest - baseline`` (negative = better).
* **Reliable improvement / deterioration**: ``|change| >= reliable_change`` (PHQ-9 6, GAD-7 4, PCL-5 10 by default,
  ``Instrument.reliable_change``), the reliable change index idea of Jacobson & Truax (J Consult Clin Psychol
  1991;59:12-19) expressed as the instrument's published minimum reliable difference.
* **Response**: a drop of at least 50 % from baseline (``response_drop=0.5``; CMS159 / NCQA DRR,
  docs/clinical-rules.md#change-response-and-remission).
* **Remission**: latest below ``remission_below`` (PHQ-9 and GAD-7 5; ``Instrument.remission_below``).
* **Not on track** (``not_on_track``): at least ``weeks`` weeks (default 4) after baseline, a patient who started in
  the instrument's clinical range (baseline at or above ``Instrument.positive_at``, PHQ-9 / GAD-7 10, PCL-5 33) has
  not improved by ``expected_drop`` points (default: the reliable-change threshold). Source: the PHQ-9 follow-up
  guidance of the MacArthur Initiative on Depression and Primary Care toolkit (Kroenke & Spitzer's PHQ-9 monitoring
  table), which calls a drop of fewer than 5 points after 4-6 weeks of treatment an inadequate response that needs a
  treatment change. With ``expected_drop=5`` the rule is exactly the MacArthur one; the default uses
  the reliable-change threshold so a flagged patient has not *reliably* improved. It is a simple, transparent rule,
  not an expected-recovery curve fitted to a reference population (those, e.g. Lambert's OQ-45 trajectories, need
  data we do not have); docs/instruments.md explains the choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from openiop.measures.instruments import Instrument

RESPONSE_DROP = 0.5
NOT_ON_TRACK_WEEKS = 4


@dataclass(frozen=True)
class Change:
    baseline_date: date | None
    baseline: int | None
    latest_date: date | None
    latest: int | None
    count: int  # dated totals used
    change: int | None  # latest - baseline; negative is improvement
    percent_change: float | None  # change / baseline * 100, None when baseline is 0
    weeks: float | None  # weeks from baseline to latest
    reliable_change: int | None  # the threshold used
    reliably_improved: bool
    reliably_deteriorated: bool
    response: bool
    remission: bool
    not_on_track: bool
    not_on_track_reason: str  # why the flag is set, or why it could not be judged; "" when on track


def _empty(reliable_change: int | None, reason: str) -> Change:
    return Change(
        baseline_date=None,
        baseline=None,
        latest_date=None,
        latest=None,
        count=0,
        change=None,
        percent_change=None,
        weeks=None,
        reliable_change=reliable_change,
        reliably_improved=False,
        reliably_deteriorated=False,
        response=False,
        remission=False,
        not_on_track=False,
        not_on_track_reason=reason,
    )


def assess(
    series: Sequence[tuple[date, int | None]],
    instrument: Instrument,
    *,
    reliable_change: int | None = None,
    remission_below: int | None = None,
    response_drop: float = RESPONSE_DROP,
    weeks: int | None = None,
    expected_drop: int | None = None,
    clinical_at: int | None = None,
) -> Change:
    """Assess a patient's series of totals on one instrument (any order; ties keep the later entry as latest)."""
    if not instrument.has_total:
        raise ValueError(f"{instrument.short_name} has no total score; assess its subscores instead.")
    if not 0 < response_drop <= 1:
        raise ValueError("response_drop is a fraction between 0 and 1 (0.5 = a 50% drop).")
    threshold = reliable_change if reliable_change is not None else instrument.reliable_change
    remission_at = remission_below if remission_below is not None else instrument.remission_below
    review_weeks = weeks if weeks is not None else NOT_ON_TRACK_WEEKS
    needed_drop = expected_drop if expected_drop is not None else threshold
    clinical = clinical_at if clinical_at is not None else instrument.positive_at

    points = sorted(((d, total) for d, total in series if total is not None), key=lambda p: p[0])
    if not points:
        return _empty(threshold, "no scored administrations")
    (first_date, baseline), (last_date, latest) = points[0], points[-1]
    count = len(points)
    elapsed = (last_date - first_date).days / 7
    change = latest - baseline if count > 1 else None
    percent = change / baseline * 100 if change is not None and baseline > 0 else None

    improved = change is not None and threshold is not None and -change >= threshold
    deteriorated = change is not None and threshold is not None and change >= threshold
    # Response needs a baseline with something to halve; 0 -> 0 is not a response.
    response = change is not None and baseline > 0 and (baseline - latest) >= response_drop * baseline
    remission = remission_at is not None and count > 1 and latest < remission_at

    not_on_track = False
    if count < 2:
        reason = "only one scored administration"
    elif needed_drop is None or clinical is None:
        reason = f"{instrument.short_name} has no expected-improvement rule"
    elif baseline < clinical:
        reason = f"baseline {baseline} below {clinical}: not in the range the rule covers"
    elif elapsed < review_weeks:
        reason = f"{elapsed:.1f} weeks since baseline; judged from week {review_weeks}"
    elif baseline - latest < needed_drop:
        not_on_track = True
        reason = (
            f"improved {baseline - latest} points in {elapsed:.1f} weeks from baseline {baseline}; "
            f"expected at least {needed_drop} by week {review_weeks}"
        )
    else:
        reason = ""

    return Change(
        baseline_date=first_date,
        baseline=baseline,
        latest_date=last_date,
        latest=latest,
        count=count,
        change=change,
        percent_change=percent,
        weeks=elapsed,
        reliable_change=threshold,
        reliably_improved=improved,
        reliably_deteriorated=deteriorated,
        response=response,
        remission=remission,
        not_on_track=not_on_track,
        not_on_track_reason=reason,
    )
