"""``{% plan_badges patient %}``: the due / overdue plan badge in the chart header (VIEW_CLINICAL only)."""

from __future__ import annotations

from typing import Any

from django import template

from openiop.core.roles import Cap
from openiop.plans import policy, queries
from openiop.plans.models import ProgressReview

register = template.Library()


@register.inclusion_tag("plans/partials/chart_badges.html", takes_context=True)
def plan_badges(context: Any, patient: Any) -> dict[str, Any]:
    return plan_badges_context(context.get("request"), patient)


def plan_badges_context(request: Any, patient: Any) -> dict[str, Any]:
    """The chart header's plan flag (registered in plans/apps.py)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.can(Cap.VIEW_CLINICAL):
        return {"badges": []}
    plans = (
        queries.plans_for_user(user)
        .filter(patient=patient, episode__status__in=["active", "on_hold"])
        .select_related("episode__program__site")
    )
    badges = []
    for plan in plans:
        review = plan.reviews.filter(status=ProgressReview.Status.DUE).order_by("due_on").first()
        status = queries.plan_status(plan, policy.local_today(plan.episode.program), review)
        if status.state in ("overdue", "due_today") or (status.state == "due" and plan.current_version_id is None):
            badges.append({"status": status, "program": plan.episode.program, "url": patient.get_absolute_url()})
    return {"badges": badges}
