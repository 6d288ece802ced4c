"""The work-queue tasks notes raise: ``NOTE_DUE`` (a note due today or overdue) and ``COSIGN_NEEDED`` (a note
waiting for the supervisor), through ``worklist.actions.do_raise_task`` (exactly once per trigger key) and closed
by the system when the note is signed or co-signed.

Keys: ``note_due:<session>:<patient>`` for a service in a session (an individual session, or a participant of a
group), ``note_due:<note>`` for a note outside a session, ``cosign:<note>``; public ids only. The reason names the
session by program-local date and type, never another patient.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from openiop.notes.models import ProgressNote
from openiop.patients.models import EpisodeOfCare
from openiop.worklist.actions import do_close_task_not_needed, do_raise_task, do_reassign_task, reassign_choices
from openiop.worklist.models import WorkTask

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.scheduling.models import Session


def note_due_key(*, session: Session | None, patient_public_id: object, note: ProgressNote | None = None) -> str:
    if session is not None:
        return f"note_due:{session.public_id}:{patient_public_id}"
    assert note is not None
    return f"note_due:{note.public_id}"


def cosign_key(note: ProgressNote) -> str:
    return f"cosign:{note.public_id}"


def _assign(task: WorkTask, user: User | None, acting_user: User | None) -> None:
    """Give a new task to the person who must act (the author, the supervisor) when they may take it."""
    if user is None or task.assigned_to_id == user.pk:
        return
    if user.pk in {u.pk for u in reassign_choices(task)}:
        # The system reassigns when no one is acting (the deadline command), as it closes tasks "not needed".
        do_reassign_task(task, acting_user=acting_user, assigned_to=user)  # type: ignore[arg-type]


def raise_note_due(
    *,
    episode: EpisodeOfCare,
    key: str,
    reason: str,
    due_on: date,
    responsible: User | None,
    acting_user: User | None,
) -> tuple[WorkTask, bool]:
    task, created = do_raise_task(
        acting_user=acting_user, episode=episode, kind=WorkTask.Kind.NOTE_DUE, trigger_key=key, reason=reason,
        due_on=due_on,
    )  # fmt: skip
    if created:
        _assign(task, responsible, acting_user)
    return task, created


def raise_cosign_needed(note: ProgressNote, *, acting_user: User | None, today: date | None = None) -> WorkTask:
    program = note.episode.program
    local_today = today or program.now().date()
    due_on = max(note.due_at.astimezone(program.tz()).date(), local_today)
    when = f"{note.service_date:%a %-d %b}"
    task, created = do_raise_task(
        acting_user=acting_user,
        episode=note.episode,
        kind=WorkTask.Kind.COSIGN_NEEDED,
        trigger_key=cosign_key(note),
        reason=f"Co-sign the progress note of {when} by {note.author.get_full_name() or note.author.username}",
        due_on=due_on,
    )
    if created:
        _assign(task, note.author.supervisor, acting_user)
    return task


def _close(key: str, acting_user: User | None, note_text: str) -> None:
    task = WorkTask.objects.filter(trigger_key=key, status=WorkTask.Status.OPEN).first()
    if task is not None:
        do_close_task_not_needed(task, acting_user=acting_user, note=note_text)


def close_note_due(note: ProgressNote, *, acting_user: User | None) -> None:
    session = note.session if note.session_id else None
    _close(note_due_key(session=session, patient_public_id=note.patient.public_id, note=note), acting_user,
           "The note was signed.")  # fmt: skip


def close_cosign_needed(note: ProgressNote, *, acting_user: User | None) -> None:
    _close(cosign_key(note), acting_user, "The note was co-signed.")
