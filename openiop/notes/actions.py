"""Writes of individual progress notes: drafts, signing (which locks), addenda and co-signature.

Each is one transaction with its audit row (field names only, never the text). A draft saves anything; signing
checks the required fields and names each one missing. A signed note never changes: later text is an addendum.
A note by a supervised clinician waits for their supervisor's co-signature (``awaiting_cosign``).
Group notes are in ``group_actions.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.attendance.models import AttendanceRecord
from openiop.core.actions import apply_changes
from openiop.core.models import AuditAction
from openiop.core.roles import Cap
from openiop.notes.common import (
    EDITABLE_FIELDS,
    Status,
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
from openiop.notes.diagnoses import episode_diagnoses
from openiop.notes.models import Mode, NoteAddendum, ProgressNote, RiskLevel, narrative_fields
from openiop.notes.policy import place_of_service_for, policy_for
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.plans.queries import plan_state_for_episode
from openiop.programs.signing import signing_refusal
from openiop.scheduling.models import Session

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.intake.models import Diagnosis
    from openiop.plans.models import Objective

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
            mode=session_mode(session),
            attendance_status=record.status,
            minutes_attended=record.minutes_attended,
            participation=record.participation,
        )
    else:
        values["service_date"] = timezone.now().astimezone(program.tz()).date()
    values.update({k: v for k, v in fields.items() if v is not None})
    values.setdefault("mode", Mode.IN_PERSON)
    clean_fields(values)
    if not values.get("place_of_service"):
        values["place_of_service"] = place_of_service_for(program, values["mode"])
    note = ProgressNote(patient=patient, episode=episode, session=session, author=acting_user, **values)
    note.episode = episode
    recompute_due(note)
    note.save()
    set_objectives(note, objectives)
    linked = set_diagnoses(note, diagnoses) if diagnoses is not None else prefill_diagnosis(note)
    filled = [n for n in EDITABLE_FIELDS if values.get(n) not in (None, "", False)]
    filled += ["diagnoses"] if linked else []
    audit_note(patient, acting_user, AuditAction.CREATED, note, ["patient", "episode", *filled])
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
    note = locked_note(note)
    _check_editable(note, acting_user)
    clean_fields(fields)
    changed = apply_changes(note, fields, EDITABLE_FIELDS)
    if changed:
        if {"service_date", "stop_time", "is_crisis"} & set(changed):
            recompute_due(note)
            changed.append("due_at")
        note.save()
    if set_objectives(note, objectives):
        changed.append("objectives")
    if set_diagnoses(note, diagnoses):
        changed.append("diagnoses")
    if changed:
        audit_note(note.patient, acting_user, AuditAction.UPDATED, note, changed)
    return note


def signing_problems(
    note: ProgressNote, diagnoses: list[Diagnosis] | None = None, signer: User | None = None
) -> dict[str, str]:
    """What still stops the note from being signed, keyed by the field to fix (empty when ready). ``diagnoses``,
    the episode's, may be passed by a caller that loaded them for many notes. With ``signer``, also whether that
    person may sign a note in this program (scope of practice)."""
    problems: dict[str, str] = {}
    if signer is not None:
        refusal = signing_refusal(signer, note.episode.program, "a progress note", handed_over=False)
        if refusal:
            problems["author"] = refusal
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
        problems["objectives"] = objectives_problem(note.episode)
    if not note.diagnoses.all():
        offered = diagnoses if diagnoses is not None else episode_diagnoses(note.episode)
        problems["diagnoses"] = (
            "Choose the diagnosis this service addressed."
            if offered
            else "This episode has no diagnosis recorded: add one at intake, then choose it here."
        )
    return problems


def objectives_problem(episode: EpisodeOfCare) -> str:
    """The missing-objective message, naming the plan's actual state: a signed plan may not be in force yet
    (docs/clinical-rules.md#treatment-plans-and-reviews)."""
    state = plan_state_for_episode(episode)
    if state is None:
        return "No treatment plan is in force: none has been written and signed yet."
    if not state.in_force:
        return f"No treatment plan is in force: {state.text}."
    return "Link at least one objective of the treatment plan."


@transaction.atomic
def do_sign_note(note: ProgressNote, *, acting_user: User) -> ProgressNote:
    """The author signs; the note locks. A supervised clinician's note then waits for the supervisor."""
    note = locked_note(note)
    if note.is_locked:
        raise ValidationError({"status": "This note is already signed."})
    if note.author_id != acting_user.pk:
        raise ValidationError({"author": "Only the author signs a note."})
    if note.group_note_id is not None and not note.is_late_addition:
        raise ValidationError({"status": "A participant's part is signed with its group note."})
    problems = signing_problems(note, signer=acting_user)
    if problems:
        raise ValidationError(problems)
    needs = acting_user.needs_cosignature
    if needs and acting_user.supervisor_id is None:
        raise ValidationError({"author": "Your notes need a co-signature, but no supervisor is set on your account."})
    mark_signed(note, acting_user, timezone.now(), needs_cosign=needs)
    note.save(update_fields=["status", "signed_at", "author_credentials", "updated_at"])
    audit_note(
        note.patient, acting_user, AuditAction.STATUS_CHANGED, note, ["status", "signed_at", "author_credentials"]
    )
    from openiop.notes import tasks

    tasks.close_note_due(note, acting_user=acting_user)
    if needs:
        tasks.raise_cosign_needed(note, acting_user=acting_user)
    return note


def may_cosign(note: ProgressNote, user: User) -> bool:
    return note.status == Status.AWAITING_COSIGN and note.author.supervisor_id == user.pk


def may_edit_draft(note: ProgressNote, user: User) -> bool:
    """Whether ``user`` may continue this draft: it is unsigned and theirs. The edit view refuses everyone else, so
    the note page offers "Continue the draft" by the same rule (a director reads others' drafts, never edits them)."""
    return not note.is_locked and note.author_id == user.pk and user.can(Cap.EDIT_CLINICAL)


@transaction.atomic
def do_cosign_note(note: ProgressNote, *, acting_user: User) -> ProgressNote:
    """The author's supervisor co-signs a note waiting for it."""
    note = locked_note(note)
    if note.status != Status.AWAITING_COSIGN:
        raise ValidationError({"status": "This note is not waiting for a co-signature."})
    if note.author.supervisor_id != acting_user.pk:
        raise ValidationError({"cosigned_by": "Only the author's supervisor co-signs this note."})
    note.status = Status.SIGNED
    note.cosigned_by = acting_user
    note.cosigned_at = timezone.now()
    note.cosigner_credentials = acting_user.credentials
    note.save(update_fields=["status", "cosigned_by", "cosigned_at", "cosigner_credentials", "updated_at"])
    audit_note(note.patient, acting_user, AuditAction.STATUS_CHANGED, note, ["status", "cosigned_by", "cosigned_at"])
    from openiop.notes import tasks

    tasks.close_cosign_needed(note, acting_user=acting_user)
    return note


@transaction.atomic
def do_add_addendum(note: ProgressNote, *, acting_user: User, text: str, confirm_names: bool = False) -> NoteAddendum:
    """Add signed text to a signed note. On a participant's part the name guard applies as when it was written."""
    note = locked_note(note)
    if not note.is_locked:
        raise ValidationError({"text": "The note is still a draft: change it directly."})
    text = clean_addendum(text)
    if note.group_note_id is not None and not confirm_names:
        check_names(note.group_note, [text], note.patient, field="text")  # type: ignore[arg-type]
    addendum = NoteAddendum.objects.create(
        note=note, author=acting_user, author_credentials=acting_user.credentials, text=text, signed_at=timezone.now()
    )
    audit_note(note.patient, acting_user, AuditAction.CREATED, addendum, ["text"])
    return addendum
