"""The chart's Reminders tab, the staff edit page, and the patient's own page in the portal.

Staff: reading is the chart's ``VIEW_PATIENTS`` (front desk keeps reminders straight too), editing needs
``EDIT_DEMOGRAPHICS``; the patient is looked up in the user's programs (404 outside). Portal: ``portal_view``
lets only a patient account in, and the page works on ``request.portal_account.patient`` and nobody else.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from openiop.accounts.http import request_user
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.models import AuditAction
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import get_patient_for_user
from openiop.portal.access import portal_view
from openiop.portal.models import AccountKind
from openiop.reminders.actions import do_set_reminder_preferences
from openiop.reminders.forms import PreferencesForm, initial_for
from openiop.reminders.models import ChangeSource
from openiop.reminders.queries import channel_changes, preferences_of, recent_reminders


def _tab_url(patient: Patient) -> str:
    return f"{patient.get_absolute_url()}?tab=reminders"


def reminders_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for the chart's Reminders tab (registered in reminders/apps.py)."""
    user = request_user(request)
    return {
        "reminder_prefs": preferences_of(patient),
        "reminder_changes": channel_changes(patient),
        "reminder_rows": recent_reminders(user, patient),
    }


def _save(request: HttpRequest, form: PreferencesForm, patient: Patient, source: str) -> bool:
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        do_set_reminder_preferences(patient, acting_user=request_user(request), source=source, **form.action_fields())
    except ValidationError as exc:
        add_action_errors(form, exc)
        return False
    messages.success(request, "Reminder preferences saved.")
    return True


@staff_view(Cap.EDIT_DEMOGRAPHICS)
def staff_preferences(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_DEMOGRAPHICS)
    prefs = preferences_of(patient)
    form = PreferencesForm(request.POST if request.method == "POST" else None, initial=initial_for(prefs.preference))
    if _save(request, form, patient, ChangeSource.STAFF):
        return redirect(_tab_url(patient))
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="reminders")
    context = {
        "nav": "patients",
        "patient": patient,
        "form": form,
        "prefs": prefs,
        "title": "Reminder preferences",
        "cancel_url": _tab_url(patient),
    }
    return render(request, "reminders/staff_preferences.html", context)


@portal_view(AccountKind.PATIENT)
def portal_preferences(request: HttpRequest) -> HttpResponse:
    patient: Patient = request.portal_account.patient  # type: ignore[attr-defined]
    prefs = preferences_of(patient)
    form = PreferencesForm(request.POST if request.method == "POST" else None, initial=initial_for(prefs.preference))
    if _save(request, form, patient, ChangeSource.PORTAL):
        return redirect("reminders:portal_preferences")
    context = {
        "nav": "reminders",
        "portal_account": request.portal_account,  # type: ignore[attr-defined]
        "form": form,
        "prefs": prefs,
        "has_email": bool(patient.email),
        "has_phone": bool(patient.phone_mobile),
    }
    return render(request, "reminders/portal_preferences.html", context)
