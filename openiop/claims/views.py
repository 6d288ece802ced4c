"""Claims pages: the list (filters, status totals, export of the chosen ready claims), building a period's claims,
one claim (lines, scrubber problems, history, files, corrections), the X12 files (download, import of 999 and
277CA), and the submission setup. Reading needs VIEW_BILLING, writing MANAGE_BILLING (403); other organizations'
and programs' claims are 404."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.claims import actions, queries, secondary
from openiop.claims.forms import (
    BuildForm,
    DenialActionForm,
    DenialFilterForm,
    FilterForm,
    ImportForm,
    ProfileForm,
    ReasonForm,
    ReportForm,
    StatusForm,
)
from openiop.claims.models import Claim, SubmissionProfile
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.models import AuditAction
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap
from openiop.patients.models import Coverage
from openiop.utilization.queries import authorization_watch

PAGE_SIZE = 100


def _organization(request: HttpRequest) -> Any:
    user = request_user(request)
    if user.organization is None:
        raise Http404
    return user.organization


@staff_view(Cap.VIEW_BILLING)
def claim_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = FilterForm(request.GET or None, user=user)
    f = queries.ClaimFilter()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        f = queries.ClaimFilter(data["status"], data["payer"], None, data["date_from"], data["date_to"])
    rows = list(queries.list_claims(user, f)[:PAGE_SIZE])
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="claims")
    status = 400 if form.is_bound and form.errors else 200
    context = {
        "nav": "billing",
        "form": form,
        "claims": rows,
        "statuses": _status_tiles(queries.status_counts(user)),
        "denial_count": queries.denial_count(user),
        "can_write": user.can(Cap.MANAGE_BILLING),
        "page_size": PAGE_SIZE,
    }
    return render(request, "claims/list.html", context, status=status)


@staff_view(Cap.MANAGE_BILLING)
def claim_build(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = BuildForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = actions.do_build_claims(
                acting_user=user,
                program=data["program"],
                payer=data["payer"],
                start=data["period_start"],
                end=data["period_end"],
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            if result.created:
                messages.success(
                    request,
                    f"{len(result.created)} claim(s) built: {result.ready} ready, "
                    f"{len(result.created) - result.ready} with problems to fix.",
                )
            else:
                messages.info(request, "No unclaimed billable days of this payer in the period.")
            for why in result.skipped:
                messages.warning(request, why)
            return redirect(reverse("claims:list") + f"?payer={data['payer'].pk}")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "claims/build.html", {"nav": "billing", "form": form}, status=status)


@staff_view(Cap.VIEW_BILLING)
def claim_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    claim = queries.get_claim_for_user(user, public_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=claim.patient, obj=claim)
    context = {
        "nav": "billing",
        "claim": claim,
        "lines": list(claim.lines.select_related("rendering")),
        "events": list(claim.events.select_related("by", "file")),
        "files": list(claim.files.all()),
        "replacements": list(claim.replacements.all()),
        "payments": queries.payments_of(claim),
        "can_write": user.can(Cap.MANAGE_BILLING),
        "reason_form": ReasonForm(),
        "status_form": StatusForm(),
        **_coordination(claim, can_write=user.can(Cap.MANAGE_BILLING)),
    }
    return render(request, "claims/detail.html", context)


def _coordination(claim: Claim, *, can_write: bool) -> dict[str, Any]:
    """The claim's place among the patient's payers: the claim it is secondary to (with that payer's answer), the
    claims billed after it, and for billing whether the next payer may be billed now (or why not yet)."""
    primary = claim.primary_claim if claim.primary_claim_id else None
    secondaries = list(claim.secondary_claims.select_related("payer"))
    context: dict[str, Any] = {
        "primary": primary,
        "primary_answer": secondary.adjudication(primary) if primary is not None else None,
        "primary_payments": queries.payments_of(primary) if primary is not None else [],
        "secondaries": secondaries,
        "next_payer": "",
    }
    if can_write and not any(c.is_live for c in secondaries) and secondary.next_coverage_exists(claim):
        priority = secondary.next_priority(claim)
        context["next_payer"] = Coverage.Priority(priority).label.lower() if priority else ""
        context["next_payer_refusal"] = secondary.why_not(claim)
    return context


def _status_tiles(counts: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One tile per status, in the lifecycle's order, with its count and charges (zero when none)."""
    return [
        {
            "value": value,
            "label": label,
            "n": counts.get(value, {}).get("n", 0),
            "charged": counts.get(value, {}).get("charged"),
        }
        for value, label in Claim.Status.choices
    ]


def _back(claim: Claim) -> HttpResponse:
    return redirect("claims:detail", public_id=claim.public_id)


def _refused(request: HttpRequest, claim: Claim, exc: ValidationError) -> HttpResponse:
    for message in exc.messages:
        messages.error(request, message)
    return _back(claim)


@require_POST
@staff_view(Cap.MANAGE_BILLING)
def claim_rescrub(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    claim = queries.get_claim_for_user(user, public_id, Cap.MANAGE_BILLING)
    try:
        problems = actions.do_rescrub(claim, acting_user=user)
    except ValidationError as exc:
        return _refused(request, claim, exc)
    messages.success(request, "Scrubbed clean: ready to send." if not problems else f"{len(problems)} problem(s).")
    return _back(claim)


@require_POST
@staff_view(Cap.MANAGE_BILLING)
def claim_correct(request: HttpRequest, public_id: UUID, how: str) -> HttpResponse:
    """Void (frequency 8, or simply withdrawn when never sent) or replace (frequency 7)."""
    user = request_user(request)
    claim = queries.get_claim_for_user(user, public_id, Cap.MANAGE_BILLING)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why.")
        return _back(claim)
    reason = form.cleaned_data["reason"]
    try:
        if how == "void":
            made = actions.do_void(claim, acting_user=user, reason=reason)
        else:
            made = actions.do_replace(claim, acting_user=user, reason=reason)
    except ValidationError as exc:
        return _refused(request, claim, exc)
    if made is None:
        messages.success(request, "Voided; its days may be billed again.")
        return _back(claim)
    messages.success(request, f"{made.get_frequency_display()} {made.control_number} built.")
    return redirect("claims:detail", public_id=made.public_id)


@require_POST
@staff_view(Cap.MANAGE_BILLING)
def claim_secondary(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Bill the patient's next payer for what this claim's payer left (a secondary claim), then show it."""
    user = request_user(request)
    claim = queries.get_claim_for_user(user, public_id, Cap.MANAGE_BILLING)
    try:
        made = actions.do_build_secondary(claim, user)
    except ValidationError as exc:
        return _refused(request, claim, exc)
    messages.success(request, f"Claim {made.control_number} to {made.payer.name} built: {made.get_status_display()}.")
    return redirect("claims:detail", public_id=made.public_id)


@require_POST
@staff_view(Cap.MANAGE_BILLING)
def claim_status(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    claim = queries.get_claim_for_user(user, public_id, Cap.MANAGE_BILLING)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to record.")
        return _back(claim)
    try:
        actions.do_set_status(
            claim, acting_user=user, status=form.cleaned_data["status"], note=form.cleaned_data["note"]
        )
    except ValidationError as exc:
        return _refused(request, claim, exc)
    messages.success(request, "Recorded.")
    return _back(claim)


@require_POST
@staff_view(Cap.MANAGE_BILLING)
def claim_export(request: HttpRequest) -> HttpResponse:
    """Write one validated 837 file of the ready claims ticked on the list."""
    user = request_user(request)
    organization = _organization(request)
    ids = request.POST.getlist("claim")
    claims = list(queries.claims_for_user(user).filter(public_id__in=_uuids(ids)))
    try:
        exported = actions.do_export_claims(claims, acting_user=user, organization=organization)
    except actions.ExportBlocked as blocked:
        messages.error(request, "The file was not written: " + "; ".join(blocked.problems[:10]))
        return redirect("claims:list")
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("claims:list")
    messages.success(request, f"837 file written and validated: {exported.file.summary}.")
    return redirect("claims:file_detail", public_id=exported.file.public_id)


def _uuids(values: list[str]) -> list[UUID]:
    out = []
    for value in values:
        try:
            out.append(UUID(value))
        except ValueError:
            continue
    return out


def _files_page(request: HttpRequest, form: ImportForm, status: int = 200) -> HttpResponse:
    user = request_user(request)
    files = list(queries.files_for_user(user).order_by("-created_at")[:PAGE_SIZE])
    context = {"nav": "billing", "files": files, "form": form, "can_write": user.can(Cap.MANAGE_BILLING)}
    return render(request, "claims/files.html", context, status=status)


@staff_view(Cap.VIEW_BILLING)
def file_list(request: HttpRequest) -> HttpResponse:
    return _files_page(request, ImportForm())


@require_POST
@staff_view(Cap.MANAGE_BILLING)
def file_import(request: HttpRequest) -> HttpResponse:
    """Import a 999, 277CA or 835: each file once, applied in one transaction (acks.py)."""
    user = request_user(request)
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            text = form.cleaned_data["file"].read().decode("utf-8")
        except UnicodeDecodeError:
            form.add_error("file", "The file is not text (X12 files are plain text).")
        else:
            try:
                imported = actions.do_import_acknowledgement(
                    text, acting_user=user, organization=_organization(request)
                )
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, f"{imported.file.get_kind_display()} imported: {imported.file.summary}.")
                return redirect("claims:file_detail", public_id=imported.file.public_id)
    return _files_page(request, form, status=400)


@staff_view(Cap.VIEW_BILLING)
def file_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    file = queries.get_file_for_user(user, public_id)
    claims = list(file.claims.select_related("patient", "payer").order_by("number"))
    remittances = [
        (r, queries.claim_payments(user, r)) for r in file.remittances.prefetch_related("provider_adjustments")
    ]
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, obj=file)
    context = {"nav": "billing", "file": file, "claims": claims, "remittances": remittances}
    return render(request, "claims/file.html", context)


@staff_view(Cap.VIEW_BILLING)
def denials(request: HttpRequest) -> HttpResponse:
    """The denials work queue: denied claims and denied lines, their reasons in codes and words, oldest first to
    work; appeal, correct or void from each row (MANAGE_BILLING)."""
    user = request_user(request)
    form = DenialFilterForm(request.GET or None, user=user)
    payer, reason = None, ""
    if form.is_bound and form.is_valid():
        payer, reason = form.cleaned_data["payer"], form.cleaned_data["reason"] or ""
    rows = queries.denials(user, payer, reason)
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="claim denials")
    context = {
        "nav": "billing",
        "form": form,
        "rows": rows[:PAGE_SIZE],
        "total": len(rows),
        "page_size": PAGE_SIZE,
        "can_write": user.can(Cap.MANAGE_BILLING),
    }
    return render(request, "claims/denials.html", context, status=400 if form.is_bound and form.errors else 200)


@require_POST
@staff_view(Cap.MANAGE_BILLING)
def denial_act(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Appeal, replace or void a denied claim (or the claim of a denied line) from the queue, then back to it."""
    user = request_user(request)
    claim = queries.get_claim_for_user(user, public_id, Cap.MANAGE_BILLING)
    form = DenialActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an action and say why.")
        return redirect("claims:denials")
    action, reason = form.cleaned_data["action"], form.cleaned_data["reason"]
    try:
        if action == "appeal":
            actions.do_set_status(claim, acting_user=user, status=Claim.Status.APPEALED, note=reason)
            made = None
        elif action == "replace":
            made = actions.do_replace(claim, acting_user=user, reason=reason)
        else:
            made = actions.do_void(claim, acting_user=user, reason=reason)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, f"{claim.control_number}: {message}")
        return redirect("claims:denials")
    done = {"appeal": "appealed", "replace": "corrected", "void": "voided"}[action]
    messages.success(request, f"{claim.control_number} {done}" + (f": {made.control_number} built." if made else "."))
    return redirect("claims:denials")


@staff_view(Cap.VIEW_BILLING)
def file_download(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    file = queries.get_file_for_user(user, public_id)
    audit.record(action=AuditAction.EXPORTED, acting_user=user, obj=file, changed_fields=[file.kind])
    response = HttpResponse(file.content, content_type="application/edi-x12")
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response


@staff_view(Cap.MANAGE_BILLING)
def submission_setup(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    organization = _organization(request)
    profile = SubmissionProfile.objects.filter(organization=organization).first()
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.organization = organization
        saved.save()
        audit.record(
            action=AuditAction.CONFIG_CHANGED, acting_user=user, obj=saved, changed_fields=list(form.changed_data)
        )
        messages.success(request, "Submission setup saved.")
        return redirect("claims:list")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "claims/setup.html", {"nav": "billing", "form": form}, status=status)


REPORTS = ("aging", "denials", "programs", "authorizations")


def _report_csv(user: Any, report: str, start: date, end: date) -> HttpResponse:
    """One section of the revenue report as CSV (aggregates: no patient is named)."""
    from openiop.claims import reports

    if report not in REPORTS:
        return HttpResponse(f"Choose a report: {', '.join(REPORTS)}.", status=400, content_type="text/plain")
    audit.record(action=AuditAction.EXPORTED, acting_user=user, object_type=f"report_{report}", changed_fields=["csv"])
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{report}-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
    writer = csv.writer(response)
    if report == "aging":
        aging = reports.aging(user, end)
        writer.writerow(["payer", *[label for _, _, label in reports.BUCKETS], "total", "claims"])
        for row in aging.rows:
            writer.writerow([row.payer, *row.buckets, row.total, row.claims])
        writer.writerow(["all payers", *aging.totals, aging.total, sum(r.claims for r in aging.rows)])
    elif report == "denials":
        denials = reports.denials(user, start, end)
        writer.writerow(["group", "reason", "text", "claims", "amount"])
        for d in denials.rows:
            writer.writerow([d.group, d.reason, d.text, d.claims, d.amount])
        writer.writerow(["all", "", f"{denials.denied} of {denials.adjudicated} claims denied", denials.denied, ""])
    elif report == "programs":
        writer.writerow(["program", "billed", "paid", "paid share %"])
        for p in reports.billed_and_paid(user, start, end):
            writer.writerow([p.program, p.billed, p.paid, "" if p.paid_share is None else p.paid_share])
    else:
        writer.writerow(["payer", "ending soon", "few units left", "over", "review due"])
        for w in authorization_watch(user):
            writer.writerow([w.payer, w.expiring, w.units_low, w.over, w.review_due])
    return response


@staff_view(Cap.VIEW_BILLING)
def revenue_report(request: HttpRequest) -> HttpResponse:
    """A/R aging by payer, days in A/R, denials by reason and billed against paid per program (reports.py); the
    aging as CSV with ``?format=csv``. Aggregates of the user's programs: no patient is named."""
    from openiop.claims import reports

    user = request_user(request)
    today = timezone.localdate()
    form = ReportForm(request.GET or None, initial={"start": today - timedelta(days=89), "end": today})
    start, end = today - timedelta(days=89), today
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    if request.GET.get("format") == "csv":
        return _report_csv(user, request.GET.get("report") or "aging", start, end)
    context = {
        "nav": "billing",
        "form": form,
        "aging": reports.aging(user, end),
        "buckets": [label for _, _, label in reports.BUCKETS],
        "denials": reports.denials(user, start, end),
        "programs": reports.billed_and_paid(user, start, end),
        "watch": authorization_watch(user),
        "start": start,
        "end": end,
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "claims/reports.html", context, status=status)
