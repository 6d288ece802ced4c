"""``{% plan_badges patient %}``: the plan status badge in the chart header (VIEW_CLINICAL only)."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Prefetch

from openiop.core.roles import Cap
from openiop.plans import policy, queries
from openiop.plans.models import PlanVersion, ProgressReview

register = template.Library()


@register.inclusion_tag("plans/partials/chart_badges.html", takes_context=True)
def plan_badges(context: Any, patient: Any) -> dict[str, Any]:
    return plan_badges_context(context.get("request"), patient)


def plan_badges_context(request: Any, patient: Any) -> dict[str, Any]:
    """The chart header's plan flag (registered in plans/apps.py): each open episode's plan, where its current
    version stands (draft, awaiting co-signature, awaiting the patient, in force) and what is due. Three queries
    (plans, due reviews, unsigned versions), however many plans."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.can(Cap.VIEW_CLINICAL):
        return {"badges": []}
    plans = (
        queries.plans_for_user(user)
        .filter(patient=patient, episode__status__in=["active", "on_hold"])
        .select_related("episode__program__site")
        .prefetch_related(
            Prefetch(
                "reviews",
                queryset=ProgressReview.objects.filter(status=ProgressReview.Status.DUE).order_by("due_on", "id"),
                to_attr="due_reviews",
            ),
            Prefetch(
                "versions",
                queryset=PlanVersion.objects.filter(status__in=PENDING).order_by("-number"),
                to_attr="pending_versions",
            ),
        )
    )
    badges = []
    for plan in plans:
        due: list[ProgressReview] = getattr(plan, "due_reviews", [])  # set by the Prefetch above
        waiting: list[PlanVersion] = getattr(plan, "pending_versions", [])
        review = due[0] if due else None
        status = queries.plan_status(plan, policy.local_today(plan.episode.program), review)
        pending = waiting[0] if waiting else None
        badges.append(
            {
                "status": status,
                # The version on its way in (a first draft, or a revision waiting for signatures).
                "stage": STAGE_WORDS.get(pending.status, "") if pending else "",
                "in_force": plan.current_version_id is not None,
                "colour": _colour(status.state, plan.current_version_id is not None),
                "program": plan.episode.program,
                "url": patient.get_absolute_url(),
            }
        )
    return {"badges": badges}


PENDING = [PlanVersion.Status.DRAFT, PlanVersion.Status.AWAITING_COSIGN, PlanVersion.Status.AWAITING_PATIENT]
STAGE_WORDS: dict[str, str] = {
    PlanVersion.Status.DRAFT: "draft",
    PlanVersion.Status.AWAITING_COSIGN: "awaiting co-sign",
    PlanVersion.Status.AWAITING_PATIENT: "awaiting patient",
}


def _colour(state: str, in_force: bool) -> str:
    if state == "overdue":
        return "text-bg-danger"
    if state == "due_today" or not in_force:
        return "text-bg-warning"
    return "text-bg-success"
