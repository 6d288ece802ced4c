"""The ``plan_deadlines`` job: plans for admitted episodes, their due tasks, and reviews raised by safety alerts.

Run daily (and safe to run any time: every step is idempotent). Admission lives in the referrals app, which does
not know about plans, so the plan row is made here or when the chart is opened, whichever comes first. A safety
alert raises its review at once through the signal in ``signals.py``; the sweep here catches an alert whose
review could not be raised then (the plan had no version in force yet, or the receiver failed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from openiop.measures.models import SafetyAlert
from openiop.patients.models import EpisodeOfCare
from openiop.plans import actions
from openiop.plans.models import ProgressReview, TreatmentPlan

log = logging.getLogger(__name__)


@dataclass
class DeadlineRun:
    plans_created: int = 0
    safety_reviews: int = 0
    closed_for_discharge: int = 0


def safety_key(alert: SafetyAlert) -> str:
    return f"safety_alert:{alert.public_id}"


def review_for_alert(alert: SafetyAlert) -> bool:
    """Raise the unscheduled review a safety alert calls for; True when one was made now."""
    plan = TreatmentPlan.objects.filter(episode_id=alert.episode_id).first()
    if plan is None or plan.current_version_id is None:
        return False
    try:
        _, created = actions.do_request_review(
            plan, acting_user=None, trigger=ProgressReview.Trigger.SAFETY_EVENT, trigger_key=safety_key(alert)
        )
    except ValidationError:
        return False
    return created


def run_plan_deadlines() -> DeadlineRun:
    result = DeadlineRun()
    open_episodes = EpisodeOfCare.objects.filter(
        status__in=actions.OPEN_EPISODE, admitted_on__isnull=False, treatment_plan__isnull=True
    ).select_related("program__site", "patient")
    for episode in open_episodes.iterator():
        _, created = actions.do_ensure_plan(episode, acting_user=None)
        result.plans_created += created
    reviewed = ProgressReview.objects.filter(trigger_key__startswith="safety_alert:").values_list(
        "trigger_key", flat=True
    )
    done = set(reviewed)
    alerts = SafetyAlert.objects.filter(
        episode__status__in=actions.OPEN_EPISODE, episode__treatment_plan__current_version__isnull=False
    ).only("public_id", "episode_id")
    for alert in alerts.iterator():
        if safety_key(alert) not in done:
            result.safety_reviews += review_for_alert(alert)
    closed = TreatmentPlan.objects.filter(
        episode__status=EpisodeOfCare.Status.DISCHARGED, reviews__status=ProgressReview.Status.DUE
    ).distinct()
    for plan in closed.select_related("episode", "patient"):
        result.closed_for_discharge += actions.do_close_for_discharge(plan, acting_user=None)
    return result
