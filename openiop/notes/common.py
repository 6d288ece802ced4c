"""What individual progress notes and the participants' parts of group notes share: field checks, linked objectives
and diagnoses, the due date, the signed state, addenda's text, the name guard's check against the other members,
and the audit row (field names only, never the text)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.notes.deadlines import note_due_at
from openiop.notes.diagnoses import episode_diagnoses, primary_of
from openiop.notes.guard import names_found
from openiop.notes.models import SECTION_FIELDS, GroupNote, Mode, NoteFormat, ProgressNote, RiskLevel
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
ADDENDUM_MAX = 5000


def audit_note(
    patient: Patient | None, acting_user: User | None, action: AuditAction, obj: Any, fields: Iterable[str]
) -> None:
    """The audit row of a note write: field names only, never the clinical text."""
    audit.record(action=action, acting_user=acting_user, patient=patient, obj=obj, changed_fields=list(fields))


def session_mode(session: Session) -> str:
    """The note's mode from the session's: telehealth, or in person (hybrid sessions are noted as in person)."""
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


def set_objectives(note: ProgressNote, objectives: Iterable[Objective] | None) -> bool:
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


def set_diagnoses(note: ProgressNote, diagnoses: Iterable[Diagnosis] | None) -> bool:
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


def prefill_diagnosis(note: ProgressNote) -> bool:
    """A new note starts with its episode's primary diagnosis (a group part: that participant's own)."""
    primary = primary_of(episode_diagnoses(note.episode))
    if primary is None:
        return False
    note.diagnoses.add(primary)
    return True


def clean_fields(fields: dict[str, Any]) -> None:
    """Refuse malformed values (naming each field) and strip the narrative fields, in place; a draft may leave
    anything empty."""
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


def locked_note(note: ProgressNote) -> ProgressNote:
    """Re-read the note under a row lock, with what signing and the audit row need."""
    return (
        ProgressNote.objects.select_for_update(of=("self",))
        .select_related("patient", "episode__program__site", "author", "session__session_type", "group_note")
        .get(pk=note.pk)
    )


def recompute_due(note: ProgressNote) -> None:
    """Set ``due_at`` from the program's policy: the service date (a crisis note: its end), a late addition's today."""
    program = note.episode.program
    ends = note.stop_time or (note.session.ends_at if note.session_id and note.session else None)
    if note.is_late_addition:
        # Written after the lock: due from the day the person was added, not from a session already past.
        note.due_at = note_due_at(program, timezone.now().astimezone(program.tz()).date())
    else:
        note.due_at = note_due_at(program, note.service_date, ends_at=ends, is_crisis=note.is_crisis)


def all_need_cosign(users: Iterable[User]) -> bool:
    """Whether the signed note waits for co-signature: only when every signer is a supervised clinician."""
    return all(u.needs_cosignature for u in users)


def mark_signed(note: ProgressNote, author: User, now: datetime, *, needs_cosign: bool) -> None:
    """Set the signed state (or awaiting co-signature), the time and the author's credentials; the caller saves."""
    note.status = Status.AWAITING_COSIGN if needs_cosign else Status.SIGNED
    note.signed_at = now
    note.author_credentials = author.credentials


def clean_addendum(text: str) -> str:
    """The addendum's text, stripped; refused when empty or longer than ``ADDENDUM_MAX``."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the addendum."})
    if len(text) > ADDENDUM_MAX:
        raise ValidationError({"text": f"Keep an addendum to {ADDENDUM_MAX} characters."})
    return text


def _others(group_note: GroupNote, patient: Patient | None) -> list[Patient]:
    parts = group_note.parts.select_related("patient")
    if patient is not None:
        parts = parts.exclude(patient=patient)
    return [p.patient for p in parts]


def check_names(group_note: GroupNote, texts: list[str], patient: Patient | None, *, field: str) -> None:
    """The name guard: refuse ``texts`` that name another member of the group (``patient``'s own part, or the shared
    part when None), with a ``confirm_names`` error the page turns into a checkbox."""
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
