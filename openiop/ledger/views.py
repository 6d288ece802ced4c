"""The chart's Ledger tab (entries, balances, record a payment, adjust), and the patient statement PDF.

Reading needs VIEW_BILLING or RECORD_PAYMENTS (billing, directors and auditors read; the front desk reads and takes
payments); clinicians get 403, another organization's patient 404. Adjustments need MANAGE_BILLING."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.models import AuditAction
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap
from openiop.ledger import actions
from openiop.ledger.forms import AdjustmentForm, PaymentForm, StatementForm
from openiop.ledger.ledger import Ledger, build_ledger
from openiop.ledger.queries import READ_CAPS, ledger_patient
from openiop.patients.models import EpisodeOfCare, Patient

STATEMENT_DAYS = 90


def ledger_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    user = request_user(request)
    patient = ledger_patient(user, patient.public_id)  # 404 under an emergency grant: care, not money
    return {
        "ledger": build_ledger(patient, user),
        "payment_form": PaymentForm(),
        "adjustment_form": AdjustmentForm(),
        "can_record": user.can(Cap.RECORD_PAYMENTS),
        "can_adjust": user.can(Cap.MANAGE_BILLING),
    }


def _back(patient: Patient) -> HttpResponse:
    return redirect(f"{patient.get_absolute_url()}?tab=ledger")


def _form_page(request: HttpRequest, patient: Patient, form: Any, title: str) -> HttpResponse:
    """The refused form again, with what was typed, posting back to the same address."""
    cancel = f"{patient.get_absolute_url()}?tab=ledger"
    context = {"nav": "patients", "patient": patient, "form": form, "title": title, "cancel_url": cancel}
    return render(request, "patients/record_form.html", context, status=400)


@require_POST
@staff_view(Cap.RECORD_PAYMENTS)
def record_payment(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = ledger_patient(user, public_id, Cap.RECORD_PAYMENTS)
    form = PaymentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = actions.do_record_patient_payment(
                patient,
                acting_user=user,
                amount=data["amount"],
                method=data["method"],
                on=data["on"],
                reference=data["reference"],
                refund=data["refund"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, f"{entry.get_kind_display()} of ${abs(entry.amount):,.2f} recorded.")
            return _back(patient)
    return _form_page(request, patient, form, "Record a payment")


@require_POST
@staff_view(Cap.MANAGE_BILLING)
def adjust(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = ledger_patient(user, public_id, Cap.MANAGE_BILLING)
    form = AdjustmentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.do_adjust(
                patient,
                acting_user=user,
                amount=data["amount"],
                share=data["share"],
                reason=data["reason"],
                on=data["on"],
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Adjustment recorded.")
            return _back(patient)
    return _form_page(request, patient, form, "Adjust the balance")


def statement_context(patient: Patient, ledger: Ledger, start: date, end: date) -> dict[str, Any]:
    """The statement: the lines of the period, what came before it as one opening balance, what insurance paid in
    the period, and what the patient owes at its end."""
    before = [line for line in ledger.lines if line.on < start]
    lines = [line for line in ledger.lines if start <= line.on <= end]
    program = patient.home_program
    site = program.site
    return {
        "patient": patient,
        "organization": patient.organization,
        "site": site,
        "start": start,
        "end": end,
        "lines": lines,
        "opening": sum((line.patient_amount for line in before), Decimal(0)),
        "insurance_paid": -sum((line.amount for line in lines if line.kind == "insurance"), Decimal(0)),
        "charges": sum((line.amount for line in lines if line.kind == "charge"), Decimal(0)),
        "patient_owes": sum((line.patient_amount for line in ledger.lines if line.on <= end), Decimal(0)),
        "printed": timezone.localdate(),
    }


@staff_view(any_of=READ_CAPS)
def statement(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The patient statement as a PDF (recorded as an export; the file name carries no name)."""
    from openiop.discharge.pdf import render_pdf

    user = request_user(request)
    patient = ledger_patient(user, public_id)
    form = StatementForm(request.GET)
    if not form.is_valid():
        return HttpResponse("; ".join(str(e) for errors in form.errors.values() for e in errors), status=400)
    end = form.cleaned_data["end"] or timezone.localdate()
    start = form.cleaned_data["start"] or end - timedelta(days=STATEMENT_DAYS)
    context = statement_context(patient, build_ledger(patient, user), start, end)
    data = render_pdf("ledger/pdf/statement.html", context)
    audit.record(action=AuditAction.EXPORTED, acting_user=user, patient=patient, object_type="statement")
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="statement-{end:%Y-%m-%d}.pdf"'
    response["Cache-Control"] = "no-store, private"
    return response
