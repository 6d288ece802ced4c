"""Billing pages: the payer rules (list, create, edit, deactivate) and the billable days of a program and date
range, with totals and a CSV export. Role first (403), then the user's programs (404); writes through actions."""

from __future__ import annotations

import csv
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.billing import queries
from openiop.billing.actions import (
    RULE_FIELDS,
    do_create_payer_rule,
    do_set_payer_rule_active,
    do_update_payer_rule,
)
from openiop.billing.forms import BillableDaysForm, PayerRuleForm
from openiop.billing.models import PayerRule
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.models import AuditAction
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap

LIST_URL = "billing:rules"


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


# --- Payer rules ------------------------------------------------------------------------------------------------


# Logged in and allowed to read payer rules (VIEW_BILLING, MANAGE_BILLING or MANAGE_PROGRAMS), else 403.
rules_reader = staff_view(any_of=queries.RULE_READ_CAPS)


@rules_reader
def rule_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    rules = list(queries.rules_for_user(user))
    writable = {r.pk for r in rules if queries.can_write_rules(user) and queries.may_write_rule(user, r)}
    return render(
        request,
        "billing/rules.html",
        {
            "nav": "billing",
            "rules": rules,
            "writable": writable,
            "can_create": queries.can_write_rules(user)
            and bool(queries.rule_program_ids(user) or queries.can_write_organization_rules(user)),
        },
    )


def _rule_form_page(request: HttpRequest, form: PayerRuleForm, rule: PayerRule | None) -> HttpResponse:
    return render(request, "billing/rule_form.html", {"nav": "billing", "form": form, "rule": rule})


@staff_view(any_of=queries.RULE_WRITE_CAPS)  # every writer is also a reader
def rule_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if user.organization is None:
        raise Http404
    organization = user.organization
    form = PayerRuleForm(_posted(request), user=user, initial={"min_services_per_day": 3})
    if request.method == "POST" and form.is_valid():
        try:
            do_create_payer_rule(acting_user=user, organization=organization, **form.action_fields())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Payer rule added.")
            return redirect(reverse(LIST_URL))
    return _rule_form_page(request, form, None)


@rules_reader
def rule_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    rule = queries.get_rule_for_user(user, public_id, write=True)
    initial = {name: getattr(rule, name) for name in RULE_FIELDS}
    form = PayerRuleForm(_posted(request), user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = do_update_payer_rule(rule, acting_user=user, **form.action_fields())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Payer rule saved." if changed else "Nothing changed.")
            return redirect(reverse(LIST_URL))
    return _rule_form_page(request, form, rule)


@require_POST
@rules_reader
def rule_set_active(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    rule = queries.get_rule_for_user(user, public_id, write=True)
    active = request.POST.get("active") == "1"
    do_set_payer_rule_active(rule, acting_user=user, active=active)
    messages.success(
        request,
        f"{rule.name} {'reactivated' if active else 'deactivated'}. Past billable days keep their decision; run "
        "evaluate_billable_days to decide them again under the rules now active.",
    )
    return redirect(reverse(LIST_URL))


# --- Billable days ----------------------------------------------------------------------------------------------


def _days_query(request: HttpRequest) -> tuple[BillableDaysForm, Any]:
    user = request_user(request)
    form = BillableDaysForm(request.GET or None, user=user)
    if not form.is_bound:
        form = BillableDaysForm({k: form[k].initial for k in ("program", "date_from", "date_to")}, user=user)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    days = queries.billable_days(
        user, data["program"], data["date_from"], data["date_to"], billable_only=data["billable_only"]
    )
    return form, days


@staff_view(Cap.VIEW_BILLING)
def billable_days(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form, days = _days_query(request)
    rows = list(days) if days is not None else []
    if rows:
        audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="billableday")
    return render(
        request,
        "billing/days.html",
        {
            "nav": "billing",
            "form": form,
            "rows": rows,
            "totals": queries.totals(days) if days is not None else None,
        },
    )


CSV_COLUMNS = [
    "date", "mrn", "patient", "payer_kind", "rule", "code", "billable", "tier", "services", "minutes", "reason",
]  # fmt: skip


@staff_view(Cap.VIEW_BILLING)
def billable_days_csv(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form, days = _days_query(request)
    if days is None:
        return render(request, "billing/days.html", {"nav": "billing", "form": form, "rows": []}, status=400)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    program = form.cleaned_data["program"]
    start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    # The file name says what it covers without naming anyone.
    response["Content-Disposition"] = f'attachment; filename="billable-days-{start}-{end}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for day in days:
        rule = day.rule
        writer.writerow(
            [
                day.date.isoformat(),
                day.patient.mrn,
                day.patient.legal_name,
                day.payer_kind,
                rule.name if rule else "",
                rule.code if rule else "",
                "yes" if day.is_billable else "no",
                day.tier,
                day.service_count,
                day.minutes_attended,
                day.reason,
            ]
        )
    # The object is the program (no patient): the export covers many people; the file itself is the record.
    audit.record(
        action=AuditAction.EXPORTED,
        acting_user=user,
        obj=program,
        object_type="billableday",
        changed_fields=CSV_COLUMNS,
    )
    return response
