"""Public Book Now pages (no account): the programs, a short pre-screen, an intake slot, the person's details.

Progress lives in the session, never in URLs (which carry only public program ids and, for the emailed manage
link, a secret token). A "yes" to the safety question stops everything and shows crisis resources: nothing is
stored but a per-day counter. Every page carries the crisis resources in its footer.
"""

from __future__ import annotations

import contextlib
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.models import AuditAction
from openiop.programs.models import Organization, Program, Track
from openiop.referrals import ratelimit
from openiop.referrals.booking import (
    SlotTaken,
    do_book_now,
    do_cancel_intake,
    do_reschedule_intake,
    find_by_token,
    free_slots,
)
from openiop.referrals.models import CrisisStopCount, IntakeSlot, slot_summary
from openiop.referrals.public_forms import CancelForm, DetailsForm, PrescreenForm, RescheduleForm, SlotPickForm

FLOW_KEY = "openiop_booknow"
DONE_KEY = "openiop_booknow_done"
CRISIS_ORG_KEY = "openiop_booknow_crisis_org"
SLOTS_SHOWN = 30
# The seed's "who can benefit" list, said to the reader.
WHO_FOR = [
    "You have finished inpatient treatment and want ongoing support.",
    "You have moderate symptoms of a mental health or substance use condition.",
    "You have a stable place to live and people who support you.",
    "You can commit to attending sessions regularly.",
    "You want intensive care without putting work, school or family life on hold.",
]


def _programs(organization: Organization) -> list[Program]:
    return list(
        Program.objects.filter(site__organization=organization, is_active=True, site__is_active=True)
        .select_related("site")
        .order_by("name")
    )


def _public_program(public_id: UUID) -> Program:
    return get_object_or_404(
        Program.objects.select_related("site__organization").filter(is_active=True, site__is_active=True),
        public_id=public_id,
    )


def _tracks(program: Program) -> list[Track]:
    return list(Track.objects.filter(program=program, is_active=True).order_by("start_time", "name"))


def _render(
    request: HttpRequest, template: str, organization: Organization | None, status: int = 200, **context: Any
) -> HttpResponse:
    return render(request, f"referrals/public/{template}", {"organization": organization, **context}, status=status)


def _flow(request: HttpRequest, program: Program) -> dict[str, Any] | None:
    flow = request.session.get(FLOW_KEY)
    if not flow or flow.get("program") != str(program.public_id) or "prescreen" not in flow:
        return None
    return flow


def _commitment(tracks: list[Track], program: Program) -> str:
    if not tracks:
        return ""
    options = "; ".join(f"{t.get_kind_display().lower()}: {t.schedule_label}" for t in tracks)
    return f"Sessions run {options}, for up to {program.max_length_weeks} weeks."


# --- Programs -----------------------------------------------------------------------------------------------


def index(request: HttpRequest) -> HttpResponse:
    """One organization with programs (the usual single-clinic deployment): its programs; several: pick one."""
    organizations = list(
        Organization.objects.filter(sites__programs__is_active=True, sites__is_active=True).distinct().order_by("name")
    )
    if len(organizations) == 1:
        return organization_page(request, organizations[0].public_id)
    return _render(request, "organizations.html", None, organizations=organizations)


def organization_page(request: HttpRequest, org_id: UUID) -> HttpResponse:
    organization = get_object_or_404(Organization, public_id=org_id)
    programs = _programs(organization)
    if not programs:
        raise Http404
    return _render(request, "programs.html", organization, programs=programs)


def program_page(request: HttpRequest, program_id: UUID) -> HttpResponse:
    program = _public_program(program_id)
    tracks = _tracks(program)
    return _render(
        request,
        "program.html",
        program.site.organization,
        program=program,
        tracks=tracks,
        who_for=WHO_FOR,
        has_slots=free_slots(program).exists(),
    )


# --- Pre-screen and the crisis stop -------------------------------------------------------------------------


@never_cache
def prescreen(request: HttpRequest, program_id: UUID) -> HttpResponse:
    program = _public_program(program_id)
    organization = program.site.organization
    commitment = _commitment(_tracks(program), program)
    form = PrescreenForm(request.POST if request.method == "POST" else None, commitment=commitment)
    if request.method == "POST":
        if form.signals_danger:
            _record_crisis_stop(organization)
            request.session.pop(FLOW_KEY, None)
            request.session[CRISIS_ORG_KEY] = str(organization.public_id)
            return redirect("book:crisis")
        if form.is_valid():
            request.session[FLOW_KEY] = {
                "program": str(program.public_id),
                "prescreen": form.answers(),
                "result": form.result(),
            }
            return redirect("book:times", program_id=program.public_id)
    return _render(request, "prescreen.html", organization, program=program, form=form)


@transaction.atomic
def _record_crisis_stop(organization: Organization) -> None:
    """A counter and an anonymous audit row: how often the flow stopped, never who or from which answers."""
    today = timezone.localdate()
    row, _ = CrisisStopCount.objects.get_or_create(organization=organization, day=today)
    CrisisStopCount.objects.filter(pk=row.pk).update(count=F("count") + 1)
    audit.record(
        action=AuditAction.CREATED,
        acting_user=None,
        object_type="booknow_crisis_stop",
        changed_fields=["count"],
        organization_id=organization.pk,
    )


@never_cache
def crisis(request: HttpRequest) -> HttpResponse:
    org_id = request.session.get(CRISIS_ORG_KEY)
    organization = Organization.objects.filter(public_id=org_id).first() if org_id else None
    return _render(request, "crisis.html", organization)


# --- Slot and details ---------------------------------------------------------------------------------------


def _shown_slots(program: Program) -> Any:
    return free_slots(program)[:SLOTS_SHOWN]


@never_cache
def times(request: HttpRequest, program_id: UUID) -> HttpResponse:
    program = _public_program(program_id)
    flow = _flow(request, program)
    if flow is None:
        return redirect("book:prescreen", program_id=program.public_id)
    slots = free_slots(program)
    form = SlotPickForm(
        request.POST if request.method == "POST" else None, slots=slots, initial={"slot": flow.get("slot")}
    )
    if request.method == "POST" and form.is_valid():
        flow["slot"] = str(form.cleaned_data["slot"].public_id)
        request.session[FLOW_KEY] = flow
        return redirect("book:details", program_id=program.public_id)
    return _render(
        request,
        "times.html",
        program.site.organization,
        program=program,
        form=form,
        slots=list(slots[:SLOTS_SHOWN]),
        review=flow["result"] == "review",
    )


def _details_slots(program: Program, chosen: str | None) -> Any:
    """The free slots, plus the chosen one even when it just filled (so the error names it, not "invalid")."""
    free = Q(starts_at__gt=timezone.now(), booked_count__lt=F("capacity"))
    if chosen:
        with contextlib.suppress(ValueError):
            free |= Q(public_id=UUID(str(chosen)))
    return (
        IntakeSlot.objects.filter(free, program=program, is_published=True)
        .select_related("site", "program")
        .order_by("starts_at", "pk")
    )


@never_cache
def details(request: HttpRequest, program_id: UUID) -> HttpResponse:
    program = _public_program(program_id)
    organization = program.site.organization
    flow = _flow(request, program)
    if flow is None:
        return redirect("book:prescreen", program_id=program.public_id)
    if not flow.get("slot"):
        return redirect("book:times", program_id=program.public_id)
    chosen = request.POST.get("slot") if request.method == "POST" else flow["slot"]
    form = DetailsForm(
        request.POST if request.method == "POST" else None,
        slots=_details_slots(program, chosen),
        initial={"slot": flow["slot"]},
    )
    next_slots: list[IntakeSlot] = []
    if request.method == "POST":
        if form.is_bot:
            # Pretend it worked, store nothing: a bot learns nothing from the answer.
            slot = IntakeSlot.objects.filter(public_id=flow["slot"]).select_related("site", "program__site").first()
            return _finish(request, slot, email="")
        if form.is_valid():
            # Counted only once the form is valid: a typo sent back with its errors is not an attempt.
            if not ratelimit.hit(request):
                return _render(request, "rate_limited.html", organization, status=429)
            slot = form.cleaned_data["slot"]
            try:
                result = do_book_now(
                    slot, details=form.details(), prescreen=flow["prescreen"], prescreen_result=flow["result"]
                )
            except SlotTaken as exc:
                next_slots = exc.next_slots
                form.fields["slot"].queryset = _details_slots(program, None)  # type: ignore[attr-defined]
                form.add_error(
                    "slot", "Sorry, that time was just taken by someone else. Pick one of the next free times."
                )
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                return _finish(request, result.appointment.slot, email=result.referral.email)
    return _render(request, "details.html", organization, program=program, form=form, next_slots=next_slots)


def _finish(request: HttpRequest, slot: IntakeSlot | None, *, email: str) -> HttpResponse:
    request.session.pop(FLOW_KEY, None)
    done = slot_summary(slot) if slot is not None else {}
    done.update(emailed=bool(email), org=str(slot.program.site.organization.public_id) if slot else "")
    request.session[DONE_KEY] = done
    return redirect("book:done")


@never_cache
def done(request: HttpRequest) -> HttpResponse:
    booked = request.session.get(DONE_KEY)
    if not booked:
        return redirect("book:index")
    organization = Organization.objects.filter(public_id=booked.get("org")).first() if booked.get("org") else None
    return _render(request, "done.html", organization, booked=booked)


# --- The emailed manage link --------------------------------------------------------------------------------


@never_cache
def manage(request: HttpRequest, token: str) -> HttpResponse:
    appointment = find_by_token(token)
    if appointment is None:
        return _render(request, "manage_gone.html", None, status=404)
    slot = appointment.slot
    program = slot.program
    organization = program.site.organization
    action = request.POST.get("action") if request.method == "POST" else None
    slots = free_slots(program).exclude(pk=slot.pk)
    reschedule = RescheduleForm(request.POST if action == "reschedule" else None, slots=slots)
    cancel = CancelForm(request.POST if action == "cancel" else None)
    next_slots: list[IntakeSlot] = []
    # As on the details page, only a valid change counts towards the limit.
    submitted = {"cancel": cancel, "reschedule": reschedule}.get(action or "")
    if submitted is not None and submitted.is_valid() and not ratelimit.hit(request, "manage"):
        return _render(request, "rate_limited.html", organization, status=429)
    if action == "cancel" and cancel.is_valid():
        do_cancel_intake(appointment, acting_user=None, reason="Cancelled through the emailed link")
        request.session[DONE_KEY] = {"cancelled": True, "org": str(organization.public_id)}
        return redirect("book:done")
    if action == "reschedule" and reschedule.is_valid():
        try:
            moved, _ = do_reschedule_intake(appointment, reschedule.cleaned_data["slot"], acting_user=None, token=token)
        except SlotTaken as exc:
            next_slots = exc.next_slots
            reschedule.add_error("slot", "Sorry, that time was just taken by someone else. Pick another.")
        except ValidationError as exc:
            add_action_errors(reschedule, exc)
        else:
            messages_done = slot_summary(moved.slot)
            messages_done.update(emailed=bool(moved.referral.email), org=str(organization.public_id), moved=True)
            request.session[DONE_KEY] = messages_done
            return redirect("book:done")
    audit.record(
        action=AuditAction.RECORD_VIEWED,
        acting_user=None,
        obj=appointment,
        organization_id=organization.pk,
    )
    return _render(
        request,
        "manage.html",
        organization,
        appointment=appointment,
        booked=slot_summary(slot),
        reschedule=reschedule,
        cancel=cancel,
        next_slots=next_slots,
        manage_path=reverse("book:manage", args=[token]),
    )
