"""The ``plan_deadlines`` job: plans for admitted episodes, their due tasks, and reviews raised by safety alerts;
and the review a change of level of care raises (``on_level_of_care_changed``, an episode event handler).

Run daily (and safe to run any time: every step is idempotent). Admission lives in the referrals app, which does
not know about plans, so the plan row is made here or when the chart is opened, whichever comes first. A safety
alert raises its review at once through ``on_safety_alert_raised`` (registered on measures'
``safety_alert_raised`` hook in ``apps.py``); the sweep here catches an alert whose review could not be raised
then (the plan had no version in force yet, or the review failed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from openiop.measures.hooks import SafetyAlertRaised
from openiop.measures.models import SafetyAlert
from openiop.patients.events import LevelOfCareChanged
from openiop.patients.models import EpisodeOfCare
from openiop.plans import actions, policy, queries
from openiop.plans.models import PlanVersion, ProgressReview, TreatmentPlan
from openiop.worklist.actions import do_close_task_not_needed
from openiop.worklist.models import WorkTask

log = logging.getLogger(__name__)


@dataclass
class DeadlineRun:
    plans_created: int = 0
    safety_reviews: int = 0
    closed_for_discharge: int = 0
    tasks_raised: int = 0
    tasks_closed: int = 0


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


def on_safety_alert_raised(event: SafetyAlertRaised) -> None:
    """A new safety alert calls for an unscheduled progress review of the patient's plan.

    The hook runs inside the alert's transaction, but the review is deliberately raised only after it commits, and
    a failure is only logged (``robust``): raising a safety alert must never fail because of the plans app. The
    ``plan_deadlines`` sweep raises any review missed here.
    """
    alert = event.alert
    transaction.on_commit(lambda: review_for_alert(alert), robust=True)


def on_level_of_care_changed(event: LevelOfCareChanged) -> None:
    """A step down or up calls for an unscheduled progress review (trigger "level-of-care change"), raised in the
    change's own transaction so the two commit together (docs/clinical-rules.md#treatment-plans-and-reviews). A plan
    with no version in force yet gets none: the plan still being written covers the new level."""
    plan = TreatmentPlan.objects.filter(episode_id=event.episode.pk).first()
    if plan is None or plan.current_version_id is None:
        return
    _, created = actions.do_request_review(
        plan,
        acting_user=event.acting_user,
        trigger=ProgressReview.Trigger.LEVEL_OF_CARE_CHANGE,
        trigger_key=f"level_of_care:{event.effective_on.isoformat()}:{event.new_level}",
    )
    event.report("plans", "review_raised", int(created), "plan review raised (level-of-care change)")


def ensure_tasks(result: DeadlineRun) -> None:
    """Each open duty has its work task, and each task whose duty is done is closed. The actions raise and close
    them as they go; this repairs what a failed or older step left behind. A task is raised once per key: one a
    person closed stays closed."""
    V = PlanVersion.Status
    open_plans = TreatmentPlan.objects.filter(episode__status__in=actions.OPEN_EPISODE).select_related(
        "episode__program__site"
    )
    for plan in open_plans.filter(current_version__isnull=True):
        result.tasks_raised += actions.raise_plan_due_task(plan, None)
    due = ProgressReview.objects.filter(plan__in=open_plans, status=ProgressReview.Status.DUE)
    for review in due.select_related("plan__episode__program__site"):
        result.tasks_raised += actions.raise_review_task(review, None)
    waiting = PlanVersion.objects.filter(plan__in=open_plans, status=V.AWAITING_COSIGN)
    for version in waiting.select_related("plan__episode__program__site", "author__supervisor"):
        result.tasks_raised += actions.raise_cosign_task(version, None)
    # Past the patient-signature deadline, not in force: the primary clinician follows it up.
    unsigned = PlanVersion.objects.filter(
        queries.awaiting_patient_q(), plan__in=open_plans, status=V.AWAITING_PATIENT
    ).select_related("plan__episode__program__site")
    for version in unsigned:
        today = policy.local_today(version.plan.episode.program)
        result.tasks_raised += actions.raise_patient_signature_task(version, today)

    stale: list[WorkTask] = []
    tasks = WorkTask.objects.filter(status=WorkTask.Status.OPEN).select_related("episode")
    in_force = set(
        TreatmentPlan.objects.filter(current_version__isnull=False).values_list("episode__public_id", flat=True)
    )
    for task in tasks.filter(kind=WorkTask.Kind.PLAN_DUE):
        if task.episode is not None and task.episode.public_id in in_force:
            stale.append(task)
    still_due = {actions.review_key(r) for r in ProgressReview.objects.filter(status=ProgressReview.Status.DUE)}
    stale += [t for t in tasks.filter(kind=WorkTask.Kind.PLAN_REVIEW_DUE) if t.trigger_key not in still_due]
    still_waiting = {actions.cosign_key(v) for v in PlanVersion.objects.filter(status=V.AWAITING_COSIGN)}
    cosign = tasks.filter(kind=WorkTask.Kind.COSIGN_NEEDED, trigger_key__startswith=actions.cosign_key_prefix())
    stale += [t for t in cosign if t.trigger_key not in still_waiting]
    still_unsigned = {
        actions.patient_signature_key(v)
        for v in PlanVersion.objects.filter(queries.awaiting_patient_q(), status=V.AWAITING_PATIENT)
    }
    signature = tasks.filter(kind=WorkTask.Kind.PLAN_PATIENT_SIGNATURE)
    stale += [t for t in signature if t.trigger_key not in still_unsigned]
    for task in stale:
        result.tasks_closed += do_close_task_not_needed(task, acting_user=None, note="Done in the treatment plan")


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
    ensure_tasks(result)
    closed = TreatmentPlan.objects.filter(
        episode__status=EpisodeOfCare.Status.DISCHARGED, reviews__status=ProgressReview.Status.DUE
    ).distinct()
    for plan in closed.select_related("episode", "patient"):
        result.closed_for_discharge += actions.do_close_for_discharge(plan, acting_user=None)
    return result
