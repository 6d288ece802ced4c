"""Work queue API: list tasks (the same filters as the page), close one with an outcome, reassign one. Access as in
the HTML views: VIEW_CLINICAL to read, EDIT_CLINICAL to write (403), then only the user's programs (404)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.api.schemas import MAX_OFFSET, ApiIn
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for
from openiop.core.roles import Cap
from openiop.worklist import actions
from openiop.worklist.models import WorkTask
from openiop.worklist.queries import SCOPES, TaskFilter, default_scope, get_task_for_user, list_tasks, local_todays

router = Router(tags=["worklist"])
MAX_LIMIT = 200


class TaskOut(Schema):
    id: UUID = Field(alias="public_id")
    kind: str
    status: str
    reason: str
    program: UUID = Field(alias="program.public_id")
    patient: UUID = Field(alias="patient.public_id")
    patient_name: str = Field(alias="patient.display_name")
    assigned_to: UUID | None = None
    due_on: date
    overdue: bool = False
    outcome: str
    outcome_note: str
    closed_at: datetime | None

    @staticmethod
    def resolve_assigned_to(obj: WorkTask) -> UUID | None:
        return obj.assigned_to.public_id if obj.assigned_to_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_overdue(obj: WorkTask) -> bool:
        return bool(getattr(obj, "overdue", False))


class TaskPage(Schema):
    count: int
    results: list[TaskOut]


class TaskFilterIn(ApiIn):
    scope: str = ""
    kind: str = ""
    status: str = "open"
    overdue: bool = False
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class CloseIn(ApiIn):
    outcome: str
    note: str = ""


class ReassignIn(ApiIn):
    assigned_to: UUID


def _mark_overdue(tasks: list[WorkTask], user: User) -> list[WorkTask]:
    todays = local_todays(program_ids_for(user))
    for task in tasks:
        today = todays.get(task.program_id, date.max)
        task.overdue = task.status == WorkTask.Status.OPEN and task.due_on < today  # type: ignore[attr-defined]
    return tasks


@router.get("/worklist/tasks", response=TaskPage)
def list_work_tasks(request: HttpRequest, filters: Query[TaskFilterIn]) -> dict[str, Any]:
    user = request_user(request)
    if filters.scope and filters.scope not in SCOPES:
        raise ValidationError({"scope": f"Use one of: {', '.join(SCOPES)}."})
    if filters.kind and filters.kind not in WorkTask.Kind.values:
        raise ValidationError({"kind": f"Use one of: {', '.join(WorkTask.Kind.values)}."})
    statuses = [*WorkTask.Status.values, "all"]
    if filters.status not in statuses:
        raise ValidationError({"status": f"Use one of: {', '.join(statuses)}."})
    if not 1 <= filters.limit <= MAX_LIMIT:
        raise ValidationError({"limit": f"Use a limit from 1 to {MAX_LIMIT}."})
    if filters.offset < 0:
        raise ValidationError({"offset": "Offset cannot be negative."})
    qs = list_tasks(
        user,
        TaskFilter(
            scope=filters.scope or default_scope(user),
            kind=filters.kind,
            status="" if filters.status == "all" else filters.status,
            overdue=filters.overdue,
        ),
    )
    results = _mark_overdue(list(qs[filters.offset : filters.offset + filters.limit]), user)
    if results:
        audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="worktask")
    return {"count": qs.count(), "results": results}


def _reloaded(user: User, task: WorkTask) -> WorkTask:
    return _mark_overdue([get_task_for_user(user, task.public_id)], user)[0]


@router.post("/worklist/tasks/{task_id}/close", response=TaskOut)
def close_work_task(request: HttpRequest, task_id: UUID, payload: CloseIn) -> WorkTask:
    user = request_user(request)
    task = get_task_for_user(user, task_id, Cap.EDIT_CLINICAL)
    actions.do_close_task(task, acting_user=user, outcome=payload.outcome, note=payload.note)
    return _reloaded(user, task)


@router.post("/worklist/tasks/{task_id}/reassign", response=TaskOut)
def reassign_work_task(request: HttpRequest, task_id: UUID, payload: ReassignIn) -> WorkTask:
    user = request_user(request)
    task = get_task_for_user(user, task_id, Cap.EDIT_CLINICAL)
    target = User.objects.filter(organization=user.organization, public_id=payload.assigned_to).first()
    if target is None:
        raise ValidationError({"assigned_to": "Unknown staff member."})
    actions.do_reassign_task(task, acting_user=user, assigned_to=target)
    return _reloaded(user, task)
