"""Utilization pages: the list of authorizations with their flags (VIEW_BILLING), an authorization with its reviews,
create and edit, record a review and the payer's answer (MANAGE_BILLING), and the chart's Authorizations tab.
Role first (403), then the user's programs (404); every write through an action."""

from __future__ import annotations

import csv
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.htmx import is_htmx
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, staff_view
from openiop.core.roles import Cap
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.programs import levels
from openiop.utilization import actions, flags, queries, units
from openiop.utilization.actions import AUTHORIZATION_FIELDS
from openiop.utilization.forms import AuthorizationForm, ListFilterForm, PolicyForm, ReviewForm
from openiop.utilization.models import Authorization, UtilizationReview
from openiop.utilization.packet import PACKET_CAPS
from openiop.utilization.policy import POLICY_FIELDS, policy_for


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def authorizations_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for the chart's Authorizations tab: status, dates, units authorized, used and remaining, the next
    review and the level of care of every authorization of the patient's episodes the user may read. No money."""
    user = request_user(request)
    rows = queries.patient_authorizations(user, patient)
    open_episodes: list[EpisodeOfCare] = []
    if user.can(Cap.MANAGE_BILLING):
        open_episodes = list(
            EpisodeOfCare.objects.filter(patient=patient, program_id__in=program_ids_for(user))
            .exclude(status=EpisodeOfCare.Status.DISCHARGED)
            .select_related("program")
        )
    # The UR packet is prepared by billing staff and by the clinicians who write the record (packet.PACKET_CAPS),
    # for the episodes of their own programs.
    packet_episodes: list[EpisodeOfCare] = []
    if any(user.can(cap) for cap in PACKET_CAPS):
        packet_episodes = list(
            EpisodeOfCare.objects.filter(patient=patient, program_id__in=program_ids_for(user))
            .exclude(status=EpisodeOfCare.Status.WAITLIST)
            .select_related("program")
            .order_by("-admitted_on")
        )
    return {"authorizations": rows, "authorizable_episodes": open_episodes, "packet_episodes": packet_episodes}


@staff_view(Cap.VIEW_BILLING)
def authorization_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    programs = queries.utilization_programs(user)
    form = ListFilterForm(request.GET or None, programs=programs)
    invalid = form.is_bound and not form.is_valid()
    data = {} if invalid or not form.is_bound else form.cleaned_data
    program, flag = data.get("program"), data.get("flag") or ""
    rows: list[Authorization] = []
    if invalid:  # a program not one's own, an unknown flag: the errors, with what was chosen, and no list
        context = {"nav": "billing", "form": form, "rows": [], "unauthorized": [], "flag": "", "invalid": True}
        template = "utilization/partials/results.html" if is_htmx(request) else "utilization/list.html"
        return render(request, template, context, status=422)
    if flag != flags.UNAUTHORIZED:
        rows = queries.list_authorizations(
            user, queries.ListFilter(program=program, flag=flag, status=data.get("status") or "")
        )
    unauthorized = []
    if not flag or flag == flags.UNAUTHORIZED:
        unauthorized = queries.unauthorized_episodes(program_ids_for(user), program=program, open_only=True)
    if request.GET.get("format") == "csv":
        return _csv(user, rows, flag)
    if rows or unauthorized:
        audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="authorization")
    context = {
        "nav": "billing",
        "form": form,
        "rows": rows,
        "unauthorized": unauthorized,
        "flag": flag,
        "can_manage": user.can(Cap.MANAGE_BILLING),
        "policy_programs": list(queries.policy_programs(user)),
    }
    template = "utilization/partials/results.html" if is_htmx(request) else "utilization/list.html"
    return render(request, template, context)


CSV_HEADER = ["patient", "mrn", "program", "payer", "number", "level of care", "start", "end", "unit",
              "authorized", "used", "remaining", "flags"]  # fmt: skip


def _csv(user: Any, rows: list[Authorization], flag: str) -> HttpResponse:
    """The list as filtered, one authorization a row (the revenue report's "authorizations expiring" detail). It
    names patients, so it is audited as an export."""
    audit.record(action=AuditAction.EXPORTED, acting_user=user, object_type="authorization", changed_fields=["csv"])
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="authorizations{"-" + flag if flag else ""}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for auth in rows:
        patient = auth.episode.patient
        writer.writerow(
            [
                patient.display_name,
                patient.mrn,
                auth.episode.program.name,
                auth.coverage.payer_name,
                auth.number,
                levels.short_label(auth.level_of_care),
                auth.start_date.isoformat(),
                auth.end_date.isoformat(),
                auth.get_unit_kind_display(),
                auth.units_authorized,
                auth.used,
                auth.remaining,
                "; ".join(label for _, label in auth.flags.labels),  # type: ignore[attr-defined]
            ]
        )
    return response


def _detail_context(request: HttpRequest, auth: Authorization, review_form: ReviewForm | None = None) -> dict[str, Any]:
    user = request_user(request)
    (auth,) = queries.with_flags([units.refreshed(auth)])
    return {
        "nav": "billing",
        "auth": auth,
        "level": levels.get(auth.level_of_care),
        "assessed": queries.assessed_levels(user, auth.episode),
        "reviews": list(auth.reviews.select_related("recorded_by").order_by("-requested_on", "-created_at")),
        "review_form": review_form or ReviewForm(initial={"kind": UtilizationReview.Kind.CONCURRENT}),
        "can_manage": user.can(Cap.MANAGE_BILLING),
        "pending_outcomes": [c for c in UtilizationReview.Outcome.choices if c[0] != UtilizationReview.Outcome.PENDING],
    }


@staff_view(Cap.VIEW_BILLING)
def authorization_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    auth = queries.get_authorization_for_user(user, public_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=auth.episode.patient, obj=auth)
    return render(request, "utilization/detail.html", _detail_context(request, auth))


def _form_page(
    request: HttpRequest, form: AuthorizationForm, episode: EpisodeOfCare, auth: Authorization | None
) -> HttpResponse:
    status = 422 if form.is_bound else 200
    context = {"nav": "billing", "form": form, "episode": episode, "auth": auth}
    return render(request, "utilization/form.html", context, status=status)


@staff_view(Cap.MANAGE_BILLING)
def authorization_create(request: HttpRequest, episode_id: UUID) -> HttpResponse:
    user = request_user(request)
    episode = queries.get_episode_for_billing(user, episode_id)
    initial = {
        "level_of_care": episode.level_of_care,
        "start_date": episode.program.now().date(),
        "status": Authorization.Status.REQUESTED,
        "unit_kind": Authorization.UnitKind.DAYS,
    }
    form = AuthorizationForm(_posted(request), episode=episode, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            auth = actions.do_create_authorization(acting_user=user, episode=episode, **form.action_fields())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Authorization recorded.")
            return redirect("utilization:detail", auth.public_id)
    return _form_page(request, form, episode, None)


@staff_view(Cap.MANAGE_BILLING)
def authorization_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    auth = queries.get_authorization_for_user(user, public_id, Cap.MANAGE_BILLING)
    initial = {name: getattr(auth, name) for name in AUTHORIZATION_FIELDS}
    form = AuthorizationForm(_posted(request), episode=auth.episode, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = actions.do_update_authorization(auth, acting_user=user, **form.action_fields())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Authorization saved." if changed else "Nothing changed.")
            return redirect("utilization:detail", auth.public_id)
    return _form_page(request, form, auth.episode, auth)


def _reviews_response(request: HttpRequest, auth: Authorization, form: ReviewForm | None, status: int) -> HttpResponse:
    context = _detail_context(request, auth, form)
    template = "utilization/partials/reviews.html" if is_htmx(request) else "utilization/detail.html"
    return render(request, template, context, status=status)


@require_POST
@staff_view(Cap.MANAGE_BILLING)
def review_add(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Record a review (HTMX swaps the reviews panel and the authorization's numbers; without JS, the page)."""
    user = request_user(request)
    auth = queries.get_authorization_for_user(user, public_id, Cap.MANAGE_BILLING)
    form = ReviewForm(request.POST)
    if form.is_valid():
        data = form.action_fields()
        next_review_on = data.pop("next_review_on")
        try:
            actions.do_add_review(auth, acting_user=user, next_review_on=next_review_on, **data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            if not is_htmx(request):
                messages.success(request, "Review recorded.")
                return redirect("utilization:detail", auth.public_id)
            return _reviews_response(request, auth, None, 200)
    return _reviews_response(request, auth, form, 422)


@require_POST
@staff_view(Cap.MANAGE_BILLING)
def review_decide(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The payer's answer to a pending review."""
    user = request_user(request)
    review = queries.get_review_for_user(user, public_id)
    auth = queries.get_authorization_for_user(user, review.authorization.public_id, Cap.MANAGE_BILLING)
    form = ReviewForm({**request.POST.dict(), "kind": review.kind, "requested_on": review.requested_on})
    if form.is_valid():
        data = form.action_fields()
        try:
            actions.do_decide_review(
                review,
                acting_user=user,
                next_review_on=data["next_review_on"],
                **{k: data[k] for k in ("decided_on", "outcome", "units_granted", "new_end_date", "level_of_care")},
            )
        except ValidationError as exc:
            messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
        else:
            messages.success(request, "Decision recorded.")
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("utilization:detail", auth.public_id)


@staff_view(any_of=queries.POLICY_CAPS)
def program_policy(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """A program's thresholds: billing staff for their programs, directors for the programs they manage."""
    user = request_user(request)
    program = get_object_or_404(queries.policy_programs(user), public_id=public_id)
    form = PolicyForm(_posted(request), instance=policy_for(program))
    if request.method == "POST" and form.is_valid():
        try:
            changed = actions.do_set_utilization_policy(
                program, acting_user=user, **{name: form.cleaned_data[name] for name in POLICY_FIELDS}
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Utilization review settings saved." if changed else "Nothing changed.")
            return redirect("utilization:policy", program.public_id)
    status = 422 if form.is_bound else 200
    return render(
        request, "utilization/policy.html", {"nav": "billing", "program": program, "form": form}, status=status
    )
