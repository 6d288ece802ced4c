"""Staff screens for notes: the queue (my notes due, my co-signatures, the director's overdue list), an individual
note (new, edit and sign, read with addenda and co-signature), a session's group note (the shared part once, a part
per participant, the facilitators' signatures), and the chart's Notes tab.

Role first (403: VIEW_CLINICAL reads, EDIT_CLINICAL writes), then lookups scoped to the user's programs (404).
Every page that shows a note writes RECORD_VIEWED; the queue and the group note page name several patients, so
they write PATIENTS_LISTED.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, require, staff_view
from openiop.core.roles import Cap
from openiop.notes import actions, group_actions, queries
from openiop.notes.common import active_objectives
from openiop.notes.diagnoses import episode_diagnoses
from openiop.notes.forms import AddendumForm, NoteForm, PartForm, SharedPartForm, note_initial
from openiop.notes.models import GroupNote, ProgressNote, narrative_fields
from openiop.patients.emergency import grant_of
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import get_patient_for_user, visible_episodes
from openiop.programs.signing import signing_refusal


def _note_errors(form: NoteForm | PartForm, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        target = NoteForm.field_for(name)
        form.add_error(target if target in form.fields else None, errors)


# --- The queue --------------------------------------------------------------------------------------------------


@require_GET
@staff_view(Cap.VIEW_CLINICAL)
def queue(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    now = timezone.now()
    programs = program_ids_for(user)
    # Drafts are the author's, sessions the facilitator's: run the two halves with their own filters.
    drafts = [i for i in queries.due_items(programs, author=user, now=now) if i.kind == "note"] if programs else []
    owed = [i for i in queries.due_items(programs, facilitator=user, now=now) if i.kind != "note"] if programs else []
    mine = sorted(drafts + owed, key=lambda i: i.due_at)
    cosign = queries.cosign_queue(user)
    program_overdue = []
    if queries.sees_program_overdue(user) and programs:
        program_overdue = [i for i in queries.due_items(programs, now=now) if i.overdue(now)]
    if mine or cosign or program_overdue:
        audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="note_queue")
    return render(
        request,
        "notes/queue.html",
        {
            "nav": "notes",
            "now": now,
            "mine": mine,
            "cosign": cosign,
            "program_overdue": program_overdue,
            "is_director": queries.sees_program_overdue(user),
        },
    )


# --- Individual notes -------------------------------------------------------------------------------------------


def _episode_choice(user: User, patient: Patient, public_id: str | None) -> EpisodeOfCare:
    episodes = list(visible_episodes(user, patient))
    if public_id:
        for episode in episodes:
            if str(episode.public_id) == public_id:
                return episode
        raise Http404
    open_ones = [e for e in episodes if e.is_open] or episodes
    if not open_ones:
        raise Http404
    return open_ones[0]


@require_http_methods(["GET", "POST"])
@staff_view(Cap.EDIT_CLINICAL)
def note_new(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Start a draft for the patient (from a session with ``?session=``): it opens in the edit form."""
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_CLINICAL)
    episode = _episode_choice(user, patient, request.GET.get("episode") or request.POST.get("episode"))
    session = None
    session_id = request.GET.get("session") or request.POST.get("session")
    if session_id:
        try:
            session = queries.get_session_for_notes(user, session_id, Cap.EDIT_CLINICAL)
        except ValidationError as exc:  # a malformed UUID
            raise Http404 from exc
    if request.method == "GET":
        return render(
            request,
            "notes/new.html",
            {"nav": "patients", "patient": patient, "episode": episode, "session": session},
        )
    try:
        note = actions.do_create_note(patient, acting_user=user, episode=episode, session=session)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(f"{patient.get_absolute_url()}?tab=notes")
    return redirect("notes:edit", note.public_id)


def _note_form_context(
    note: ProgressNote, form: NoteForm, objectives: list[Any], diagnoses: list[Any]
) -> dict[str, Any]:
    return {
        "nav": "patients",
        "note": note,
        "patient": note.patient,
        "form": form,
        "objectives": objectives,
        "diagnoses": diagnoses,
        "format_fields": {f: [n for n, _ in narrative_fields(f)] for f in ("soap", "dap", "birp", "girp")},
        "narrative": [form[name] for name, _ in narrative_fields(note.format)],
        "problems": actions.signing_problems(note, diagnoses) if not form.is_bound else {},
        # Only the author signs a note, so the button answers for them (scope of practice).
        "sign_refusal": signing_refusal(note.author, note.episode.program, "a progress note", handed_over=False),
        "no_plan": actions.objectives_problem(note.episode) if not objectives else "",
        "tz_name": str(note.episode.program.tz()),
        "now": timezone.now(),
    }


@require_http_methods(["GET", "POST"])
@staff_view(Cap.EDIT_CLINICAL)
def note_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The draft's form. "Save" keeps whatever is typed; "Sign" saves, then signs or names what is missing."""
    user = request_user(request)
    note = queries.get_note_for_user(user, public_id, Cap.EDIT_CLINICAL)
    if note.is_group_part and not note.is_late_addition:
        return redirect("notes:group", note.session.public_id)  # type: ignore[union-attr]
    if note.is_locked:
        return redirect("notes:detail", note.public_id)
    if not actions.may_edit_draft(note, user):
        raise PermissionDenied
    objectives = active_objectives(note.episode)
    diagnoses = episode_diagnoses(note.episode)
    program = note.episode.program
    if request.method == "GET":
        form = NoteForm(initial=note_initial(note), program=program, objectives=objectives, diagnoses=diagnoses)
        audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=note.patient, obj=note)
        return render(request, "notes/edit.html", _note_form_context(note, form, objectives, diagnoses))
    form = NoteForm(request.POST, program=program, objectives=objectives, diagnoses=diagnoses)
    if form.is_valid():
        try:
            fields = form.action_fields()
            links = {"objectives": form.cleaned_data["objectives"], "diagnoses": form.cleaned_data["diagnoses"]}
            if note.is_group_part:
                fields.pop("format", None)
                group_actions.do_save_part(note, acting_user=user, confirm_names=True, **links, **fields)
            else:
                actions.do_update_note(note, acting_user=user, **links, **fields)
            if request.POST.get("action") == "sign":
                actions.do_sign_note(note, acting_user=user)
                messages.success(request, "Note signed and locked.")
                return redirect("notes:detail", note.public_id)
        except ValidationError as exc:
            _note_errors(form, exc)
        else:
            messages.success(request, "Draft saved.")
            return redirect("notes:edit", note.public_id)
    note.refresh_from_db()
    return render(request, "notes/edit.html", _note_form_context(note, form, objectives, diagnoses), status=422)


def _detail_context(
    request: HttpRequest, note: ProgressNote, addendum_form: AddendumForm | None = None
) -> dict[str, Any]:
    user = request_user(request)
    return {
        "nav": "patients",
        "note": note,
        "patient": note.patient,
        "narrative": note.narrative(),
        "addendum_form": addendum_form or AddendumForm(),
        "may_cosign": actions.may_cosign(note, user),
        "may_edit": user.can(Cap.EDIT_CLINICAL),  # the addendum to a signed note
        "may_edit_draft": actions.may_edit_draft(note, user),
        "part2": note.episode.program.is_substance_use,
        "tz": note.episode.program.tz(),
        "now": timezone.now(),
    }


@require_GET
@staff_view(Cap.VIEW_CLINICAL)
def note_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    note = queries.get_note_for_user(user, public_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=note.patient, obj=note)
    with timezone.override(note.episode.program.tz()):
        return render(request, "notes/detail.html", _detail_context(request, note))


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def note_cosign(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    note = queries.get_note_for_user(user, public_id, Cap.EDIT_CLINICAL)
    try:
        actions.do_cosign_note(note, acting_user=user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Note co-signed.")
    return redirect("notes:detail", note.public_id)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def note_addendum(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    note = queries.get_note_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            actions.do_add_addendum(
                note, acting_user=user, text=form.cleaned_data["text"], confirm_names=form.cleaned_data["confirm_names"]
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Addendum added.")
            return redirect("notes:detail", note.public_id)
    with timezone.override(note.episode.program.tz()):
        return render(request, "notes/detail.html", _detail_context(request, note, form), status=422)


# --- Group notes ------------------------------------------------------------------------------------------------


def _group_page(
    request: HttpRequest,
    session: Any,
    group_note: GroupNote | None,
    *,
    shared_form: SharedPartForm | None = None,
    part_forms: dict[int, PartForm] | None = None,
    addendum_form: AddendumForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request_user(request)
    program = session.program
    context: dict[str, Any] = {
        "nav": "today",
        "session": session,
        "group_note": group_note,
        "can_write": user.can(Cap.EDIT_CLINICAL),
        "local_start": session.starts_at.astimezone(program.tz()),
        "local_end": session.ends_at.astimezone(program.tz()),
        "tz_name": str(program.tz()),
        "facilitators": list(session.facilitators.all()),
        "now": timezone.now(),
    }
    if group_note is not None:
        view = queries.group_note_view(group_note)
        part_forms = part_forms or {}
        rows = []
        for part in view.parts:
            objectives = view.objectives.get(part.episode_id, [])
            diagnoses = view.diagnoses.get(part.episode_id, [])
            form = part_forms.get(part.pk) or PartForm(
                initial={**note_initial(part)},
                objectives=objectives,
                diagnoses=diagnoses,
                prefix=f"p{part.public_id.hex[:12]}",
            )
            record = view.attendance.get(part.patient_id)
            rows.append(
                {
                    "part": part,
                    "form": form,
                    "narrative": [form[name] for name, _ in narrative_fields(part.format)],
                    "record": record,
                    "diagnoses": diagnoses,
                    "attendance_changed": record is not None and record.status != part.attendance_status,
                    "names_flagged": "confirm_names" in form.errors,
                }
            )
        signed_ids = {s.facilitator_id for s in view.signatures}
        context.update(
            rows=rows,
            signatures=view.signatures,
            has_signed=user.pk in signed_ids,
            sign_refusal=signing_refusal(user, program, "a group note", handed_over=False),
            is_facilitator=user.pk in {f.pk for f in context["facilitators"]},
            frozen=group_note.is_locked or bool(view.signatures),
            shared_form=shared_form
            or SharedPartForm(
                initial={
                    "topic": group_note.topic,
                    "curriculum_item": group_note.curriculum_item_id,
                    "interventions": group_note.interventions,
                },
                program=program,
            ),
            addendum_form=addendum_form or AddendumForm(),
            problems=group_actions.group_signing_problems(group_note) if not group_note.is_locked else {},
            addenda=list(group_note.addenda.select_related("author")),
        )
        audit.record(
            action=AuditAction.PATIENTS_LISTED, acting_user=user, obj=group_note,
            organization_id=program.site.organization_id,
        )  # fmt: skip
    with timezone.override(program.tz()):
        return render(request, "notes/group.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_view(Cap.VIEW_CLINICAL)
def group_note(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """GET: the group note. POST ``action``: start, shared (save the shared part), sign, addendum."""
    user = request_user(request)
    if request.method == "POST":
        require(user, Cap.EDIT_CLINICAL)
    session = queries.get_session_for_notes(user, public_id)
    note = GroupNote.objects.filter(session=session).first()
    if request.method == "GET":
        return _group_page(request, session, note)
    action = request.POST.get("action")
    url = reverse("notes:group", args=[session.public_id])
    try:
        if action == "start":
            group_actions.do_start_group_note(session, acting_user=user)
            messages.success(request, "Group note started: a part for each person who attended.")
            return redirect(url)
        if note is None:
            raise Http404
        if action == "shared":
            form = SharedPartForm(request.POST, program=session.program)
            if form.is_valid():
                try:
                    group_actions.do_save_group_note(note, acting_user=user, **form.cleaned_data)
                except ValidationError as exc:
                    add_action_errors(form, exc)
                else:
                    messages.success(request, "Shared part saved.")
                    return redirect(url)
            return _group_page(request, session, note, shared_form=form, status=422)
        if action == "sign":
            group_actions.do_sign_group_note(note, acting_user=user)
            note.refresh_from_db()
            messages.success(
                request, "Group note locked." if note.is_locked else "Signed; waiting for co-facilitators."
            )
            return redirect(url)
        if action == "addendum":
            addendum = AddendumForm(request.POST)
            if addendum.is_valid():
                try:
                    group_actions.do_add_group_addendum(note, acting_user=user, **addendum.cleaned_data)
                except ValidationError as exc:
                    add_action_errors(addendum, exc)
                else:
                    messages.success(request, "Addendum added to the shared part.")
                    return redirect(url)
            return _group_page(request, session, note, addendum_form=addendum, status=422)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(url)
    raise Http404


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def group_part(request: HttpRequest, public_id: UUID, part_id: UUID) -> HttpResponse:
    """Save one participant's part; a text naming another member comes back with the warning to confirm."""
    user = request_user(request)
    session = queries.get_session_for_notes(user, public_id, Cap.EDIT_CLINICAL)
    note = get_object_or_404(GroupNote, session=session)
    part = get_object_or_404(
        ProgressNote.objects.select_related("patient", "episode"), group_note=note, public_id=part_id
    )
    objectives = active_objectives(part.episode)
    diagnoses = episode_diagnoses(part.episode)
    form = PartForm(request.POST, objectives=objectives, diagnoses=diagnoses, prefix=f"p{part.public_id.hex[:12]}")
    if form.is_valid():
        try:
            group_actions.do_save_part(
                part,
                acting_user=user,
                confirm_names=form.cleaned_data["confirm_names"],
                objectives=form.cleaned_data["objectives"],
                diagnoses=form.cleaned_data["diagnoses"],
                **form.narrative_data(),
            )
            if request.POST.get("action") == "sign" and part.is_late_addition:
                actions.do_sign_note(part, acting_user=user)
        except ValidationError as exc:
            _note_errors(form, exc)
        else:
            messages.success(request, "Part saved.")
            return redirect(f"{reverse('notes:group', args=[session.public_id])}#part-{part.public_id}")
    return _group_page(request, session, note, part_forms={part.pk: form}, status=422)


# --- The chart tab ----------------------------------------------------------------------------------------------


def notes_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for the chart's Notes tab (registered in notes/apps.py, VIEW_CLINICAL): the patient's
    own notes and, for a group part, the shared part of its group note; never another participant's part."""
    user = request_user(request)
    notes = queries.patient_notes(user, patient)
    return {
        "notes": notes,
        "now": timezone.now(),
        # Emergency access reads only (patients/emergency.py).
        "can_write_notes": user.can(Cap.EDIT_CLINICAL) and grant_of(patient) is None,
    }
