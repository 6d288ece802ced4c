"""Break-the-glass pages: find a patient outside one's programs, state the emergency, open the chart read-only for
a limited time; and the review page where directors and privacy officers sign each access off.

The rules are in ``emergency.py``. The lookup travels by POST, so an MRN or a name never sits in a URL or a log.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from openiop.accounts.http import request_user
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.models import AuditAction
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap
from openiop.patients import emergency
from openiop.patients.forms import EmergencyGrantForm, EmergencyLookupForm, EmergencyReviewForm
from openiop.patients.models import Patient
from openiop.patients.views import record_type_label

REVIEW_PAGE_SIZE = 50


def _confirm_page(request: HttpRequest, patient: Patient, form: EmergencyGrantForm) -> HttpResponse:
    needs_part2 = emergency.has_part2_records(patient) and not emergency.part2_consent.get()(patient)
    return render(
        request,
        "patients/emergency_confirm.html",
        {
            "nav": "patients",
            "patient": patient,
            "form": form,
            "needs_part2": needs_part2,
            "minutes": emergency.access_minutes(),
        },
    )


@staff_view(Cap.VIEW_PATIENTS, Cap.REQUEST_EMERGENCY_ACCESS)
def emergency_access(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    step = request.POST.get("step") if request.method == "POST" else None
    lookup = EmergencyLookupForm(request.POST if step == "lookup" else None)
    if step == "lookup" and lookup.is_valid():
        data = lookup.cleaned_data
        patient = emergency.find_patient(
            user, mrn=data["mrn"] or "", last=data["last"] or "", first=data["first"] or "", dob=data["dob"]
        )
        # One row per lookup, naming the patient found (if any), never what was typed.
        audit.record(
            action=AuditAction.PATIENTS_SEARCHED, acting_user=user, patient=patient, object_type="emergency_lookup"
        )
        if patient is None:
            lookup.add_error(None, "No single patient matches. Check the MRN, or the exact legal name and birth date.")
        elif emergency.in_users_programs(user, patient):
            messages.info(request, "This patient is in your programs: no emergency access is needed.")
            return redirect(patient.get_absolute_url())
        elif current := emergency.active_grants_for(user).filter(patient=patient).order_by("-expires_at").first():
            # One grant per emergency: a second lookup while it lasts opens the chart rather than asking again.
            until = timezone.localtime(current.expires_at).strftime("%H:%M")
            messages.info(request, f"Your emergency access to this chart is in force until {until}.")
            return redirect(patient.get_absolute_url())
        else:
            form = EmergencyGrantForm(initial={"patient": patient.public_id})
            return _confirm_page(request, patient, form)
    if step == "grant":
        return _grant(request)
    active = list(emergency.active_grants_for(user).order_by("-expires_at"))
    if active:
        # The list names patients: one row for the request, as any patient list.
        audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="emergencyaccessgrant")
    return render(request, "patients/emergency_lookup.html", {"nav": "patients", "form": lookup, "active": active})


def _grant(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = EmergencyGrantForm(request.POST)
    public_id = request.POST.get("patient", "")
    if user.organization_id is None:
        raise Http404
    try:
        patient = Patient.objects.select_related("home_program").get(
            public_id=UUID(public_id), organization_id=user.organization_id
        )
    except (ValueError, Patient.DoesNotExist):
        raise Http404 from None
    if emergency.in_users_programs(user, patient):
        return redirect(patient.get_absolute_url())
    if emergency.active_grants_for(user).filter(patient=patient).exists():
        return redirect(patient.get_absolute_url())  # the form sent twice: the first grant stands
    if form.is_valid():
        try:
            grant = emergency.do_grant_emergency_access(patient, acting_user=user, **form.action_fields())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.warning(request, f"Emergency access granted for {emergency.access_minutes()} minutes.")
            return redirect(grant.patient.get_absolute_url())
    return _confirm_page(request, patient, form)


@staff_view(Cap.REVIEW_EMERGENCY_ACCESS)
def emergency_reviews(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    reviewed = request.GET.get("show") == "reviewed"
    grants = list(
        emergency.grants_for_reviewer(user, reviewed=reviewed).order_by("-reviewed_at" if reviewed else "granted_at")[
            :REVIEW_PAGE_SIZE
        ]
    )
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="emergencyaccessgrant")
    context: dict[str, Any] = {"nav": "emergency_reviews", "grants": grants, "reviewed": reviewed}
    return render(request, "patients/emergency_reviews.html", context)


@staff_view(Cap.REVIEW_EMERGENCY_ACCESS)
def emergency_review(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    grant = emergency.get_grant_for_reviewer(user, public_id)
    form = EmergencyReviewForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and grant.reviewed_at is None and form.is_valid():
        try:
            emergency.do_review_emergency_access(
                grant, acting_user=user, outcome=form.cleaned_data["outcome"], note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Emergency access reviewed.")
            return redirect("patients:emergency_reviews")
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=grant.patient, obj=grant)
    return render(
        request,
        "patients/emergency_review.html",
        {
            "nav": "emergency_reviews",
            "grant": grant,
            "form": form,
            "own": grant.user_id == user.pk,
            "views": [(e, record_type_label(e.object_type)) for e in emergency.views_under(grant)],
        },
    )
