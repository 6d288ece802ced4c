"""What a progress review page gathers: dose weeks and attendance since the last review, measure trends, the
objectives of the version reviewed, and open safety alerts. Reads only; a fixed number of queries."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from openiop.plans.models import Goal, Objective, PlanVersion, ProgressReview

ATTENDED = ("present", "late", "left_early")
COUNTED = ("present", "late", "left_early", "absent_excused", "absent_unexcused")


@dataclass
class Trend:
    code: str
    label: str
    points: list[tuple[date, int]]
    change: Any  # measures.change.Change, or None when the registry is missing
    goals: list[Goal] = field(default_factory=list)

    @property
    def latest(self) -> int | None:
        return self.points[-1][1] if self.points else None

    def goal_met(self, goal: Goal) -> bool:
        return self.latest is not None and goal.target_met(self.latest)


@dataclass
class Evidence:
    since: date
    weeks: list[Any]  # attendance.dose.WeekDose, closed weeks since ``since``
    weeks_met: int
    sessions_counted: int
    sessions_attended: int
    trends: list[Trend]
    objectives: list[Objective]
    open_alerts: list[Any]

    @property
    def attendance_rate(self) -> Decimal | None:
        if not self.sessions_counted:
            return None
        rate = Decimal(100) * self.sessions_attended / self.sessions_counted
        return rate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def review_start(review: ProgressReview) -> date:
    """Since when the review looks: the last completed review, else the version's activation, else admission."""
    plan = review.plan
    last = (
        plan.reviews.filter(status=ProgressReview.Status.COMPLETED, held_on__isnull=False)
        .exclude(pk=review.pk)
        .order_by("-held_on")
        .values_list("held_on", flat=True)
        .first()
    )
    if last:
        return last
    episode = plan.episode
    return episode.admitted_on or plan.created_at.date()


def _trends(episode: Any, goals: list[Goal]) -> list[Trend]:
    try:
        from django.apps import apps

        administration = apps.get_model("measures", "Administration")
        registry: Any = importlib.import_module("openiop.measures.instruments")
        change: Any = importlib.import_module("openiop.measures.change")
    except (LookupError, ImportError):
        return []
    rows = (
        administration.objects.filter(episode=episode, status="completed", total__isnull=False)
        .order_by("completed_at")
        .values_list("instrument_code", "completed_at", "total")
    )
    series: dict[str, list[tuple[date, int]]] = {}
    tz = episode.program.tz()
    for code, completed_at, total in rows:
        key = "cssrs_screener" if str(code).startswith("cssrs") else code
        series.setdefault(key, []).append((completed_at.astimezone(tz).date(), total))
    trends = []
    for code, points in series.items():
        try:
            instrument = registry.get(code)
        except KeyError:
            continue
        assessed = change.assess(points, instrument) if getattr(instrument, "has_total", True) else None
        linked = [g for g in goals if g.measure_code == code]
        trends.append(Trend(code, instrument.short_name, points, assessed, linked))
    return trends


def gather(review: ProgressReview, version: PlanVersion, *, now: datetime) -> Evidence:
    from django.apps import apps

    from openiop.attendance.dose import episode_doses
    from openiop.attendance.models import AttendanceRecord

    plan = review.plan
    episode = plan.episode
    since = review_start(review)
    today = now.astimezone(episode.program.tz()).date()
    doses = episode_doses([episode], now=now, between=(since, today))
    weeks = [w for w in doses[0].weeks if w.closed] if doses else []
    start = datetime.combine(since, time.min, tzinfo=episode.program.tz())
    records = AttendanceRecord.objects.filter(episode=episode, session__starts_at__gte=start).values_list(
        "status", flat=True
    )
    statuses = list(records)
    counted = sum(1 for s in statuses if s in COUNTED)
    attended = sum(1 for s in statuses if s in ATTENDED)
    goals = [g for p in version.problems.all() for g in p.goals.all()]
    objectives = [o for g in goals for o in g.objectives.all()]
    try:
        alert_model = apps.get_model("measures", "SafetyAlert")
        alerts = list(alert_model.objects.filter(episode=episode).exclude(status="resolved").order_by("created_at"))
    except LookupError:
        alerts = []
    return Evidence(
        since=since,
        weeks=weeks,
        weeks_met=sum(1 for w in weeks if getattr(w, "met", False)),
        sessions_counted=counted,
        sessions_attended=attended,
        trends=_trends(episode, goals),
        objectives=objectives,
        open_alerts=alerts,
    )
