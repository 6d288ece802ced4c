"""Handing a document over for signing (docs/clinical-rules.md#scope-of-practice).

Someone who may draft a clinical document but not sign it (an intake coordinator, a clinician whose credential the
program does not accept) hands it to a named clinician who may. The hand-over is a ``sign_handover`` work task for
that clinician, due the program's today; its key names the document (``sign_handover:<kind>:<document>:<n>``), so
the document shows its open hand-over, a new hand-over replaces the open one, and signing closes it. The document's
app checks who may sign and calls these helpers in its own action (intake's assessment, plans' version).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid4

from django.core.exceptions import ValidationError
from django.db import transaction

from openiop.accounts.models import User
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.programs.models import Program
from openiop.worklist.actions import do_close_task_not_needed, do_raise_task
from openiop.worklist.models import WorkTask


def key_prefix(kind: str, document_id: UUID) -> str:
    return f"{WorkTask.Kind.SIGN_HANDOVER}:{kind}:{document_id}:"


def _open_tasks(kind: str, document_id: UUID) -> list[WorkTask]:
    return list(
        WorkTask.objects.filter(trigger_key__startswith=key_prefix(kind, document_id), status=WorkTask.Status.OPEN)
        .select_related("assigned_to")
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class Handover:
    """The open hand-over of a document: to whom, and when (the task's creation)."""

    to: User | None
    on: datetime
    task: WorkTask

    def __str__(self) -> str:
        name = self.to.display_name if self.to is not None else "the program's queue"
        return f"Handed over to {name} for signing on {self.on:%b} {self.on.day}, {self.on:%Y}"


def current_handover(kind: str, document_id: UUID) -> Handover | None:
    """The document's open hand-over (the latest), or None. One query."""
    tasks = _open_tasks(kind, document_id)
    if not tasks:
        return None
    return Handover(tasks[0].assigned_to, tasks[0].created_at, tasks[0])


@transaction.atomic
def do_raise_handover(
    *,
    acting_user: User,
    kind: str,
    document_id: UUID,
    label: str,
    to: User,
    signers: list[User],
    program: Program,
    patient: Patient,
    episode: EpisodeOfCare | None,
    today: date,
) -> WorkTask:
    """Give the document to ``to`` (one of ``signers``, who may sign it) as a work task; an open hand-over of the
    same document to someone else is closed as not needed. The caller writes the document's own audit row."""
    if to.pk not in {u.pk for u in signers}:
        raise ValidationError({"handed_to": f"Choose a clinician of this program who may sign {label}."})
    for task in _open_tasks(kind, document_id):
        if task.assigned_to_id == to.pk:
            return task  # handed to them already
        do_close_task_not_needed(task, acting_user=acting_user, note=f"Handed over to {to.display_name} instead")
    task, _ = do_raise_task(
        acting_user=acting_user,
        episode=episode,
        program=program,
        patient=patient,
        kind=WorkTask.Kind.SIGN_HANDOVER,
        trigger_key=f"{key_prefix(kind, document_id)}{uuid4().hex[:12]}",
        reason=f"Sign {label}, handed over by {acting_user.display_name}",
        due_on=today,
        assigned_to=to,
    )
    return task


def close_handovers(kind: str, document_id: UUID, *, acting_user: User | None, note: str) -> int:
    """The document was signed (or is gone): its open hand-over tasks close. Returns how many."""
    return sum(
        do_close_task_not_needed(task, acting_user=acting_user, note=note) for task in _open_tasks(kind, document_id)
    )
