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
    CLINICIAN_IDENTITY_FIELDS,
    PROVIDER_FIELDS,
    RATE_FIELDS,
    RULE_FIELDS,
    SETTING_FIELDS,
    SITE_IDENTITY_FIELDS,
    do_create_fee_rate,
    do_create_payer_rule,
    do_create_payer_setting,
    do_save_billing_provider,
    do_save_clinician_identity,
    do_save_site_identity,
    do_set_payer_rule_active,
    do_update_fee_rate,
    do_update_payer_rule,
    do_update_payer_setting,
)
from openiop.billing.forms import (
    BillableDaysForm,
    BillingProviderForm,
    ClinicianIdentityForm,
    FeeRateForm,
    PayerForm,
    PayerRuleForm,
    PayerSettingForm,
    SiteIdentityForm,
)
from openiop.billing.models import PayerProgramSetting, PayerRule
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.models import AuditAction
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap
from openiop.patients.actions import PAYER_FIELDS, do_create_payer, do_update_payer
from openiop.patients.queries import payer_choices

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


# --- Billing setup ------------------------------------------------------------------------------------------------
# /billing/setup/: the organization's billing identity, its sites' and clinicians' identities, payers, payer
# program settings and the fee schedule. Readers: VIEW_BILLING, MANAGE_BILLING, MANAGE_ORGANIZATION; writers:
# MANAGE_BILLING, MANAGE_ORGANIZATION (403 otherwise); records of another organization are 404s.

SETUP_URL = "billing:setup"
setup_reader = staff_view(any_of=queries.SETUP_READ_CAPS)
setup_writer = staff_view(any_of=queries.SETUP_WRITE_CAPS)


@setup_reader
def setup(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    organization = queries.setup_organization(user)
    return render(
        request,
        "billing/setup.html",
        {
            "nav": "billing",
            "can_write": queries.can_write_setup(user),
            "provider": queries.billing_provider_of(organization),
            "sites": list(queries.sites_for(user)),
            "clinicians": list(queries.clinician_identities_for(user)),
            "payers": list(queries.payers_for(user)),
            "settings": list(queries.payer_settings_for(user)),
            "rates": list(queries.fee_rates_for(user)),
        },
    )


def _setup_form(
    request: HttpRequest, form: Any, title: str, write: Any, done: str, *, section: str, note: str = ""
) -> HttpResponse:
    """Validate, write through the action (its errors land on the form, keeping what was typed), back to the
    overview's section; or the form again (400 when it was refused)."""
    if request.method == "POST" and form.is_valid():
        try:
            changed = write()
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, done if changed is not False else "Nothing changed.")
            return redirect(f"{reverse(SETUP_URL)}#{section}")
    status = 400 if form.is_bound else 200
    context = {"nav": "billing", "form": form, "title": title, "section": section, "note": note}
    return render(request, "billing/setup_form.html", context, status=status)


def _initial(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    values = {}
    for name in names:
        value = getattr(obj, name)
        values[name] = value.public_id if hasattr(value, "public_id") else value
    return values


@setup_writer
def identity_edit(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    organization = queries.setup_organization(user, write=True)
    provider = queries.billing_provider_of(organization)
    initial = _initial(provider, PROVIDER_FIELDS) if provider else {"legal_name": organization.name}
    form = BillingProviderForm(_posted(request), initial=initial)

    def write() -> bool:
        _, changed = do_save_billing_provider(organization, acting_user=user, **form.action_fields())
        return bool(changed) or provider is None

    return _setup_form(
        request, form, "Organization billing identity", write, "Billing identity saved.", section="identity"
    )


@setup_writer
def site_identity_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    site = queries.get_site_for_user(user, public_id, write=True)
    identity = getattr(site, "billing_identity", None)
    form = SiteIdentityForm(_posted(request), initial=_initial(identity, SITE_IDENTITY_FIELDS) if identity else None)

    def write() -> bool:
        _, changed = do_save_site_identity(site, acting_user=user, **form.action_fields())
        return bool(changed) or identity is None

    return _setup_form(request, form, f"Service facility: {site.name}", write, "Site identity saved.", section="sites")


@setup_writer
def clinician_identity_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    organization = queries.setup_organization(user, write=True)
    choices = queries.providers_without_identity(organization)
    form = ClinicianIdentityForm(_posted(request), choices=choices, initial={"may_render": True})

    def write() -> bool:
        data = form.action_fields()
        do_save_clinician_identity(form.cleaned_data["clinician"], acting_user=user, **data)
        return True

    return _setup_form(
        request, form, "New clinician identity", write, "Clinician identity saved.", section="clinicians"
    )


@setup_writer
def clinician_identity_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    identity = queries.get_clinician_identity_for_user(user, public_id, write=True)
    form = ClinicianIdentityForm(_posted(request), initial=_initial(identity, CLINICIAN_IDENTITY_FIELDS))

    def write() -> bool:
        _, changed = do_save_clinician_identity(identity.user, acting_user=user, **form.action_fields())
        return bool(changed)

    title = f"Clinician identity: {identity.user.display_name}"
    return _setup_form(request, form, title, write, "Clinician identity saved.", section="clinicians")


@setup_writer
def payer_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    organization = queries.setup_organization(user, write=True)
    form = PayerForm(_posted(request), initial={"timely_filing_days": 90, "is_active": True})

    def write() -> bool:
        do_create_payer(acting_user=user, organization=organization, **form.action_fields())
        return True

    return _setup_form(request, form, "New payer", write, "Payer added.", section="payers")


@setup_writer
def payer_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    payer = queries.get_payer_for_user(user, public_id, write=True)
    form = PayerForm(_posted(request), initial=_initial(payer, PAYER_FIELDS))

    def write() -> bool:
        return bool(do_update_payer(payer, acting_user=user, **form.action_fields()))

    note = "Coverages already pointing at this payer keep the name they copied until they are edited."
    return _setup_form(request, form, f"Payer: {payer.name}", write, "Payer saved.", section="payers", note=note)


@setup_writer
def payer_setting_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    organization = queries.setup_organization(user, write=True)
    form = PayerSettingForm(
        _posted(request),
        payers=payer_choices(organization),
        programs=queries.organization_programs(organization),
        initial={"claim_type": PayerProgramSetting.ClaimType.INSTITUTIONAL, "is_active": True},
    )

    def write() -> bool:
        data = form.cleaned_data
        do_create_payer_setting(acting_user=user, payer=data["payer"], program=data["program"], **form.action_fields())
        return True

    return _setup_form(request, form, "New payer program settings", write, "Settings added.", section="settings")


@setup_writer
def payer_setting_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    setting = queries.get_payer_setting_for_user(user, public_id, write=True)
    form = PayerSettingForm(_posted(request), initial=_initial(setting, SETTING_FIELDS))

    def write() -> bool:
        return bool(do_update_payer_setting(setting, acting_user=user, **form.action_fields()))

    title = f"Settings: {setting.payer.name}, {setting.program.name}"
    return _setup_form(request, form, title, write, "Settings saved.", section="settings")


@setup_writer
def fee_rate_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    organization = queries.setup_organization(user, write=True)
    form = FeeRateForm(_posted(request), payers=payer_choices(organization), initial={"is_active": True})

    def write() -> bool:
        do_create_fee_rate(acting_user=user, organization=organization, **form.action_fields())
        return True

    return _setup_form(request, form, "New fee schedule rate", write, "Rate added.", section="fees")


@setup_writer
def fee_rate_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    rate = queries.get_fee_rate_for_user(user, public_id, write=True)
    organization = queries.setup_organization(user, write=True)
    form = FeeRateForm(
        _posted(request), payers=payer_choices(organization, rate.payer), initial=_initial(rate, RATE_FIELDS)
    )

    def write() -> bool:
        return bool(do_update_fee_rate(rate, acting_user=user, **form.action_fields()))

    return _setup_form(request, form, f"Rate: {rate}", write, "Rate saved.", section="fees")
