"""Writes to work tasks: raise one for a trigger (exactly once), close it with an outcome, reassign it.

Each is atomic with its audit row (field names only). Tasks are closed, never deleted; a task the system closed
as "not needed" (its trigger was corrected away) may be reopened by the system when the trigger comes back.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.roles import Role
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import PRIMARY_CLINICIAN_ROLES
from openiop.programs.models import Program
from openiop.worklist.models import WorkTask

Outcome = WorkTask.Outcome
# What staff may close a task with; NOT_NEEDED is the system's, for a trigger that no longer holds.
STAFF_OUTCOMES = (Outcome.REACHED, Outcome.LEFT_MESSAGE, Outcome.NO_ANSWER, Outcome.PLAN_CHANGED)
NOTE_MAX = 500  # WorkTask.outcome_note max_length
REASON_MAX = 300  # WorkTask.reason max_length


def assignee_for(episode: EpisodeOfCare) -> User | None:
    """The episode's primary clinician while they are active staff of its program; otherwise the program's first
    active director (by name); otherwise nobody, and the task waits in the program queue."""
    clinician = episode.primary_clinician
    program_id = episode.program_id
    if (
        clinician is not None
        and clinician.is_active
        and clinician.memberships.filter(program_id=program_id).exists()
        and clinician.role in PRIMARY_CLINICIAN_ROLES
    ):
        return clinician
    return (
        User.objects.filter(is_active=True, role=Role.DIRECTOR, memberships__program_id=program_id)
        .order_by("last_name", "first_name", "username")
        .first()
    )


@transaction.atomic
def do_raise_task(
    *,
    acting_user: User | None,
    episode: EpisodeOfCare | None,
    kind: str,
    trigger_key: str,
    reason: str,
    due_on: date,
    program: Program | None = None,
    patient: Patient | None = None,
    assigned_to: User | None = None,
) -> tuple[WorkTask, bool]:
    """The task for ``trigger_key``, made now unless it exists: (task, created).

    Assigned to ``assigned_to`` when given, else by ``assignee_for(episode)``. A task about a document written
    before admission has no episode: it names the ``program`` and ``patient`` instead (and its assignee).

    The insert runs in a savepoint, so when a concurrent transaction made the same trigger's task first the unique
    key rejects ours and we return theirs, leaving the caller's transaction intact.
    """
    existing = WorkTask.objects.filter(trigger_key=trigger_key).first()
    if existing is not None:
        return existing, False
    if episode is not None:
        program, patient = episode.program, episode.patient
    if program is None or patient is None:
        raise ValueError("A task needs an episode, or a program and a patient.")
    task = WorkTask(
        organization_id=program.site.organization_id,
        program=program,
        episode=episode,
        patient=patient,
        kind=kind,
        reason=reason[:REASON_MAX],
        trigger_key=trigger_key,
        assigned_to=assigned_to if assigned_to is not None else assignee_for(episode) if episode else None,
        due_on=due_on,
    )
    try:
        with transaction.atomic():
            task.save(force_insert=True)
    except IntegrityError:
        return WorkTask.objects.get(trigger_key=trigger_key), False
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=patient,
        obj=task,
        changed_fields=["kind", "reason", "assigned_to", "due_on"],
    )
    return task, True


def _close(task: WorkTask, *, acting_user: User | None, outcome: str, note: str) -> None:
    task.status = WorkTask.Status.DONE
    task.outcome = outcome
    task.outcome_note = note
    task.closed_at = timezone.now()
    task.closed_by = acting_user
    task.save(update_fields=["status", "outcome", "outcome_note", "closed_at", "closed_by", "updated_at"])
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=task.patient,
        obj=task,
        changed_fields=["status", "outcome", *(["outcome_note"] if note else [])],
    )


@transaction.atomic
def do_close_task(task: WorkTask, *, acting_user: User, outcome: str, note: str = "") -> WorkTask:
    """Close an open task with what happened (reached, left a message, no answer, plan changed) and a note."""
    task = WorkTask.objects.select_for_update().select_related("patient").get(pk=task.pk)
    note = (note or "").strip()
    if task.status != WorkTask.Status.OPEN:
        raise ValidationError({"outcome": "This task is already closed."})
    if outcome not in STAFF_OUTCOMES:
        choices = ", ".join(str(o.value) for o in STAFF_OUTCOMES)
        raise ValidationError({"outcome": f"Choose what happened: one of {choices}."})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": f"Keep the note under {NOTE_MAX} characters."})
    _close(task, acting_user=acting_user, outcome=outcome, note=note)
    return task


@transaction.atomic
def do_close_task_not_needed(task: WorkTask, *, acting_user: User | None, note: str) -> bool:
    """The system's close: the trigger no longer holds (an absence corrected to attendance). False if not open."""
    task = WorkTask.objects.select_for_update().select_related("patient").get(pk=task.pk)
    if task.status != WorkTask.Status.OPEN:
        return False
    _close(task, acting_user=acting_user, outcome=Outcome.NOT_NEEDED, note=note[:NOTE_MAX])
    return True


@transaction.atomic
def do_move_open_tasks(
    episode: EpisodeOfCare, *, acting_user: User | None, program: Program, keep: Collection[str] = ()
) -> int:
    """Move the episode's open tasks (except the ``keep`` kinds) to ``program``'s work queue: the episode moved to
    it (a step down or up), so its staff now own the work. How many moved; each with its audit row."""
    moved = 0
    for task in (
        WorkTask.objects.select_for_update()
        .filter(episode=episode, status=WorkTask.Status.OPEN)
        .exclude(program=program)
        .exclude(kind__in=list(keep))
        .select_related("patient")
        .order_by("pk")
    ):
        task.program = program
        task.save(update_fields=["program", "updated_at"])
        audit.record(
            action=AuditAction.UPDATED, acting_user=acting_user, patient=task.patient, obj=task,
            changed_fields=["program"],
        )  # fmt: skip
        moved += 1
    return moved


@transaction.atomic
def do_reopen_task(task: WorkTask, *, acting_user: User | None, due_on: date) -> bool:
    """Reopen a task the system closed as not needed, when its trigger holds again. Staff closures stay closed."""
    task = WorkTask.objects.select_for_update().select_related("patient").get(pk=task.pk)
    if task.status == WorkTask.Status.OPEN or task.outcome != Outcome.NOT_NEEDED:
        return False
    task.status = WorkTask.Status.OPEN
    task.outcome = ""
    task.outcome_note = ""
    task.closed_at = None
    task.closed_by = None
    task.due_on = due_on
    task.save(update_fields=["status", "outcome", "outcome_note", "closed_at", "closed_by", "due_on", "updated_at"])
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=task.patient,
        obj=task,
        changed_fields=["status", "outcome", "due_on"],
    )
    return True


def reassign_choices(task: WorkTask) -> list[User]:
    """Who may take a task: active clinical staff (director, clinician, intern) of the task's program."""
    return list(
        User.objects.filter(is_active=True, role__in=PRIMARY_CLINICIAN_ROLES, memberships__program_id=task.program_id)
        .order_by("last_name", "first_name", "username")
        .distinct()
    )


@transaction.atomic
def do_reassign_task(task: WorkTask, *, acting_user: User, assigned_to: User | None) -> WorkTask:
    task = WorkTask.objects.select_for_update().select_related("patient").get(pk=task.pk)
    if task.status != WorkTask.Status.OPEN:
        raise ValidationError({"assigned_to": "A closed task cannot be reassigned."})
    if assigned_to is None or assigned_to.pk not in {u.pk for u in reassign_choices(task)}:
        raise ValidationError({"assigned_to": "Choose an active clinician or director of this program."})
    if task.assigned_to_id != assigned_to.pk:
        task.assigned_to = assigned_to
        task.save(update_fields=["assigned_to", "updated_at"])
        audit.record(
            action=AuditAction.UPDATED,
            acting_user=acting_user,
            patient=task.patient,
            obj=task,
            changed_fields=["assigned_to"],
        )
    return task
