"""What a progress review page gathers: dose weeks and attendance since the last review, measure trends, the
objectives of the version reviewed, and open safety alerts. Reads only; a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from openiop.measures import trends
from openiop.measures.change import Change
from openiop.measures.models import Administration, SafetyAlert
from openiop.plans.models import Goal, Objective, PlanVersion, ProgressReview

ATTENDED = ("present", "late", "left_early")
COUNTED = ("present", "late", "left_early", "absent_excused", "absent_unexcused")


@dataclass
class Trend:
    code: str
    label: str
    points: list[tuple[date, int]]
    change: Change | None  # None with fewer than one scored administration
    goals: list[Goal] = field(default_factory=list)
    panel: trends.Panel | None = None  # the chart tab's panel, for its SVG chart

    @property
    def latest(self) -> int | None:
        return self.points[-1][1] if self.points else None

    def goal_met(self, goal: Goal) -> bool:
        return self.latest is not None and goal.target_met(self.latest)

    @property
    def met_goal_ids(self) -> set[int]:
        return {g.pk for g in self.goals if self.goal_met(g)}


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
    """The chart tab's panels (``measures.trends.panels``) for this episode, with the plan goals aimed at each."""
    administrations = Administration.objects.filter(episode=episode, status=Administration.Status.COMPLETED)
    out = []
    for panel in trends.panels(administrations):
        if not panel.instrument.has_total:
            continue
        points = [(a.when, a.total) for a in panel.scored if a.total is not None]
        linked = [g for g in goals if g.measure_code == panel.instrument.code]
        out.append(Trend(panel.instrument.code, panel.instrument.short_name, points, panel.change, linked, panel))
    return out


def gather(review: ProgressReview, version: PlanVersion, *, now: datetime) -> Evidence:
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
    alerts = list(
        SafetyAlert.objects.filter(episode=episode).exclude(status=SafetyAlert.Status.RESOLVED).order_by("created_at")
    )
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
