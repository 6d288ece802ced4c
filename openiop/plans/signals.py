"""A safety alert (measures) calls for an unscheduled progress review of the patient's plan.

The review is raised after the alert's transaction commits, and a failure is only logged (``robust``): raising a
safety alert must never fail because of the plans app. ``plan_deadlines`` sweeps up anything missed.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save


def safety_alert_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):
        return
    from openiop.plans.deadlines import review_for_alert

    transaction.on_commit(lambda: review_for_alert(instance), robust=True)


def connect() -> None:
    from openiop.measures.models import SafetyAlert

    post_save.connect(safety_alert_saved, sender=SafetyAlert, dispatch_uid="plans_safety_alert_review")
