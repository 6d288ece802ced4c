"""``{% plan_badges patient %}``: the plan status badge in the chart header (VIEW_CLINICAL only)."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Prefetch

from openiop.core.roles import Cap
from openiop.plans import policy, queries
from openiop.plans.actions import awaits_patient
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
        .select_related("episode__program", "current_version")
        # The columns the badge and its due dates read: the wide rows cost more to compile and load than to query.
        .only(
            "due_on",
            "episode__program__name",
            "episode__program__time_zone",
            *(f"current_version__{name}" for name in VERSION_FIELDS),
        )
        .prefetch_related(
            Prefetch(
                "reviews",
                queryset=ProgressReview.objects.filter(status=ProgressReview.Status.DUE)
                .only("plan", "due_on")
                .order_by("due_on", "id"),
                to_attr="due_reviews",
            ),
            Prefetch(
                "versions",
                queryset=PlanVersion.objects.filter(status__in=PENDING)
                .only("plan", *VERSION_FIELDS)
                .order_by("-number"),
                to_attr="pending_versions",
            ),
        )
    )
    badges = []
    for plan in plans:
        due: list[ProgressReview] = getattr(plan, "due_reviews", [])  # set by the Prefetch above
        waiting: list[PlanVersion] = getattr(plan, "pending_versions", [])
        review = due[0] if due else None
        today = policy.local_today(plan.episode.program)
        status = queries.plan_status(plan, today, review)
        pending = waiting[0] if waiting else None
        # The patient's signature still owed, with its deadline: the version waiting for it (patient-signature
        # rule), or the version in force (clinician-signature rule).
        unsigned = next((v for v in (pending, plan.current_version) if v is not None and awaits_patient(v)), None)
        signature = ""
        if unsigned is not None:
            due_on = policy.patient_signature_due_on(plan.episode.program, unsigned.clinician_signed_at)
            signature = f"awaiting patient signature {queries.signature_due_words(due_on, today)}".strip()
        badges.append(
            {
                "status": status,
                "signature": signature,
                # The version on its way in (a first draft, or a revision waiting for signatures).
                "stage": STAGE_WORDS.get(pending.status, "") if pending else "",
                "in_force": plan.current_version_id is not None,
                "colour": _colour(status.state, plan.current_version_id is not None, "overdue" in signature),
                "program": plan.episode.program,
                "url": patient.get_absolute_url(),
            }
        )
    return {"badges": badges}


# What ``awaits_patient`` and the signature deadline read of a version.
VERSION_FIELDS = ("status", "clinician_signed_at", "patient_signed_at", "patient_declined_at")
PENDING = [PlanVersion.Status.DRAFT, PlanVersion.Status.AWAITING_COSIGN, PlanVersion.Status.AWAITING_PATIENT]
STAGE_WORDS: dict[str, str] = {
    PlanVersion.Status.DRAFT: "draft",
    PlanVersion.Status.AWAITING_COSIGN: "awaiting co-sign",
    PlanVersion.Status.AWAITING_PATIENT: "awaiting patient",
}


def _colour(state: str, in_force: bool, signature_overdue: bool = False) -> str:
    if state == "overdue":
        return "text-bg-danger"
    if state == "due_today" or not in_force or signature_overdue:
        return "text-bg-warning"
    return "text-bg-success"
