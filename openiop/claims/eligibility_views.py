"""Eligibility pages: "Check eligibility" from the Insurance tab, the check's page (the 270 to download, the 271 to
upload, what the payer answered), and "Apply dates". Access in ``claims.eligibility``: requesting and uploading
need EDIT_COVERAGE or MANAGE_BILLING, reading EDIT_COVERAGE, VIEW_BILLING or MANAGE_BILLING (clinicians 403);
patients outside the user's programs 404. Every read of an answer is audited."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.claims import eligibility
from openiop.claims.eligibility_models import EligibilityCheck
from openiop.core.forms import StyledFormMixin, add_action_errors
from openiop.core.models import AuditAction
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap
from openiop.patients.models import Coverage


class ResponseForm(StyledFormMixin, forms.Form):
    file = forms.FileField(label="271 file from the payer or clearinghouse", required=False)
    content = forms.CharField(label="…or paste the 271", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None:
            if upload.size > eligibility.MAX_BYTES:
                raise ValidationError({"file": "The file is larger than an eligibility response can be."})
            try:
                data["text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError({"file": "The file is not text (X12 files are plain text)."}) from None
        elif (data.get("content") or "").strip():
            data["text"] = data["content"].strip()
        else:
            raise ValidationError({"file": "Choose the 271 file, or paste its text."})
        return data


def _chart(coverage: Coverage) -> str:
    return coverage.patient.get_absolute_url() + "?tab=insurance"


def _refused(request: HttpRequest, exc: ValidationError, to: str) -> HttpResponse:
    for message in exc.messages:
        messages.error(request, message)
    return redirect(to)


@require_POST
@staff_view(Cap.VIEW_PATIENTS, any_of=eligibility.REQUEST_CAPS)
def eligibility_request(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Write the 270 for the coverage and open the check's page (or back to the tab saying what stops it)."""
    user = request_user(request)
    coverage = eligibility.get_coverage_for_user(user, public_id)
    try:
        check = eligibility.do_request_eligibility(coverage, acting_user=user)
    except ValidationError as exc:
        return _refused(request, exc, _chart(coverage))
    messages.success(request, "Eligibility inquiry (270) written: send it, then upload the payer's 271 here.")
    return redirect("claims:eligibility_detail", public_id=check.public_id)


def _page(request: HttpRequest, check: EligibilityCheck, form: ResponseForm, status: int = 200) -> HttpResponse:
    user = request_user(request)
    eligibility.record_read(user, check)
    context = {
        "nav": "patients",
        "check": check,
        "patient": check.coverage.patient,
        "coverage": check.coverage,
        "result": check.result,
        "coinsurance": eligibility.percent(check.result.get("coinsurance")),
        "benefits": [{**b, "percent": eligibility.percent(b["percent"])} for b in check.result.get("benefits", [])],
        "headline": eligibility.headline(check),
        "form": form,
        "can_write": any(user.can(c) for c in eligibility.REQUEST_CAPS),
        "can_apply": user.can(Cap.EDIT_COVERAGE)
        and check.status == EligibilityCheck.Status.ANSWERED
        and bool(check.result.get("coverage_from") or check.result.get("coverage_to")),
    }
    return render(request, "claims/eligibility.html", context, status=status)


@staff_view(any_of=eligibility.READ_CAPS)
def eligibility_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    check = eligibility.get_check_for_user(request_user(request), public_id)
    return _page(request, check, ResponseForm())


@staff_view(any_of=eligibility.READ_CAPS)
def eligibility_download(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The 270, to send through the clearinghouse's portal (the file-based exchange)."""
    user = request_user(request)
    check = eligibility.get_check_for_user(user, public_id)
    eligibility.record_read(user, check, AuditAction.EXPORTED)
    file = check.request_file
    response = HttpResponse(file.content, content_type="application/edi-x12")
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response


@require_POST
@staff_view(any_of=eligibility.REQUEST_CAPS)
def eligibility_response(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Upload (or paste) the 271; a refused file is a 400 on the same page, saying why."""
    user = request_user(request)
    check = eligibility.get_check_for_user(user, public_id, *eligibility.REQUEST_CAPS)
    form = ResponseForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            eligibility.do_record_response(check, form.cleaned_data["text"], acting_user=user)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "The payer's answer (271) is recorded.")
            return redirect("claims:eligibility_detail", public_id=check.public_id)
    return _page(request, check, form, status=400)


@require_POST
@staff_view(Cap.EDIT_COVERAGE)
def eligibility_apply_dates(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    check = eligibility.get_check_for_user(user, public_id, Cap.EDIT_COVERAGE)
    try:
        changed = eligibility.do_apply_dates(check, acting_user=user)
    except ValidationError as exc:
        return _refused(request, exc, reverse("claims:eligibility_detail", args=[check.public_id]))
    messages.success(request, "Coverage dates updated from the payer's answer." if changed else "Dates already match.")
    return redirect(_chart(check.coverage))
