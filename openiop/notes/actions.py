"""Writes of progress notes and group notes: drafts, signing (which locks), addenda, co-signature, the shared part
and participants' parts of a group note, facilitators' signatures, and the work-queue tasks notes raise.

Each is one transaction with its audit row (field names only, never the text). A draft saves anything; signing
checks the required fields and names each one missing. A signed note never changes: later text is an addendum.
A note by a supervised clinician waits for their supervisor's co-signature (``awaiting_cosign``).

Group notes: the shared part is written once; each participant's part is a ProgressNote of its own, prefilled
from their attendance record. Once a facilitator has signed, the group note is frozen until every facilitator
has signed it and it locks (the co-facilitators sign the text the first one signed); edits after that are addenda.
A participant recorded as attended after the lock gets a part of their own, marked as a late addition, which is
written and signed as an addendum to the group note: the locked parts are untouched, nothing is lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from openiop.attendance.hooks import AttendanceRecorded
from openiop.attendance.models import AttendanceRecord
from openiop.core import audit
from openiop.core.actions import apply_changes
from openiop.core.models import AuditAction
from openiop.notes.deadlines import note_due_at
from openiop.notes.diagnoses import diagnoses_by_episode, episode_diagnoses, primary_of
from openiop.notes.guard import names_found
from openiop.notes.models import (
    SECTION_FIELDS,
    GroupNote,
    GroupNoteSignature,
    Mode,
    NoteAddendum,
    NoteFormat,
    ProgressNote,
    RiskLevel,
    narrative_fields,
)
from openiop.notes.policy import place_of_service_for, policy_for
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.scheduling.models import Session, SessionType

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.intake.models import Diagnosis
    from openiop.plans.models import Objective

Status = ProgressNote.Status
EDITABLE_FIELDS = (
    "format", *SECTION_FIELDS, "service_date", "start_time", "stop_time", "mode", "place_of_service",
    "risk_level", "risk_notes", "is_crisis",
)  # fmt: skip
SHARED_FIELDS = ("topic", "curriculum_item", "interventions")
ADDENDUM_MAX = 5000


# --- Helpers ----------------------------------------------------------------------------------------------------


def _audit(
    patient: Patient | None, acting_user: User | None, action: AuditAction, obj: Any, fields: Iterable[str]
) -> None:
    audit.record(action=action, acting_user=acting_user, patient=patient, obj=obj, changed_fields=list(fields))


def _session_mode(session: Session) -> str:
    return Mode.TELEHEALTH if session.mode == SessionType.Mode.TELEHEALTH else Mode.IN_PERSON


def is_group_session(session: Session) -> bool:
    return session.session_type.kind in SessionType.GROUP_KINDS


def active_objectives(episode: EpisodeOfCare) -> list[Objective]:
    """The objectives of the episode's plan version in force (none before a plan is active)."""
    from openiop.plans.models import Objective, PlanVersion

    return list(
        Objective.objects.filter(
            goal__problem__version__plan__episode=episode, goal__problem__version__status=PlanVersion.Status.ACTIVE
        )
        .select_related("goal__problem")
        .order_by("goal__problem__order", "goal__order", "order", "pk")
    )


def _set_objectives(note: ProgressNote, objectives: Iterable[Objective] | None) -> bool:
    """Link the note to these objectives, which must belong to its episode's plan in force. True if changed."""
    if objectives is None:
        return False
    wanted = {o.pk for o in objectives}
    allowed = {o.pk for o in active_objectives(note.episode)}
    if wanted - allowed:
        raise ValidationError({"objectives": "Link only objectives of this person's treatment plan in force."})
    current = set(note.objectives.values_list("pk", flat=True))
    if current == wanted:
        return False
    note.objectives.set(wanted)
    return True


def _set_diagnoses(note: ProgressNote, diagnoses: Iterable[Diagnosis] | None) -> bool:
    """Record which of the episode's diagnoses the note addresses. True if changed."""
    if diagnoses is None:
        return False
    wanted = {d.pk for d in diagnoses}
    if wanted - {d.pk for d in episode_diagnoses(note.episode)}:
        raise ValidationError({"diagnoses": "Choose only diagnoses of this person's episode of care."})
    if set(note.diagnoses.values_list("pk", flat=True)) == wanted:
        return False
    note.diagnoses.set(wanted)
    return True


def _prefill_diagnosis(note: ProgressNote) -> bool:
    """A new note starts with its episode's primary diagnosis (a group part: that participant's own)."""
    primary = primary_of(episode_diagnoses(note.episode))
    if primary is None:
        return False
    note.diagnoses.add(primary)
    return True


def _clean_fields(fields: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    if "format" in fields and fields["format"] not in NoteFormat.values:
        errors["format"] = f"Use one of: {', '.join(NoteFormat.values)}."
    if "mode" in fields and fields["mode"] not in Mode.values:
        errors["mode"] = f"Use one of: {', '.join(Mode.values)}."
    if fields.get("risk_level") not in (None, "", *RiskLevel.values):
        errors["risk_level"] = f"Use one of: {', '.join(RiskLevel.values)}."
    pos = fields.get("place_of_service")
    if pos and not (len(pos) == 2 and pos.isdigit()):
        errors["place_of_service"] = "Give the two-digit CMS place-of-service code (e.g. 53, or 10 for telehealth)."
    for name in ("start_time", "stop_time"):
        value = fields.get(name)
        if value is not None and (not isinstance(value, datetime) or timezone.is_naive(value)):
            errors[name] = "Give a date and time with its time zone."
    start, stop = fields.get("start_time"), fields.get("stop_time")
    if not errors.keys() & {"start_time", "stop_time"} and start and stop and stop <= start:
        errors["stop_time"] = "The stop time must come after the start time."
    if fields.get("service_date") is not None and not isinstance(fields["service_date"], date):
        errors["service_date"] = "Give the date of the service."
    if errors:
        raise ValidationError(errors)
    for name in (*SECTION_FIELDS, "risk_notes"):
        if name in fields:
            fields[name] = (fields[name] or "").strip()


def _locked_note(note: ProgressNote) -> ProgressNote:
    return (
        ProgressNote.objects.select_for_update(of=("self",))
        .select_related("patient", "episode__program__site", "author", "session__session_type", "group_note")
        .get(pk=note.pk)
    )


def _recompute_due(note: ProgressNote) -> None:
    program = note.episode.program
    ends = note.stop_time or (note.session.ends_at if note.session_id and note.session else None)
    if note.is_late_addition:
        # Written after the lock: due from the day the person was added, not from a session already past.
        note.due_at = note_due_at(program, timezone.now().astimezone(program.tz()).date())
    else:
        note.due_at = note_due_at(program, note.service_date, ends_at=ends, is_crisis=note.is_crisis)


# --- Individual notes -------------------------------------------------------------------------------------------


def _check_author(acting_user: User, episode: EpisodeOfCare) -> None:
    if not acting_user.memberships.filter(program_id=episode.program_id).exists():
        raise ValidationError({"episode": "You can write notes only in your own programs."})


@transaction.atomic
def do_create_note(
    patient: Patient,
    *,
    acting_user: User,
    episode: EpisodeOfCare,
    session: Session | None = None,
    objectives: Iterable[Objective] | None = None,
    diagnoses: Iterable[Diagnosis] | None = None,
    **fields: Any,
) -> ProgressNote:
    """A draft note of one service. From a session it takes the date, times, mode and attendance of it; it
    addresses the episode's primary diagnosis unless ``diagnoses`` says otherwise."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown note fields: {', '.join(sorted(unknown))}")
    if episode.patient_id != patient.pk:
        raise ValidationError({"episode": "Choose one of this person's episodes of care."})
    _check_author(acting_user, episode)
    program = episode.program
    values: dict[str, Any] = {"format": policy_for(program).default_format}
    record = None
    if session is not None:
        if session.program_id != episode.program_id:
            raise ValidationError({"session": "The session belongs to another program."})
        if is_group_session(session):
            raise ValidationError({"session": "A group session is documented in its group note."})
        record = AttendanceRecord.objects.filter(session=session, patient=patient).first()
        if record is None or not record.attended:
            raise ValidationError({"session": "This person is not recorded as attending this session."})
        tz = program.tz()
        values.update(
            service_date=session.starts_at.astimezone(tz).date(),
            start_time=record.arrived_at or session.starts_at,
            stop_time=record.departed_at or session.ends_at,
            mode=_session_mode(session),
            attendance_status=record.status,
            minutes_attended=record.minutes_attended,
            participation=record.participation,
        )
    else:
        values["service_date"] = timezone.now().astimezone(program.tz()).date()
    values.update({k: v for k, v in fields.items() if v is not None})
    values.setdefault("mode", Mode.IN_PERSON)
    _clean_fields(values)
    if not values.get("place_of_service"):
        values["place_of_service"] = place_of_service_for(program, values["mode"])
    note = ProgressNote(patient=patient, episode=episode, session=session, author=acting_user, **values)
    note.episode = episode
    _recompute_due(note)
    note.save()
    _set_objectives(note, objectives)
    linked = _set_diagnoses(note, diagnoses) if diagnoses is not None else _prefill_diagnosis(note)
    filled = [n for n in EDITABLE_FIELDS if values.get(n) not in (None, "", False)]
    filled += ["diagnoses"] if linked else []
    _audit(patient, acting_user, AuditAction.CREATED, note, ["patient", "episode", *filled])
    return note


def _check_editable(note: ProgressNote, acting_user: User) -> None:
    if note.is_locked:
        raise ValidationError({"status": "This note is signed; add an addendum instead."})
    if note.group_note_id is None and note.author_id != acting_user.pk:
        raise ValidationError({"author": "Only the author changes a draft note."})


@transaction.atomic
def do_update_note(
    note: ProgressNote,
    *,
    acting_user: User,
    objectives: Iterable[Objective] | None = None,
    diagnoses: Iterable[Diagnosis] | None = None,
    **fields: Any,
) -> ProgressNote:
    """Change a draft (any subset of the fields). Refuses a signed note: that is what addenda are for."""
    note = _locked_note(note)
    _check_editable(note, acting_user)
    _clean_fields(fields)
    changed = apply_changes(note, fields, EDITABLE_FIELDS)
    if changed:
        if {"service_date", "stop_time", "is_crisis"} & set(changed):
            _recompute_due(note)
            changed.append("due_at")
        note.save()
    if _set_objectives(note, objectives):
        changed.append("objectives")
    if _set_diagnoses(note, diagnoses):
        changed.append("diagnoses")
    if changed:
        _audit(note.patient, acting_user, AuditAction.UPDATED, note, changed)
    return note


def signing_problems(note: ProgressNote, diagnoses: list[Diagnosis] | None = None) -> dict[str, str]:
    """What still stops the note from being signed, keyed by the field to fix (empty when ready). ``diagnoses``,
    the episode's, may be passed by a caller that loaded them for many notes."""
    problems: dict[str, str] = {}
    for name, label in narrative_fields(note.format):
        if not getattr(note, name).strip():
            problems[name] = f"Write the {label.lower()} section."
    if note.start_time is None:
        problems["start_time"] = "Give the start time."
    if note.stop_time is None:
        problems["stop_time"] = "Give the stop time."
    if not note.place_of_service:
        problems["place_of_service"] = "Give the place of service."
    if not note.risk_level:
        problems["risk_level"] = "Record the risk screen."
    elif note.risk_level in (RiskLevel.MODERATE, RiskLevel.HIGH) and not note.risk_notes.strip():
        problems["risk_notes"] = "Describe the risk found and the safety plan."
    if not note.objectives.all():  # uses a prefetched list when the caller loaded one
        problems["objectives"] = "Link at least one objective of the treatment plan."
    if not note.diagnoses.all():
        offered = diagnoses if diagnoses is not None else episode_diagnoses(note.episode)
        problems["diagnoses"] = (
            "Choose the diagnosis this service addressed."
            if offered
            else "This episode has no diagnosis recorded: add one at intake, then choose it here."
        )
    return problems


def _needs_cosign(users: Iterable[User]) -> bool:
    return all(u.needs_cosignature for u in users)


def _signed(note: ProgressNote, author: User, now: datetime, *, needs_cosign: bool) -> None:
    note.status = Status.AWAITING_COSIGN if needs_cosign else Status.SIGNED
    note.signed_at = now
    note.author_credentials = author.credentials


@transaction.atomic
def do_sign_note(note: ProgressNote, *, acting_user: User) -> ProgressNote:
    """The author signs; the note locks. A supervised clinician's note then waits for the supervisor."""
    note = _locked_note(note)
    if note.is_locked:
        raise ValidationError({"status": "This note is already signed."})
    if note.author_id != acting_user.pk:
        raise ValidationError({"author": "Only the author signs a note."})
    if note.group_note_id is not None and not note.is_late_addition:
        raise ValidationError({"status": "A participant's part is signed with its group note."})
    problems = signing_problems(note)
    if problems:
        raise ValidationError(problems)
    needs = acting_user.needs_cosignature
    if needs and acting_user.supervisor_id is None:
        raise ValidationError({"author": "Your notes need a co-signature, but no supervisor is set on your account."})
    _signed(note, acting_user, timezone.now(), needs_cosign=needs)
    note.save(update_fields=["status", "signed_at", "author_credentials", "updated_at"])
    _audit(note.patient, acting_user, AuditAction.STATUS_CHANGED, note, ["status", "signed_at", "author_credentials"])
    from openiop.notes import tasks

    tasks.close_note_due(note, acting_user=acting_user)
    if needs:
        tasks.raise_cosign_needed(note, acting_user=acting_user)
    return note


def may_cosign(note: ProgressNote, user: User) -> bool:
    return note.status == Status.AWAITING_COSIGN and note.author.supervisor_id == user.pk


@transaction.atomic
def do_cosign_note(note: ProgressNote, *, acting_user: User) -> ProgressNote:
    """The author's supervisor co-signs a note waiting for it."""
    note = _locked_note(note)
    if note.status != Status.AWAITING_COSIGN:
        raise ValidationError({"status": "This note is not waiting for a co-signature."})
    if note.author.supervisor_id != acting_user.pk:
        raise ValidationError({"cosigned_by": "Only the author's supervisor co-signs this note."})
    note.status = Status.SIGNED
    note.cosigned_by = acting_user
    note.cosigned_at = timezone.now()
    note.cosigner_credentials = acting_user.credentials
    note.save(update_fields=["status", "cosigned_by", "cosigned_at", "cosigner_credentials", "updated_at"])
    _audit(note.patient, acting_user, AuditAction.STATUS_CHANGED, note, ["status", "cosigned_by", "cosigned_at"])
    from openiop.notes import tasks

    tasks.close_cosign_needed(note, acting_user=acting_user)
    return note


def _clean_addendum(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the addendum."})
    if len(text) > ADDENDUM_MAX:
        raise ValidationError({"text": f"Keep an addendum to {ADDENDUM_MAX} characters."})
    return text


@transaction.atomic
def do_add_addendum(note: ProgressNote, *, acting_user: User, text: str, confirm_names: bool = False) -> NoteAddendum:
    """Add signed text to a signed note. On a participant's part the name guard applies as when it was written."""
    note = _locked_note(note)
    if not note.is_locked:
        raise ValidationError({"text": "The note is still a draft: change it directly."})
    text = _clean_addendum(text)
    if note.group_note_id is not None and not confirm_names:
        _guard(note.group_note, [text], note.patient, field="text")  # type: ignore[arg-type]
    addendum = NoteAddendum.objects.create(
        note=note, author=acting_user, author_credentials=acting_user.credentials, text=text, signed_at=timezone.now()
    )
    _audit(note.patient, acting_user, AuditAction.CREATED, addendum, ["text"])
    return addendum


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
    mode = _session_mode(session)
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
    _recompute_due(part)
    try:
        with transaction.atomic():  # the savepoint a concurrent creator of the same part rolls back to
            part.save(force_insert=True)
    except IntegrityError:
        return None
    fields = ["group_note", "patient", "attendance_status", *(["is_late_addition"] if late else [])]
    if _prefill_diagnosis(part):
        fields.append("diagnoses")
    _audit(record.patient, acting_user, AuditAction.CREATED, part, fields)
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
    group_note = (
        GroupNote.objects.select_related("session__program__site", "created_by")
        .filter(session_id=record.session_id)
        .first()
    )
    if group_note is None or group_note.parts.filter(patient_id=record.patient_id).exists():
        return
    fresh = AttendanceRecord.objects.select_related("patient", "episode__program__site").get(pk=record.pk)
    _add_part(group_note, fresh, event.acting_user)


def _locked_group_note(group_note: GroupNote) -> GroupNote:
    return (
        GroupNote.objects.select_for_update(of=("self",))
        .select_related("session__program__site", "session__session_type", "created_by")
        .get(pk=group_note.pk)
    )


def _others(group_note: GroupNote, patient: Patient | None) -> list[Patient]:
    parts = group_note.parts.select_related("patient")
    if patient is not None:
        parts = parts.exclude(patient=patient)
    return [p.patient for p in parts]


def _guard(group_note: GroupNote, texts: list[str], patient: Patient | None, *, field: str) -> None:
    found = names_found(texts, patient, _others(group_note, patient))
    if found:
        whose = "a participant's part" if patient is not None else "the shared part"
        raise ValidationError(
            {
                "confirm_names": (
                    f"This text names another group member ({', '.join(found)}), and {whose} must not. "
                    "Remove the name, or confirm that it does not refer to a member of this group."
                ),
                field: "Names another group member.",
            }
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
        _guard(group_note, [fields.get("topic", ""), fields.get("interventions", "")], None, field="interventions")
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
    part = _locked_note(part)
    if part.group_note is None:
        raise ValidationError({"group_note": "This is not a part of a group note."})
    group_note = part.group_note
    _check_facilitator_program(group_note, acting_user)
    if not part.is_late_addition:
        _frozen(group_note)
    elif part.is_locked:
        raise ValidationError({"status": "This addendum is signed; add another addendum instead."})
    _clean_fields(fields)
    if not confirm_names:
        texts = [fields.get(n, getattr(part, n)) for n in (*SECTION_FIELDS, "risk_notes")]
        _guard(group_note, texts, part.patient, field="response")
    changed = apply_changes(part, fields, EDITABLE_FIELDS)
    if changed and part.author_id != acting_user.pk:
        part.author = acting_user
        changed.append("author")
    if changed:
        part.save()
    if _set_objectives(part, objectives):
        changed.append("objectives")
    if _set_diagnoses(part, diagnoses):
        changed.append("diagnoses")
    if changed:
        _audit(part.patient, acting_user, AuditAction.UPDATED, part, changed)
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
    needs = _needs_cosign(signers)
    for part in group_note.parts.filter(is_late_addition=False, status=Status.DRAFT).select_related(
        "patient", "author", "episode__program__site", "session"
    ):
        if part.author_id not in {u.pk for u in signers}:
            # Someone who did not sign (a facilitator removed from the session) cannot stand as the part's author.
            part.author = signers[0]
        _signed(part, part.author, now, needs_cosign=needs)
        part.save(update_fields=["status", "signed_at", "author", "author_credentials", "updated_at"])
        _audit(part.patient, acting_user, AuditAction.STATUS_CHANGED, part, ["status", "signed_at"])
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
    text = _clean_addendum(text)
    if not confirm_names:
        _guard(group_note, [text], None, field="text")
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
