"""Staff pages of the referral pipeline: the board, a referral's page and its edits, intake slots, documents,
matching the person to a patient record, and admission.

Roles: reading needs VIEW_PATIENTS; scheduling and the slot list need BOOK_SESSIONS (front desk too); every other
write needs EDIT_CLINICAL (intake coordinators, directors, clinicians). A referral list is a patient list
(PATIENTS_LISTED), a referral page a record view (RECORD_VIEWED); writes are audited by their actions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, staff_view
from openiop.core.roles import Cap
from openiop.patients.queries import find_possible_duplicates, patients_for_user, programs_for_user
from openiop.programs.models import Program
from openiop.referrals import queries
from openiop.referrals.actions import (
    do_add_document,
    do_change_stage,
    do_create_patient_from_referral,
    do_create_referral,
    do_link_patient,
    do_update_referral,
)
from openiop.referrals.admission import admission_message, do_admit, readmission_window_days
from openiop.referrals.booking import (
    SlotTaken,
    do_book_intake,
    do_cancel_intake,
    do_mark_appointment,
    do_publish_slot,
    do_publish_slots,
    do_reschedule_intake,
    do_unpublish_slot,
)
from openiop.referrals.forms import (
    AdmitForm,
    DocumentForm,
    NewPatientForm,
    ReferralForm,
    ScheduleForm,
    SlotBatchForm,
    SlotForm,
    StageForm,
)
from openiop.referrals.models import ADMITTABLE_STAGES, IntakeAppointment, IntakeSlot, Referral
from openiop.referrals.public_forms import PrescreenForm

MATCHABLE_STAGES = (
    Referral.Stage.SCREENING,
    Referral.Stage.SCHEDULED,
    Referral.Stage.ASSESSED,
    Referral.Stage.WAITLISTED,
)
SLOTS_LISTED = 200


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _audit_view(request: HttpRequest, referral: Referral, obj: Any = None) -> None:
    audit.record(
        action=AuditAction.RECORD_VIEWED,
        acting_user=request_user(request),
        patient=referral.patient,
        obj=obj if obj is not None else referral,
        organization_id=referral.organization_id,
    )


# --- Board --------------------------------------------------------------------------------------------------


@staff_view(Cap.VIEW_PATIENTS)
def board(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    programs = list(programs_for_user(user))
    program = next((p for p in programs if str(p.public_id) == request.GET.get("program")), None)
    source = request.GET.get("source", "")
    if source not in Referral.Source.values:
        source = ""
    program_id = program.pk if program is not None else None
    now = timezone.now()
    columns = queries.board(user, program_id=program_id, source=source, now=now)
    figures = queries.metrics(user, program_id=program_id, source=source, now=now)
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="referral")
    return render(
        request,
        "referrals/board.html",
        {
            "nav": "referrals",
            "columns": columns,
            "metrics": figures,
            "programs": programs,
            "program": program,
            "sources": Referral.Source.choices,
            "source": source,
            "now": now,
            "overdue_days": queries.overdue_days(),
        },
    )


@staff_view(Cap.EDIT_CLINICAL)
def referral_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = ReferralForm(_posted(request), user=user, initial={"source": Referral.Source.SELF})
    if request.method == "POST" and form.is_valid():
        try:
            referral = do_create_referral(
                acting_user=user,
                organization=user.organization,  # type: ignore[arg-type]
                **form.action_fields(),
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Referral recorded.")
            return redirect(referral.get_absolute_url())
    return render(request, "referrals/referral_form.html", {"nav": "referrals", "form": form, "referral": None})


# --- One referral -------------------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, referral: Referral, **forms: Any) -> dict[str, Any]:
    user = request_user(request)
    appointments = list(referral.appointments.select_related("slot__site", "slot__program", "slot__assessor"))
    booked = next((a for a in appointments if a.status == IntakeAppointment.Status.BOOKED), None)
    can_edit = user.can(Cap.EDIT_CLINICAL)
    return {
        "nav": "referrals",
        "referral": referral,
        "history": list(referral.stage_changes.select_related("changed_by")),
        "appointments": appointments,
        "booked": booked,
        "documents": list(referral.documents.filter(is_active=True).select_related("uploaded_by")),
        "can_edit": can_edit,
        "can_schedule": user.can(Cap.BOOK_SESSIONS),
        "stage_form": forms.get("stage_form") or (StageForm(referral=referral) if can_edit else None),
        "document_form": forms.get("document_form") or (DocumentForm() if can_edit else None),
        "can_match": can_edit and referral.patient_id is None and referral.stage in MATCHABLE_STAGES,
        "can_admit": can_edit and referral.stage in ADMITTABLE_STAGES,
        "prescreen_rows": [
            (PrescreenForm.base_fields[k].label if k in PrescreenForm.base_fields else k, v)
            for k, v in (referral.prescreen or {}).items()
        ],
        "days_in_stage": referral.days_in_stage(),
        "readmission_days": readmission_window_days(),
        "overdue": referral.is_open and referral.days_in_stage() >= queries.overdue_days(),
    }


@staff_view(Cap.VIEW_PATIENTS)
def referral_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    referral = queries.get_referral_for_user(request_user(request), public_id)
    _audit_view(request, referral)
    return render(request, "referrals/detail.html", _detail_context(request, referral))


def _error_page(request: HttpRequest, referral: Referral, status: int = 400, **forms: Any) -> HttpResponse:
    _audit_view(request, referral)
    return render(request, "referrals/detail.html", _detail_context(request, referral, **forms), status=status)


@staff_view(Cap.EDIT_CLINICAL)
def referral_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    referral = queries.get_referral_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = ReferralForm(_posted(request), user=user, referral=referral)
    if request.method == "POST" and form.is_valid():
        try:
            changed = do_update_referral(referral, acting_user=user, **form.action_fields())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Referral updated." if changed else "Nothing changed.")
            return redirect(referral.get_absolute_url())
    _audit_view(request, referral)
    return render(request, "referrals/referral_form.html", {"nav": "referrals", "form": form, "referral": referral})


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def referral_stage(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    referral = queries.get_referral_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = StageForm(request.POST, referral=referral)
    if form.is_valid():
        try:
            do_change_stage(referral, acting_user=user, **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Stage changed.")
            return redirect(referral.get_absolute_url())
    return _error_page(request, referral, stage_form=form)


# --- Scheduling the intake ----------------------------------------------------------------------------------


def _free_in_programs(user: User) -> Any:
    return (
        IntakeSlot.objects.filter(
            program_id__in=program_ids_for(user),
            is_published=True,
            starts_at__gt=timezone.now(),
            booked_count__lt=F("capacity"),
        )
        .select_related("program", "site")
        .order_by("starts_at", "pk")
    )


@staff_view(Cap.BOOK_SESSIONS)
def referral_schedule(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Book (or move) the referral's intake appointment, e.g. for someone who phoned."""
    user = request_user(request)
    referral = queries.get_referral_for_user(user, public_id, Cap.BOOK_SESSIONS)
    booked = referral.appointments.filter(status=IntakeAppointment.Status.BOOKED).first()
    slots = _free_in_programs(user)
    if referral.program_id is not None:
        slots = slots.filter(program_id=referral.program_id)
    form = ScheduleForm(_posted(request), slots=slots)
    next_slots: list[IntakeSlot] = []
    if request.method == "POST" and form.is_valid():
        slot = form.cleaned_data["slot"]
        try:
            if booked is not None:
                do_reschedule_intake(booked, slot, acting_user=user)
            else:
                do_book_intake(slot, referral=referral, acting_user=user)
        except SlotTaken as exc:
            next_slots = exc.next_slots
            form.add_error("slot", "That slot was just taken. The next free ones are listed.")
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Intake appointment booked." if booked is None else "Intake appointment moved.")
            return redirect(referral.get_absolute_url())
    _audit_view(request, referral)
    return render(
        request,
        "referrals/schedule.html",
        {"nav": "referrals", "referral": referral, "form": form, "booked": booked, "next_slots": next_slots},
    )


@require_POST
@staff_view(Cap.BOOK_SESSIONS)
def appointment_action(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    appointment = queries.get_appointment_for_user(user, public_id)
    referral = appointment.referral
    action = request.POST.get("action", "")
    try:
        if action == "cancel":
            do_cancel_intake(appointment, acting_user=user, reason=request.POST.get("reason", ""))
            messages.success(request, "Appointment cancelled; the slot is free again.")
        elif action in (IntakeAppointment.Status.ATTENDED, IntakeAppointment.Status.NO_SHOW):
            do_mark_appointment(appointment, acting_user=user, status=action)
            messages.success(request, "Appointment updated.")
        else:
            raise ValidationError({"action": "Unknown action."})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(referral.get_absolute_url())


# --- Documents ----------------------------------------------------------------------------------------------


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def document_upload(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    referral = queries.get_referral_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            do_add_document(referral, acting_user=user, upload=form.cleaned_data["file"])
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Document uploaded.")
            return redirect(referral.get_absolute_url())
    return _error_page(request, referral, document_form=form)


@staff_view(Cap.VIEW_PATIENTS)
def document_download(request: HttpRequest, public_id: UUID) -> FileResponse:
    user = request_user(request)
    document = queries.get_document_for_user(user, public_id)
    _audit_view(request, document.referral, obj=document)
    response = FileResponse(
        document.file.open("rb"), as_attachment=True, filename=document.original_name, content_type="application/pdf"
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Matching to a patient record ---------------------------------------------------------------------------


@staff_view(Cap.EDIT_CLINICAL)
def referral_match(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Start intake: show possible duplicates (same legal name and birth date) and link one, or register anew."""
    user = request_user(request)
    referral = queries.get_referral_for_user(user, public_id, Cap.EDIT_CLINICAL)
    if referral.patient_id is not None:
        messages.info(request, "This referral is already linked to a patient record.")
        return redirect(referral.get_absolute_url())
    if referral.stage not in MATCHABLE_STAGES:
        raise PermissionDenied
    new_form = NewPatientForm(
        request.POST if request.POST.get("create") else None,
        user=user,
        initial={"home_program": referral.program},
    )
    matches: list[int] = []
    if referral.date_of_birth is not None:
        matches = list(
            find_possible_duplicates(
                referral.organization_id, referral.first_name, referral.last_name, referral.date_of_birth
            ).values_list("pk", flat=True)
        )
    # Only records the user may open are shown; the rest are a bare count, so nothing leaks.
    visible = list(patients_for_user(user).filter(pk__in=matches).select_related("home_program").order_by("mrn"))
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("patient"):
                chosen = next((p for p in visible if str(p.public_id) == request.POST["patient"]), None)
                if chosen is None:
                    raise Http404
                do_link_patient(referral, acting_user=user, patient=chosen)
                messages.success(request, "Linked to the existing record.")
                return redirect(referral.get_absolute_url())
            if new_form.is_valid():
                do_create_patient_from_referral(
                    referral, acting_user=user, home_program=new_form.cleaned_data["home_program"]
                )
                messages.success(request, "Patient registered and linked.")
                return redirect(referral.get_absolute_url())
        except ValidationError as exc:
            add_action_errors(new_form, exc)
            error = " ".join(exc.messages)
    audit.record(action=AuditAction.PATIENTS_SEARCHED, acting_user=user, object_type="duplicate_check")
    return render(
        request,
        "referrals/match.html",
        {
            "nav": "referrals",
            "referral": referral,
            "duplicates": visible,
            "hidden_count": len(matches) - len(visible),
            "new_form": new_form,
            "error": error,
        },
    )


# --- Admission ----------------------------------------------------------------------------------------------


@staff_view(Cap.EDIT_CLINICAL)
def referral_admit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    referral = queries.get_referral_for_user(user, public_id, Cap.EDIT_CLINICAL)
    if referral.stage not in ADMITTABLE_STAGES:
        messages.error(request, "Only an assessed or waitlisted referral can be admitted.")
        return redirect(referral.get_absolute_url())
    programs = programs_for_user(user)
    program = programs.filter(pk=referral.program_id or 0).first() or programs.first()
    if program is None:
        raise Http404
    wanted = request.POST.get("program") if request.method == "POST" else None
    if wanted:
        program = get_object_or_404(programs, pk=wanted) if wanted.isdigit() else program
    form = AdmitForm(
        _posted(request),
        user=user,
        program=program,
        initial={"program": program, "admitted_on": program.now().date()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            episode = do_admit(referral, acting_user=user, **data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, admission_message(episode))
            return redirect(episode.patient.get_absolute_url() + "?tab=episodes")
    _audit_view(request, referral)
    return render(request, "referrals/admit.html", {"nav": "referrals", "referral": referral, "form": form})


# --- Intake slots -------------------------------------------------------------------------------------------


@staff_view(Cap.BOOK_SESSIONS)
def slot_list(request: HttpRequest) -> HttpResponse:
    """Upcoming intake slots (booked counts only, no names) and the forms to publish more."""
    user = request_user(request)
    can_publish = user.can(Cap.EDIT_CLINICAL)
    programs = programs_for_user(user)
    single = SlotForm(request.POST if request.POST.get("kind") == "single" else None, programs=programs, prefix="one")
    batch = SlotBatchForm(
        request.POST if request.POST.get("kind") == "batch" else None, programs=programs, prefix="batch"
    )
    if request.method == "POST":
        if not can_publish:
            raise PermissionDenied
        if _publish(request, user, single, batch):
            return redirect("referrals:slots")
    since = timezone.now() - timedelta(hours=12)
    slots = list(queries.slots_for_user(user).filter(starts_at__gte=since).order_by("starts_at", "pk")[:SLOTS_LISTED])
    return render(
        request,
        "referrals/slots.html",
        {"nav": "referrals", "slots": slots, "single": single, "batch": batch, "can_publish": can_publish},
    )


def _publish(request: HttpRequest, user: User, single: SlotForm, batch: SlotBatchForm) -> bool:
    try:
        if single.is_bound and single.is_valid():
            d = single.cleaned_data
            program: Program = d["program"]
            starts = datetime.combine(d["day"], d["start"], tzinfo=program.tz())
            do_publish_slot(
                acting_user=user,
                program=program,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=d["minutes"]),
                assessor=d["assessor"],
                capacity=d["capacity"],
            )
            messages.success(request, "Slot published.")
            return True
        if batch.is_bound and batch.is_valid():
            d = batch.cleaned_data
            result = do_publish_slots(
                acting_user=user,
                program=d["program"],
                first_day=d["first_day"],
                last_day=d["last_day"],
                weekdays=d["weekdays"],
                times=d["times"],
                minutes=d["minutes"],
                assessor=d["assessor"],
                capacity=d["capacity"],
            )
            skipped = f" ({result.skipped} already published)" if result.skipped else ""
            messages.success(request, f"{len(result.created)} slots published{skipped}.")
            return True
    except ValidationError as exc:
        add_action_errors(single if single.is_bound else batch, exc)
    return False


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def slot_unpublish(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    slot = queries.get_slot_for_user(user, public_id, Cap.EDIT_CLINICAL)
    do_unpublish_slot(slot, acting_user=user)
    messages.success(
        request,
        "Slot taken off the public list." + (" Its booked person keeps the appointment." if slot.booked_count else ""),
    )
    return redirect("referrals:slots")


# --- The chart's Referrals tab (to be registered in referrals/apps.py) -------------------------------------------


def referrals_tab(request: HttpRequest, patient: Any, episodes: Any) -> dict[str, Any]:
    """The patient's referrals in the user's programs, newest first, with the readmission flag (chart-audited)."""
    rows = list(
        queries.referrals_for_user(request_user(request)).filter(patient=patient).select_related("program", "episode")
    )
    return {"patient_referrals": rows, "readmission_days": readmission_window_days()}
