"""Discharge pages: the chart's Discharge tab, start, the summary page (draft sections saved through HTMX, sign),
follow-up outcomes, the staff follow-ups list, the summary PDF and the patient's aftercare copy, the program KPIs.

Reading needs VIEW_CLINICAL, writing EDIT_CLINICAL; lookups are scoped to the episode's program (404 outside it),
so a substance-use program's discharge summaries stay with its own staff (42 CFR Part 2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.consents.disclosures import Copy, CopyRefused, authorize_copy
from openiop.consents.models import DataClass
from openiop.consents.views import copy_form, copy_refused
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.htmx import is_htmx
from openiop.core.models import AuditAction
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap
from openiop.discharge import actions, kpis, pdf
from openiop.discharge.forms import (
    FollowUpForm,
    RelapsePlanForm,
    SafetyPlanForm,
    StartForm,
    StepDownForm,
    SummaryForm,
    SupportsForm,
)
from openiop.discharge.models import AftercarePlan, DischargeSummary, FollowUp
from openiop.discharge.queries import (
    aftercare_for,
    follow_up_worklist,
    follow_ups_for,
    get_follow_up_for_user,
    get_summary_for_user,
    patient_discharges,
)
from openiop.patients import events
from openiop.patients.emergency import grant_of
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import get_episode_for_user
from openiop.programs.queries import get_program_for_user


def _audit_view(request: HttpRequest, summary: DischargeSummary, object_type: str = "") -> None:
    audit.record(
        action=AuditAction.RECORD_VIEWED,
        acting_user=request_user(request),
        patient=summary.patient,
        obj=summary,
        object_type=object_type,
    )


# --- Chart tab ------------------------------------------------------------------------------------------------


def discharge_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for the chart's Discharge tab (registered in discharge/apps.py, VIEW_CLINICAL)."""
    user = request_user(request)
    rows = patient_discharges(user, patient)
    can_edit = user.can(Cap.EDIT_CLINICAL) and patient.is_active and grant_of(patient) is None
    return {
        "discharge_rows": rows,
        "can_start_discharge": can_edit,
        "start_form": StartForm(initial={"discharge_on": timezone.localdate()}),
    }


def _tell_consequences(request: HttpRequest, done: list[events.Consequence]) -> None:
    """What the discharge did elsewhere (sessions cancelled, seats offered, reminders, tasks), so staff see it."""
    if done:
        messages.info(request, f"Discharge carried out: {events.describe(done)}.")


# --- Start ----------------------------------------------------------------------------------------------------


@staff_view(Cap.EDIT_CLINICAL)
def start(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    episode = get_episode_for_user(user, public_id, Cap.EDIT_CLINICAL)
    existing = DischargeSummary.objects.filter(episode=episode).first()
    if existing is not None:
        return redirect(existing.get_absolute_url())
    initial: dict[str, Any] = {"discharge_on": episode.program.now().date()}
    if episode.status == EpisodeOfCare.Status.DISCHARGED:
        initial = {"discharge_on": episode.discharged_on, "reason": episode.discharge_reason}
    form = StartForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        done: list[events.Consequence] = []
        try:
            summary = actions.do_start_discharge(episode, acting_user=user, consequences=done, **form.action_fields())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Discharge summary and aftercare plan drafted.")
            _tell_consequences(request, done)
            return redirect(summary.get_absolute_url())
    audit.record(
        action=AuditAction.RECORD_VIEWED, acting_user=user, patient=episode.patient, obj=episode,
        object_type="discharge_start",
    )  # fmt: skip
    status = 422 if request.method == "POST" else 200
    context = {"nav": "patients", "patient": episode.patient, "episode": episode, "form": form}
    return render(request, "discharge/start.html", context, status=status)


# --- The summary page -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    slug: str
    heading: str
    build: Callable[[DischargeSummary, AftercarePlan, Any], BaseForm]
    save: Callable[..., list[str]]


SECTIONS = [
    Section("summary", "Discharge summary", lambda s, p, d: SummaryForm(d, summary=s), actions.do_update_summary),
    Section(
        "step_down",
        "Step-down and next appointment",
        lambda s, p, d: StepDownForm(d, plan=p, tz=s.episode.program.tz()),
        actions.do_update_aftercare,
    ),
    Section("supports", "Support groups, medications, family", lambda s, p, d: SupportsForm(d, plan=p),
            actions.do_update_aftercare),
    Section("safety", "Safety plan", lambda s, p, d: SafetyPlanForm(d, value=p.safety_plan or {}),
            actions.do_update_aftercare),
    Section("relapse", "Relapse-prevention plan", lambda s, p, d: RelapsePlanForm(d, value=p.relapse_prevention or {}),
            actions.do_update_aftercare),
]  # fmt: skip
_SECTIONS = {s.slug: s for s in SECTIONS}


def _detail_context(
    request: HttpRequest, summary: DischargeSummary, forms: dict[str, BaseForm] | None = None
) -> dict[str, Any]:
    user = request_user(request)
    plan = aftercare_for(summary)
    follow_ups = follow_ups_for(summary)
    editing = not summary.is_signed and plan is not None and user.can(Cap.EDIT_CLINICAL)
    forms = forms or {}
    sections = [(s, forms.get(s.slug) or s.build(summary, plan, None)) for s in SECTIONS] if editing and plan else []
    can_record = user.can(Cap.EDIT_CLINICAL)
    return {
        "nav": "patients",
        **pdf.document_context(summary, plan, follow_ups),
        "sections": sections,
        "editing": editing,
        "problems": actions.signing_problems(summary, plan) if editing else {},
        "follow_up_rows": [
            (f, forms.get(f"follow_up_{f.pk}") or FollowUpForm(prefix_id=str(f.pk)) if can_record else None)
            for f in follow_ups
        ],
        "today": summary.episode.program.now().date(),
    }


@staff_view(Cap.VIEW_CLINICAL)
def detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    summary = get_summary_for_user(request_user(request), public_id)
    _audit_view(request, summary)
    context = _detail_context(request, summary)
    context["copy_form"] = copy_form(request, summary.patient)  # who a printed copy is for (the PDFs ask)
    return render(request, "discharge/detail.html", context)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def save_section(request: HttpRequest, public_id: UUID, section: str) -> HttpResponse:
    user = request_user(request)
    spec = _SECTIONS.get(section)
    if spec is None:
        raise Http404
    summary = get_summary_for_user(user, public_id, Cap.EDIT_CLINICAL)
    plan = aftercare_for(summary)
    if plan is None:
        raise Http404
    form = spec.build(summary, plan, request.POST)
    saved = False
    if form.is_valid():
        target = summary if spec.slug == "summary" else plan
        try:
            spec.save(target, acting_user=user, **form.action_fields())  # type: ignore[attr-defined]
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            saved = True
    if not is_htmx(request):
        if saved:
            messages.success(request, f"{spec.heading} saved.")
            return redirect(summary.get_absolute_url())
        _audit_view(request, summary)
        context = _detail_context(request, summary, {spec.slug: form})
        return render(request, "discharge/detail.html", context, status=422)
    summary = get_summary_for_user(user, public_id, Cap.EDIT_CLINICAL)
    context = {
        "summary": summary,
        "section": spec,
        "form": form,
        "saved": saved,
        "problems": actions.signing_problems(summary, aftercare_for(summary)),
        "oob_sign": True,
    }
    # 200 even with errors: HTMX swaps only successful responses, and the fragment carries the errors.
    return render(request, "discharge/partials/section.html", context)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def sign(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    summary = get_summary_for_user(user, public_id, Cap.EDIT_CLINICAL)
    done: list[events.Consequence] = []
    try:
        actions.do_sign_discharge(summary, acting_user=user, consequences=done)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(summary.get_absolute_url())
    messages.success(request, "Discharge summary signed; the episode is discharged and the follow-ups are scheduled.")
    _tell_consequences(request, done)
    return redirect(summary.get_absolute_url())


# --- Follow-ups -----------------------------------------------------------------------------------------------


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def record_follow_up(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    follow_up = get_follow_up_for_user(user, public_id)
    form = FollowUpForm(request.POST, prefix_id=str(follow_up.pk))
    saved = False
    if form.is_valid():
        try:
            follow_up = actions.do_record_follow_up(
                follow_up, acting_user=user, result=actions.FollowUpResult(**form.result_fields())
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            saved = True
    if is_htmx(request):
        follow_up = get_follow_up_for_user(user, public_id)
        context = {"f": follow_up, "form": None if saved else form, "saved": saved, "today": _today(follow_up)}
        return render(request, "discharge/partials/follow_up.html", context)
    summary = DischargeSummary.objects.filter(episode_id=follow_up.episode_id).first()
    if saved:
        messages.success(request, "Follow-up recorded.")
        if summary is not None:
            return redirect(summary.get_absolute_url())
        return redirect("discharge:follow_ups")
    if summary is None:
        raise Http404
    _audit_view(request, summary)
    context = _detail_context(request, summary, {f"follow_up_{follow_up.pk}": form})
    return render(request, "discharge/detail.html", context, status=422)


def _today(follow_up: FollowUp) -> date:
    return follow_up.episode.program.now().date()


@staff_view(Cap.VIEW_CLINICAL)
def follow_ups(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    rows = follow_up_worklist(user)
    if any(not r.is_empty for r in rows):
        audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="discharge_follow_ups")
    return render(
        request,
        "discharge/follow_ups.html",
        {"nav": "follow_ups", "program_rows": rows, "can_record": user.can(Cap.EDIT_CLINICAL)},
    )


# --- PDFs -----------------------------------------------------------------------------------------------------


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _copy(request: HttpRequest, summary: DischargeSummary) -> Copy:
    """Who the printed copy is for (``?to=``): a copy for someone outside the clinic needs their consent and goes
    on the accounting of disclosures; the clinic's file and the patient's own copy do not."""
    return authorize_copy(
        request.GET, summary.patient, request_user(request), data_classes=[DataClass.DISCHARGE_SUMMARY],
        episode=summary.episode,
    )  # fmt: skip


@staff_view(Cap.VIEW_CLINICAL)
def summary_pdf(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    summary = get_summary_for_user(user, public_id)
    try:
        copy = _copy(request, summary)
    except CopyRefused as refusal:
        return copy_refused(request, summary.patient, refusal)
    context = pdf.document_context(summary, aftercare_for(summary), follow_ups_for(summary))
    data = pdf.render_summary_pdf({**context, "notice": copy.notice})
    audit.record(
        action=AuditAction.EXPORTED, acting_user=user, patient=summary.patient, obj=summary, changed_fields=["pdf"]
    )
    copy.record(user, "Discharge summary")
    return _pdf_response(data, f"discharge-summary-{summary.discharge_on:%Y-%m-%d}.pdf")


@staff_view(Cap.VIEW_CLINICAL)
def aftercare_pdf(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The patient's copy: the aftercare plan and crisis resources only, nothing else from the record."""
    user = request_user(request)
    summary = get_summary_for_user(user, public_id)
    plan = aftercare_for(summary)
    if plan is None:
        raise Http404
    try:
        copy = _copy(request, summary)
    except CopyRefused as refusal:
        return copy_refused(request, summary.patient, refusal)
    data = pdf.render_patient_copy_pdf({**pdf.document_context(summary, plan, []), "notice": copy.notice})
    audit.record(
        action=AuditAction.EXPORTED, acting_user=user, patient=summary.patient, obj=plan, changed_fields=["pdf"]
    )
    copy.record(user, "Aftercare plan (patient copy)")
    return _pdf_response(data, f"aftercare-plan-{summary.discharge_on:%Y-%m-%d}.pdf")


# --- Program KPIs ---------------------------------------------------------------------------------------------


@staff_view(Cap.VIEW_CENSUS)
def program_kpis(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Aggregates only (no names), so not audited, like the attendance report."""
    user = request_user(request)
    program = get_program_for_user(user, public_id, Cap.VIEW_CENSUS)
    today = program.now().date()
    try:
        start = date.fromisoformat(request.GET.get("start", "")) if request.GET.get("start") else None
        end = date.fromisoformat(request.GET.get("end", "")) if request.GET.get("end") else None
    except ValueError:
        start = end = None
    end = end or today
    start = start or end - timedelta(days=180)
    if start > end:
        start, end = end, start
    report = kpis.program_kpis(program, start=start, end=end, today=today)
    return render(request, "discharge/kpis.html", {"nav": "reports", "report": report, "program": program})
