"""Writes of group notes: the shared part, participants' parts, facilitators' signatures and addenda.

Each is one transaction with its audit row (field names only, never the text). The shared part is written once;
each participant's part is a ProgressNote of its own, prefilled from their attendance record. Once a facilitator
has signed, the group note is frozen until every facilitator has signed it and it locks (the co-facilitators sign
the text the first one signed); edits after that are addenda. A participant recorded as attended after the lock
gets a part of their own, marked as a late addition, which is written and signed as an addendum to the group note:
the locked parts are untouched, nothing is lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from openiop.attendance.hooks import AttendanceRecorded
from openiop.attendance.models import AttendanceRecord
from openiop.core import audit
from openiop.core.actions import apply_changes
from openiop.core.models import AuditAction
from openiop.notes.actions import signing_problems
from openiop.notes.common import (
    EDITABLE_FIELDS,
    Status,
    all_need_cosign,
    audit_note,
    check_names,
    clean_addendum,
    clean_fields,
    is_group_session,
    locked_note,
    mark_signed,
    prefill_diagnosis,
    recompute_due,
    session_mode,
    set_diagnoses,
    set_objectives,
)
from openiop.notes.diagnoses import diagnoses_by_episode
from openiop.notes.models import SECTION_FIELDS, GroupNote, GroupNoteSignature, NoteAddendum, ProgressNote
from openiop.notes.policy import place_of_service_for, policy_for
from openiop.programs.signing import signing_refusal
from openiop.scheduling.models import Session

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.intake.models import Diagnosis
    from openiop.plans.models import Objective

SHARED_FIELDS = ("topic", "curriculum_item", "interventions")


# --- Group notes ------------------------------------------------------------------------------------------------


def group_participants(session: Session) -> list[AttendanceRecord]:
    """Attendance records of the people who attended, in name order: those whose part the group note holds."""
    records = AttendanceRecord.objects.filter(session=session, status__in=AttendanceRecord.ATTENDED).select_related(
        "patient", "episode__program__site"
    )
    return sorted(records, key=lambda r: (r.patient.legal_last_name.lower(), r.patient.legal_first_name.lower()))


def _part_values(group_note: GroupNote, record: AttendanceRecord, *, late: bool) -> dict[str, Any]:
    session = group_note.session
    program = session.program
    mode = session_mode(session)
    return {
        "format": policy_for(program).default_format,
        "service_date": session.starts_at.astimezone(program.tz()).date(),
        "start_time": record.arrived_at or session.starts_at,
        "stop_time": record.departed_at or session.ends_at,
        "mode": mode,
        "place_of_service": place_of_service_for(program, mode),
        "attendance_status": record.status,
        "minutes_attended": record.minutes_attended,
        "participation": record.participation,
        "is_late_addition": late,
    }


def _add_part(group_note: GroupNote, record: AttendanceRecord, acting_user: User | None) -> ProgressNote | None:
    """Create the participant's part (a late addition once the group note is locked); None if it exists."""
    late = group_note.is_locked
    # Whoever checked the person in may be the front desk: the part starts as the group note's writer's, and
    # becomes the facilitator's who writes it.
    author = group_note.created_by
    part = ProgressNote(
        patient=record.patient,
        episode=record.episode,
        session=group_note.session,
        group_note=group_note,
        author=author,
        **_part_values(group_note, record, late=late),
    )
    recompute_due(part)
    try:
        with transaction.atomic():  # the savepoint a concurrent creator of the same part rolls back to
            part.save(force_insert=True)
    except IntegrityError:
        return None
    fields = ["group_note", "patient", "attendance_status", *(["is_late_addition"] if late else [])]
    if prefill_diagnosis(part):
        fields.append("diagnoses")
    audit_note(record.patient, acting_user, AuditAction.CREATED, part, fields)
    return part


@transaction.atomic
def do_start_group_note(session: Session, *, acting_user: User) -> GroupNote:
    """The session's group note (made now, with a part per attended participant, unless it exists)."""
    session = (
        Session.objects.select_for_update(of=("self",))
        .select_related("program__site", "session_type", "topic")
        .get(pk=session.pk)
    )
    existing = GroupNote.objects.filter(session=session).first()
    if existing is not None:
        return existing
    if not is_group_session(session):
        raise ValidationError({"session": "Only a group session has a group note; write an individual note."})
    if session.status == Session.Status.CANCELLED:
        raise ValidationError({"session": "The session was cancelled."})
    if not acting_user.memberships.filter(program_id=session.program_id).exists():
        raise ValidationError({"session": "You can write notes only in your own programs."})
    group_note = GroupNote.objects.create(
        session=session,
        topic=session.topic.name if session.topic else "",
        curriculum_item=session.topic,
        created_by=acting_user,
    )
    group_note.session = session
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        obj=group_note,
        organization_id=session.program.site.organization_id,
        changed_fields=["session", "topic", "curriculum_item"],
    )
    for record in group_participants(session):
        _add_part(group_note, record, acting_user)
    return group_note


def add_missing_parts(group_note: GroupNote, *, acting_user: User | None) -> list[ProgressNote]:
    """Parts for attended participants who have none yet (late check-ins). Runs inside the caller's transaction."""
    have = set(group_note.parts.values_list("patient_id", flat=True))
    added = []
    for record in group_participants(group_note.session):
        if record.patient_id not in have:
            part = _add_part(group_note, record, acting_user)
            if part is not None:
                added.append(part)
    return added


def on_attendance_recorded(event: AttendanceRecorded) -> None:
    """A check-in on a session with a group note: the person gets a part (late addition after the lock)."""
    record, previous = event.record, event.previous
    if not record.attended:
        return
    if previous is not None and previous.get("status") in AttendanceRecord.ATTENDED:
        # Attended before this change too: the part was added then, or prefilled when the note was started.
        return
    # One narrow read answers the common case (no note, or the person already has a part) without loading the
    # note and its joins, which cost a check-in tap more than its insert; only a note to add to is read whole.
    wanting = (
        GroupNote.objects.filter(session_id=record.session_id)
        .exclude(parts__patient_id=record.patient_id)
        .values_list("pk", flat=True)
        .first()
    )
    if wanting is None:
        return
    group_note = GroupNote.objects.select_related("session__program__site", "created_by").get(pk=wanting)
    fresh = AttendanceRecord.objects.select_related("patient", "episode__program__site").get(pk=record.pk)
    _add_part(group_note, fresh, event.acting_user)


def _locked_group_note(group_note: GroupNote) -> GroupNote:
    return (
        GroupNote.objects.select_for_update(of=("self",))
        .select_related("session__program__site", "session__session_type", "created_by")
        .get(pk=group_note.pk)
    )


def _check_facilitator_program(group_note: GroupNote, acting_user: User) -> None:
    if not acting_user.memberships.filter(program_id=group_note.session.program_id).exists():
        raise ValidationError({"session": "You can write notes only in your own programs."})


def _frozen(group_note: GroupNote) -> None:
    if group_note.is_locked:
        raise ValidationError({"status": "The group note is locked; add an addendum instead."})
    if group_note.signatures.exists():
        raise ValidationError(
            {"status": "A facilitator has signed this group note: the co-facilitators sign it as it is."}
        )


@transaction.atomic
def do_save_group_note(
    group_note: GroupNote, *, acting_user: User, confirm_names: bool = False, **fields: Any
) -> GroupNote:
    """Save the shared part (topic, curriculum item, interventions). The name guard checks it against everyone."""
    group_note = _locked_group_note(group_note)
    _check_facilitator_program(group_note, acting_user)
    _frozen(group_note)
    for name in ("topic", "interventions"):
        if name in fields:
            fields[name] = (fields[name] or "").strip()
    item = fields.get("curriculum_item")
    if item is not None and item.program_id != group_note.session.program_id:
        raise ValidationError({"curriculum_item": "Choose a topic of this program's curriculum."})
    if not confirm_names:
        check_names(group_note, [fields.get("topic", ""), fields.get("interventions", "")], None, field="interventions")
    changed = apply_changes(group_note, fields, SHARED_FIELDS)
    if changed:
        group_note.save()
        audit.record(
            action=AuditAction.UPDATED,
            acting_user=acting_user,
            obj=group_note,
            organization_id=group_note.session.program.site.organization_id,
            changed_fields=changed,
        )
    return group_note


@transaction.atomic
def do_save_part(
    part: ProgressNote,
    *,
    acting_user: User,
    confirm_names: bool = False,
    objectives: Iterable[Objective] | None = None,
    diagnoses: Iterable[Diagnosis] | None = None,
    **fields: Any,
) -> ProgressNote:
    """Save a participant's part. When its text names another group member the save is refused with a
    ``confirm_names`` error until the writer confirms (the form shows the warning and a confirmation box)."""
    part = locked_note(part)
    if part.group_note is None:
        raise ValidationError({"group_note": "This is not a part of a group note."})
    group_note = part.group_note
    _check_facilitator_program(group_note, acting_user)
    if not part.is_late_addition:
        _frozen(group_note)
    elif part.is_locked:
        raise ValidationError({"status": "This addendum is signed; add another addendum instead."})
    clean_fields(fields)
    if not confirm_names:
        texts = [fields.get(n, getattr(part, n)) for n in (*SECTION_FIELDS, "risk_notes")]
        check_names(group_note, texts, part.patient, field="response")
    changed = apply_changes(part, fields, EDITABLE_FIELDS)
    if changed and part.author_id != acting_user.pk:
        part.author = acting_user
        changed.append("author")
    if changed:
        part.save()
    if set_objectives(part, objectives):
        changed.append("objectives")
    if set_diagnoses(part, diagnoses):
        changed.append("diagnoses")
    if changed:
        audit_note(part.patient, acting_user, AuditAction.UPDATED, part, changed)
    return part


def group_signing_problems(group_note: GroupNote) -> dict[str, str]:
    """What stops the group note from being signed: the shared part, then each part, named by its field."""
    problems: dict[str, str] = {}
    if not group_note.topic.strip():
        problems["topic"] = "Give the topic."
    if not group_note.interventions.strip():
        problems["interventions"] = "Describe the interventions used with the group."
    if not group_note.session.facilitators.exists():
        problems["facilitators"] = "The session has no facilitators: add them on the session first."
    incomplete = []
    parts = list(
        group_note.parts.filter(is_late_addition=False)
        .select_related("episode")
        .prefetch_related("objectives", "diagnoses")
    )
    offered = diagnoses_by_episode([p.episode for p in parts]) if parts else {}
    for part in parts:
        missing = signing_problems(part, offered.get(part.episode_id, []))
        if missing:
            incomplete.append(part)
    if incomplete:
        problems["parts"] = f"{len(incomplete)} participant part(s) still miss required fields."
    return problems


@transaction.atomic
def do_sign_group_note(group_note: GroupNote, *, acting_user: User) -> GroupNote:
    """A facilitator signs. When every facilitator has, the group note and every part lock."""
    group_note = _locked_group_note(group_note)
    if group_note.is_locked:
        raise ValidationError({"status": "The group note is already locked."})
    session = group_note.session
    facilitators = list(session.facilitators.all())
    if acting_user.pk not in {f.pk for f in facilitators}:
        raise ValidationError({"facilitators": "Only the session's facilitators sign its group note."})
    if group_note.signatures.filter(facilitator=acting_user).exists():
        raise ValidationError({"facilitators": "You have signed this group note already."})
    # Each participant's part is a clinical note in their chart: the same scope of practice as a progress note.
    refusal = signing_refusal(acting_user, session.program, "a group note", handed_over=False)
    if refusal:
        raise ValidationError({"facilitators": refusal})
    problems = group_signing_problems(group_note)
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    GroupNoteSignature.objects.create(
        group_note=group_note, facilitator=acting_user, credentials=acting_user.credentials, signed_at=now
    )
    org_id = session.program.site.organization_id
    audit.record(action=AuditAction.UPDATED, acting_user=acting_user, obj=group_note, organization_id=org_id,
                 changed_fields=["signatures"])  # fmt: skip
    signed = set(group_note.signatures.values_list("facilitator_id", flat=True))
    if signed >= {f.pk for f in facilitators}:
        _lock_group_note(group_note, [f for f in facilitators if f.pk in signed], acting_user, now)
    return group_note


def _lock_group_note(group_note: GroupNote, signers: list[User], acting_user: User, now: datetime) -> None:
    from openiop.notes import tasks

    group_note.status = GroupNote.Status.LOCKED
    group_note.locked_at = now
    group_note.group_size = AttendanceRecord.objects.filter(
        session=group_note.session, status__in=AttendanceRecord.ATTENDED
    ).count()
    group_note.save(update_fields=["status", "locked_at", "group_size", "updated_at"])
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        obj=group_note,
        organization_id=group_note.session.program.site.organization_id,
        changed_fields=["status", "locked_at", "group_size"],
    )
    # Licensed co-facilitators' signatures stand for the group; only an all-supervised team waits for co-signature.
    needs = all_need_cosign(signers)
    for part in group_note.parts.filter(is_late_addition=False, status=Status.DRAFT).select_related(
        "patient", "author", "episode__program__site", "session"
    ):
        if part.author_id not in {u.pk for u in signers}:
            # Someone who did not sign (a facilitator removed from the session) cannot stand as the part's author.
            part.author = signers[0]
        mark_signed(part, part.author, now, needs_cosign=needs)
        part.save(update_fields=["status", "signed_at", "author", "author_credentials", "updated_at"])
        audit_note(part.patient, acting_user, AuditAction.STATUS_CHANGED, part, ["status", "signed_at"])
        tasks.close_note_due(part, acting_user=acting_user)
        if needs:
            tasks.raise_cosign_needed(part, acting_user=acting_user)


@transaction.atomic
def do_add_group_addendum(
    group_note: GroupNote, *, acting_user: User, text: str, confirm_names: bool = False
) -> NoteAddendum:
    """Signed text added to the shared part of a locked group note (shown with it in every participant's chart)."""
    group_note = _locked_group_note(group_note)
    _check_facilitator_program(group_note, acting_user)
    if not group_note.is_locked:
        raise ValidationError({"text": "The group note is not locked yet: change it directly."})
    text = clean_addendum(text)
    if not confirm_names:
        check_names(group_note, [text], None, field="text")
    addendum = NoteAddendum.objects.create(
        group_note=group_note,
        author=acting_user,
        author_credentials=acting_user.credentials,
        text=text,
        signed_at=timezone.now(),
    )
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        obj=addendum,
        organization_id=group_note.session.program.site.organization_id,
        changed_fields=["text"],
    )
    return addendum
