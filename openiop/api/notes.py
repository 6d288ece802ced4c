"""Notes API: a patient's notes (their own parts of group notes only, with the shared part), a note, drafts,
signing, addenda, co-signature; a session's group note (the shared part, and every part for its facilitators'
view), a participant's part. Same actions and access rules as the pages: VIEW_CLINICAL reads, EDIT_CLINICAL
writes (403), anything outside the user's programs 404. A substance-use program's notes carry ``part2: true``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.api.schemas import ApiIn
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.roles import Cap
from openiop.notes import actions, group_actions, queries
from openiop.notes.common import active_objectives
from openiop.notes.diagnoses import episode_diagnoses
from openiop.notes.models import GroupNote, ProgressNote
from openiop.patients.queries import get_patient_for_user

router = Router(tags=["notes"])


class NoteObjectiveOut(Schema):
    id: UUID
    lineage: UUID
    statement: str


class AddendumOut(Schema):
    id: UUID
    author: str
    credentials: str
    text: str
    signed_at: datetime


class SharedPartOut(Schema):
    id: UUID
    session: UUID
    status: str
    topic: str
    curriculum_item: str | None
    interventions: str
    group_size: int | None
    facilitators: list[str]
    signed_by: list[str]
    addenda: list[AddendumOut]


class NoteDiagnosisOut(Schema):
    id: UUID
    code: str
    description: str
    is_primary: bool


class NoteOut(Schema):
    id: UUID
    patient: UUID
    episode: UUID
    session: UUID | None
    part2: bool = Field(description="A 42 CFR Part 2 record (a substance-use program's note).")
    format: str
    sections: dict[str, str]
    service_date: date
    start_time: datetime | None
    stop_time: datetime | None
    mode: str
    place_of_service: str
    objectives: list[NoteObjectiveOut]
    diagnoses: list[NoteDiagnosisOut]
    risk_level: str
    risk_notes: str
    is_crisis: bool
    attendance_status: str
    minutes_attended: int | None
    participation: str
    is_late_addition: bool
    author: str
    author_credentials: str
    status: str
    signed_at: datetime | None
    cosigned_by: str | None
    cosigned_at: datetime | None
    due_at: datetime
    group_note: SharedPartOut | None
    addenda: list[AddendumOut]


class NoteIn(ApiIn):
    """A draft's fields; those left out keep their value (or, on create, the session's and the program's)."""

    format: str | None = None
    subjective: str | None = None
    objective: str | None = None
    assessment: str | None = None
    data: str | None = None
    behavior: str | None = None
    goal: str | None = None
    intervention: str | None = None
    response: str | None = None
    plan: str | None = None
    service_date: date | None = None
    start_time: datetime | None = None
    stop_time: datetime | None = None
    mode: str | None = None
    place_of_service: str | None = None
    risk_level: str | None = None
    risk_notes: str | None = None
    is_crisis: bool | None = None
    objectives: list[UUID] | None = Field(None, description="Objectives of the plan in force (public ids).")
    diagnoses: list[UUID] | None = Field(
        None,
        description="The episode's diagnoses the service addressed (public ids); a new note starts with the "
        "primary one.",
    )


class NoteCreateIn(NoteIn):
    episode: UUID
    session: UUID | None = None


class PartIn(NoteIn):
    confirm_names: bool = Field(False, description="Save although the text names another group member.")


class SharedIn(ApiIn):
    topic: str | None = Field(None, max_length=120)
    interventions: str | None = None
    confirm_names: bool = False


class AddendumIn(ApiIn):
    text: str
    confirm_names: bool = False


class GroupNoteOut(Schema):
    shared: SharedPartOut
    parts: list[NoteOut] = Field(description="Every participant's part: the facilitators' working view.")


def _addenda(items: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": a.public_id,
            "author": a.author.get_full_name() or a.author.username,
            "credentials": a.author_credentials,
            "text": a.text,
            "signed_at": a.signed_at,
        }
        for a in items
    ]


def _shared(gn: GroupNote, facilitators: list[User]) -> dict[str, Any]:
    return {
        "id": gn.public_id,
        "session": gn.session.public_id,
        "status": gn.status,
        "topic": gn.topic,
        "curriculum_item": gn.curriculum_item.name if gn.curriculum_item else None,
        "interventions": gn.interventions,
        "group_size": gn.group_size,
        "facilitators": [f.display_name for f in facilitators],
        "signed_by": [s.facilitator.display_name for s in gn.signatures.all()],
        "addenda": _addenda(gn.addenda.all()),
    }


def _note(note: ProgressNote) -> dict[str, Any]:
    gn = note.group_note
    return {
        "id": note.public_id,
        "patient": note.patient.public_id,
        "episode": note.episode.public_id,
        "session": note.session.public_id if note.session else None,
        "part2": note.episode.program.is_substance_use,
        "format": note.format,
        "sections": {name: text for name, _, text in note.narrative()},
        **{k: getattr(note, k) for k in ("service_date", "start_time", "stop_time", "mode", "place_of_service",
                                          "risk_level", "risk_notes", "is_crisis", "attendance_status",
                                          "minutes_attended", "participation", "is_late_addition",
                                          "author_credentials", "status", "signed_at", "cosigned_at", "due_at")},
        "objectives": [
            {"id": o.public_id, "lineage": o.lineage, "statement": o.statement} for o in note.objectives.all()
        ],
        "diagnoses": [
            {"id": d.public_id, "code": d.code, "description": d.description, "is_primary": d.is_primary}
            for d in note.diagnoses.all()
        ],
        "author": note.author.get_full_name() or note.author.username,
        "cosigned_by": note.cosigned_by.get_full_name() if note.cosigned_by else None,
        "group_note": _shared(gn, list(note.session.facilitators.all())) if gn is not None and note.session else None,
        "addenda": _addenda(note.addenda.all()),
    }  # fmt: skip


def _fresh(user: User, note: ProgressNote) -> dict[str, Any]:
    return _note(queries.get_note_for_user(user, note.public_id))


def _objectives(episode: Any, ids: list[UUID] | None) -> list[Any] | None:
    if ids is None:
        return None
    allowed = {o.public_id: o for o in active_objectives(episode)}
    missing = [str(i) for i in ids if i not in allowed]
    if missing:
        raise ValidationError({"objectives": "Link only objectives of this person's treatment plan in force."})
    return [allowed[i] for i in ids]


def _diagnoses(episode: Any, ids: list[UUID] | None) -> list[Any] | None:
    if ids is None:
        return None
    allowed = {d.public_id: d for d in episode_diagnoses(episode)}
    if any(i not in allowed for i in ids):
        raise ValidationError({"diagnoses": "Choose only diagnoses of this person's episode of care."})
    return [allowed[i] for i in ids]


def _fields(payload: NoteIn, *exclude: str) -> dict[str, Any]:
    data = payload.dict(exclude_unset=True)
    for name in ("objectives", "diagnoses", "episode", "session", "confirm_names", *exclude):
        data.pop(name, None)
    return data


@router.get("/patients/{patient_id}/notes", response=list[NoteOut])
def patient_notes(request: HttpRequest, patient_id: UUID) -> list[dict[str, Any]]:
    """The patient's own notes in your programs; a group part comes with its shared part, never the others'."""
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id, Cap.VIEW_CLINICAL)
    notes = queries.patient_notes(user, patient)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="notes")
    return [_note(n) for n in notes]


@router.post("/patients/{patient_id}/notes", response={201: NoteOut})
def create_note(request: HttpRequest, patient_id: UUID, payload: NoteCreateIn) -> Status[dict[str, Any]]:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id, Cap.EDIT_CLINICAL)
    from openiop.patients.queries import visible_episodes

    episode = next((e for e in visible_episodes(user, patient) if e.public_id == payload.episode), None)
    if episode is None:
        raise ValidationError({"episode": "Choose one of this person's episodes in your programs."})
    session = queries.get_session_for_notes(user, payload.session, Cap.EDIT_CLINICAL) if payload.session else None
    note = actions.do_create_note(
        patient,
        acting_user=user,
        episode=episode,
        session=session,
        objectives=_objectives(episode, payload.objectives),
        diagnoses=_diagnoses(episode, payload.diagnoses),
        **_fields(payload),
    )
    return Status(201, _fresh(user, note))


@router.get("/notes/{note_id}", response=NoteOut)
def read_note(request: HttpRequest, note_id: UUID) -> dict[str, Any]:
    user = request_user(request)
    note = queries.get_note_for_user(user, note_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=note.patient, obj=note)
    return _note(note)


@router.patch("/notes/{note_id}", response=NoteOut)
def update_note(request: HttpRequest, note_id: UUID, payload: PartIn) -> dict[str, Any]:
    """Change a draft; a participant's part is saved through the name guard (``confirm_names`` to override)."""
    user = request_user(request)
    note = queries.get_note_for_user(user, note_id, Cap.EDIT_CLINICAL)
    links = {
        "objectives": _objectives(note.episode, payload.objectives),
        "diagnoses": _diagnoses(note.episode, payload.diagnoses),
    }
    if note.is_group_part:
        group_actions.do_save_part(
            note, acting_user=user, confirm_names=payload.confirm_names, **links, **_fields(payload, "format")
        )
    else:
        actions.do_update_note(note, acting_user=user, **links, **_fields(payload))
    return _fresh(user, note)


@router.post("/notes/{note_id}/sign", response=NoteOut)
def sign_note(request: HttpRequest, note_id: UUID) -> dict[str, Any]:
    """Sign and lock; a 422 names every required field still missing."""
    user = request_user(request)
    note = queries.get_note_for_user(user, note_id, Cap.EDIT_CLINICAL)
    actions.do_sign_note(note, acting_user=user)
    return _fresh(user, note)


@router.post("/notes/{note_id}/cosign", response=NoteOut)
def cosign_note(request: HttpRequest, note_id: UUID) -> dict[str, Any]:
    user = request_user(request)
    note = queries.get_note_for_user(user, note_id, Cap.EDIT_CLINICAL)
    actions.do_cosign_note(note, acting_user=user)
    return _fresh(user, note)


@router.post("/notes/{note_id}/addenda", response={201: NoteOut})
def add_addendum(request: HttpRequest, note_id: UUID, payload: AddendumIn) -> Status[dict[str, Any]]:
    user = request_user(request)
    note = queries.get_note_for_user(user, note_id, Cap.EDIT_CLINICAL)
    actions.do_add_addendum(note, acting_user=user, text=payload.text, confirm_names=payload.confirm_names)
    return Status(201, _fresh(user, note))


def _group(user: User, session_id: UUID, cap: Cap = Cap.VIEW_CLINICAL) -> GroupNote:
    session = queries.get_session_for_notes(user, session_id, cap)
    return get_object_or_404(GroupNote.objects.select_related("session", "curriculum_item"), session=session)


def _group_out(user: User, gn: GroupNote) -> dict[str, Any]:
    facilitators = list(gn.session.facilitators.all())
    parts = queries.with_details(queries.notes_for_user(user).filter(group_note=gn)).order_by(
        "patient__legal_last_name", "patient__legal_first_name"
    )
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, obj=gn)
    return {"shared": _shared(gn, facilitators), "parts": [_note(p) for p in parts]}


@router.get("/sessions/{session_id}/group-note", response=GroupNoteOut)
def read_group_note(request: HttpRequest, session_id: UUID) -> dict[str, Any]:
    user = request_user(request)
    return _group_out(user, _group(user, session_id))


@router.post("/sessions/{session_id}/group-note", response={201: GroupNoteOut})
def start_group_note(request: HttpRequest, session_id: UUID) -> Status[dict[str, Any]]:
    user = request_user(request)
    session = queries.get_session_for_notes(user, session_id, Cap.EDIT_CLINICAL)
    gn = group_actions.do_start_group_note(session, acting_user=user)
    return Status(201, _group_out(user, _group(user, gn.session.public_id)))


@router.patch("/sessions/{session_id}/group-note", response=GroupNoteOut)
def save_shared_part(request: HttpRequest, session_id: UUID, payload: SharedIn) -> dict[str, Any]:
    user = request_user(request)
    gn = _group(user, session_id, Cap.EDIT_CLINICAL)
    data = payload.dict(exclude_unset=True)
    confirm = data.pop("confirm_names", False)
    group_actions.do_save_group_note(gn, acting_user=user, confirm_names=confirm, **data)
    return _group_out(user, _group(user, session_id))


@router.put("/sessions/{session_id}/group-note/parts/{patient_id}", response=NoteOut)
def save_part(request: HttpRequest, session_id: UUID, patient_id: UUID, payload: PartIn) -> dict[str, Any]:
    """Save a participant's part; 422 with ``confirm_names`` when the text names another member."""
    user = request_user(request)
    gn = _group(user, session_id, Cap.EDIT_CLINICAL)
    part = get_object_or_404(
        ProgressNote.objects.select_related("patient", "episode"), group_note=gn, patient__public_id=patient_id
    )
    group_actions.do_save_part(
        part,
        acting_user=user,
        confirm_names=payload.confirm_names,
        objectives=_objectives(part.episode, payload.objectives),
        diagnoses=_diagnoses(part.episode, payload.diagnoses),
        **_fields(payload, "format"),
    )
    return _fresh(user, part)


@router.post("/sessions/{session_id}/group-note/sign", response=GroupNoteOut)
def sign_group_note(request: HttpRequest, session_id: UUID) -> dict[str, Any]:
    user = request_user(request)
    gn = _group(user, session_id, Cap.EDIT_CLINICAL)
    group_actions.do_sign_group_note(gn, acting_user=user)
    return _group_out(user, _group(user, session_id))
