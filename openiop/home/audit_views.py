"""The audit report (ONC 170.315(d)(3)): filter by user, patient, action and dates; export CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core import audit, searches
from openiop.core.forms import DateInput, StyledFormMixin
from openiop.core.models import AuditAction, AuditEvent
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap
from openiop.patients.models import Patient

PAGE_SIZE = 50


class AuditFilterForm(StyledFormMixin, forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, to_field_name="public_id", empty_label="Anyone"
    )
    mrn = forms.CharField(label="Patient MRN", required=False, max_length=32)
    action = forms.TypedChoiceField(
        choices=[("", "Any action"), *AuditAction.choices], required=False, coerce=int, empty_value=None
    )
    date_from = forms.DateField(label="From", required=False, widget=DateInput())
    date_to = forms.DateField(label="To", required=False, widget=DateInput())

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization_id = organization_id
        self.fields["user"].queryset = User.objects.filter(organization_id=organization_id).order_by(  # type: ignore[attr-defined]
            "last_name", "first_name"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date must be on or after the start date.")
        mrn = (data.get("mrn") or "").strip()
        data["patient"] = None
        if mrn:
            patient = Patient.objects.filter(organization_id=self.organization_id, mrn__iexact=mrn).first()
            if patient is None:
                self.add_error("mrn", "No patient in this organization has that MRN.")
            data["patient"] = patient
        return data


def _filtered(form: AuditFilterForm) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.filter(organization_id_ref=form.organization_id).select_related("actor", "patient")
    data = form.cleaned_data
    if data.get("user"):
        qs = qs.filter(actor=data["user"])
    if data.get("patient"):
        qs = qs.filter(patient=data["patient"])
    if data.get("action") is not None:
        qs = qs.filter(action=data["action"])
    tz = timezone.get_current_timezone()
    if data.get("date_from"):
        qs = qs.filter(occurred_at__gte=datetime.combine(data["date_from"], time.min, tzinfo=tz))
    if data.get("date_to"):
        qs = qs.filter(occurred_at__lt=datetime.combine(data["date_to"] + timedelta(days=1), time.min, tzinfo=tz))
    return qs.order_by("-chain_index")


SEARCH_KIND = "audit"


def _form(request: HttpRequest, data: Any = None) -> tuple[AuditFilterForm, str]:
    """The bound filter form and the query string that repeats it. An MRN is PHI and never travels in a URL: the
    posted filters are kept in the session (``core.searches``) and the URL carries ``?s=<token>``; a GET without a
    token filters by the other fields only, and an ``mrn`` parameter is ignored."""
    user: User = request.user  # type: ignore[assignment]
    organization_id = user.organization_id
    if organization_id is None:  # staff always belong to an organization; the capability check ran first
        raise PermissionDenied
    token = request.GET.get("s", "")
    recalled = searches.recall(request, SEARCH_KIND, token) if token and data is None else None
    if data is None and recalled is not None:
        data, query = recalled, f"s={token}"
    elif data is None:
        params = request.GET.copy()
        for name in ("mrn", "page", "s"):
            params.pop(name, None)
        data, query = params, params.urlencode()
    else:
        query = ""
    form = AuditFilterForm(data or {}, organization_id=organization_id)
    form.is_valid()
    return form, query


@staff_view(Cap.VIEW_AUDIT)
def audit_report(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form, query = _form(request, request.POST)
        if not form.errors:
            token = searches.remember(request, SEARCH_KIND, request.POST, AuditFilterForm.base_fields)
            return redirect(f"{reverse('core:audit_report')}?s={token}")
    else:
        form, query = _form(request)
    # Recorded before the page is counted: the page's rows are read when the template renders, so a row written
    # between the count and that read would push the oldest row off a page whose length was already fixed.
    audit.record(action=AuditAction.AUDIT_VIEWED, acting_user=request.user, object_type="audit_report")  # type: ignore[arg-type]
    page = None
    if not form.errors:
        page = Paginator(_filtered(form), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/audit_report.html", {"nav": "audit", "form": form, "page": page, "query": query})


def _csv_rows(qs: QuerySet[AuditEvent]) -> Iterator[list[str]]:
    yield [
        "chain_index",
        "occurred_at_utc",
        "user",
        "action_code",
        "action",
        "patient_mrn",
        "object_type",
        "object_id",
        "changed_fields",
        "ip_address",
        "request_id",
    ]
    for event in qs.iterator(chunk_size=2000):
        yield [
            str(event.chain_index),
            event.occurred_at.isoformat(),
            event.actor_label,
            str(event.action),
            event.get_action_display(),
            event.patient.mrn if event.patient else "",
            event.object_type,
            event.object_id,
            " ".join(event.changed_fields or []),
            event.ip_address or "",
            event.request_id,
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


@staff_view(Cap.VIEW_AUDIT)
def audit_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form, _ = _form(request)
    if form.errors:
        return render(request, "core/audit_report.html", {"nav": "audit", "form": form, "page": None}, status=400)
    audit.record(action=AuditAction.AUDIT_EXPORTED, acting_user=request.user, object_type="audit_report")  # type: ignore[arg-type]
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _csv_rows(_filtered(form))), content_type="text/csv"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="openiop-audit-{stamp}.csv"'
    return response
