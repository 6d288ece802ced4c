"""Access-checked reads of work tasks: VIEW_CLINICAL to read (403 otherwise), then only tasks of the user's own
programs (404 for anything else). Tasks name patients, so a page that lists them writes PATIENTS_LISTED."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from openiop.accounts.models import User
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.programs.models import Program
from openiop.worklist.models import WorkTask

MINE = "mine"
PROGRAMS = "programs"
SCOPES = (MINE, PROGRAMS)


def can_see_program_tasks(user: User) -> bool:
    """Directors oversee their programs' queues; auditors read them. Everyone else sees their own tasks."""
    return user.can(Cap.MANAGE_PROGRAMS) or user.can(Cap.VIEW_AUDIT)


def default_scope(user: User) -> str:
    # An auditor is never assigned tasks, so "mine" would always be empty for them.
    return MINE if user.can(Cap.EDIT_CLINICAL) or not can_see_program_tasks(user) else PROGRAMS


def scoped_tasks(user: User) -> QuerySet[WorkTask]:
    """Every task of the user's programs (no role check: callers check it first)."""
    if user.organization_id is None:
        return WorkTask.objects.none()
    return WorkTask.objects.filter(organization_id=user.organization_id, program_id__in=program_ids_for(user))


def local_todays(program_ids: list[int]) -> dict[int, date]:
    """Each program's own "today" (one query), for due and overdue."""
    return {p.pk: p.now().date() for p in Program.objects.filter(pk__in=program_ids).only("pk", "time_zone")}


def overdue_q(todays: dict[int, date]) -> Q:
    q = Q(pk__in=[])
    for program_id, today in todays.items():
        q |= Q(program_id=program_id, due_on__lt=today)
    return q & Q(status=WorkTask.Status.OPEN)


@dataclass(frozen=True)
class TaskFilter:
    scope: str = MINE
    kind: str = ""
    status: str = WorkTask.Status.OPEN
    overdue: bool = False
    program: Program | None = None


def list_tasks(user: User, filters: TaskFilter) -> QuerySet[WorkTask]:
    """The work queue, in due order, with what a row shows (one query whatever the number of rows)."""
    require(user, Cap.VIEW_CLINICAL)
    qs = scoped_tasks(user)
    if filters.scope == PROGRAMS and can_see_program_tasks(user):
        pass
    else:
        qs = qs.filter(assigned_to=user)
    if filters.program is not None:
        qs = qs.filter(program=filters.program)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.overdue:
        qs = qs.filter(overdue_q(local_todays(program_ids_for(user))))
    return qs.select_related("patient", "program", "assigned_to", "closed_by").order_by(
        "status", "due_on", "created_at", "pk"
    )


def get_task_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_CLINICAL) -> WorkTask:
    require(user, cap)
    return get_object_or_404(
        scoped_tasks(user).select_related("patient", "program__site", "assigned_to", "closed_by", "episode"),
        public_id=public_id,
    )


def open_task_count(user: User) -> int:
    """The nav badge: the user's open tasks in programs they still belong to, in one query.

    Only roles that work tasks (EDIT_CLINICAL) are ever assigned one, so the others (auditors) skip the query."""
    if not getattr(user, "is_authenticated", False) or not user.can(Cap.EDIT_CLINICAL) or user.organization_id is None:
        return 0
    return WorkTask.objects.filter(
        assigned_to=user,
        status=WorkTask.Status.OPEN,
        organization_id=user.organization_id,
        program__memberships__user=user,
    ).count()
