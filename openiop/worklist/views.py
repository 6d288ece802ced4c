"""The work queue: my tasks and (for directors) my programs' tasks, with filters; close a task with an outcome,
or reassign it, in place with HTMX (plain pages without JavaScript). Lists name patients, so each list view writes
one PATIENTS_LISTED row (never the names); every write goes through worklist.actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.htmx import is_htmx
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, staff_view
from openiop.core.roles import Cap
from openiop.worklist.actions import do_close_task, do_reassign_task, reassign_choices
from openiop.worklist.forms import CloseTaskForm, ReassignTaskForm, TaskFilterForm
from openiop.worklist.models import WorkTask
from openiop.worklist.queries import (
    MINE,
    TaskFilter,
    default_scope,
    get_task_for_user,
    list_tasks,
    local_todays,
)

PAGE_SIZE = 50
HOME_PANEL_SIZE = 5


@dataclass(frozen=True)
class TaskRow:
    task: WorkTask
    today: date

    @property
    def overdue(self) -> bool:
        return self.task.status == WorkTask.Status.OPEN and self.task.due_on < self.today

    @property
    def due_today(self) -> bool:
        return self.task.status == WorkTask.Status.OPEN and self.task.due_on == self.today


def _rows(tasks: Any, user: User) -> list[TaskRow]:
    todays = local_todays(program_ids_for(user))
    return [TaskRow(t, todays.get(t.program_id, date.max)) for t in tasks]


def _listed(user: User, rows: list[TaskRow]) -> None:
    if rows:
        audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="worktask")


@staff_view(Cap.VIEW_CLINICAL)
def task_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    scope = default_scope(user)
    form = TaskFilterForm(request.GET or None, user=user, initial={"scope": scope, "status": "open"})
    data: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
    status = data.get("status") or WorkTask.Status.OPEN
    filters = TaskFilter(
        scope=data.get("scope") or scope,
        kind=data.get("kind") or "",
        status="" if status == "all" else status,
        overdue=bool(data.get("overdue")),
    )
    page = Paginator(list_tasks(user, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _rows(page, user)
    _listed(user, rows)
    fragment = is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"
    context = {
        "nav": "worklist",
        "form": form,
        "rows": rows,
        "page_obj": page,
        "scope": filters.scope,
        "can_edit": user.can(Cap.EDIT_CLINICAL),
        "fragment": fragment,
    }
    return render(request, "worklist/partials/task_table.html" if fragment else "worklist/list.html", context)


@staff_view(Cap.VIEW_CLINICAL)
def home_panel(request: HttpRequest) -> HttpResponse:
    """The home page's panel (loaded by HTMX): the user's next open tasks."""
    user = request_user(request)
    tasks = list_tasks(user, TaskFilter(scope=MINE))
    total = tasks.count()
    rows = _rows(tasks[:HOME_PANEL_SIZE], user) if total else []
    _listed(user, rows)
    return render(request, "worklist/partials/home_panel.html", {"rows": rows, "total": total})


def _panel(request: HttpRequest, task: WorkTask, close_form: CloseTaskForm, reassign_form: ReassignTaskForm) -> Any:
    user = request_user(request)
    context = {
        "task": task,
        "row": _rows([task], user)[0],
        "close_form": close_form,
        "reassign_form": reassign_form,
        "nav": "worklist",
    }
    template = "worklist/partials/task_panel.html" if is_htmx(request) else "worklist/task.html"
    return render(request, template, context)


def _row_response(request: HttpRequest, task: WorkTask) -> HttpResponse:
    user = request_user(request)
    task = get_task_for_user(user, task.public_id)
    return render(
        request,
        "worklist/partials/task_row.html",
        {"row": _rows([task], user)[0], "can_edit": user.can(Cap.EDIT_CLINICAL), "scope": request.GET.get("scope")},
    )


@staff_view(Cap.EDIT_CLINICAL)
def task_close(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """GET: the close and reassign forms for one task (``?cancel=1``: the plain row again); POST: close it."""
    user = request_user(request)
    task = get_task_for_user(user, public_id, Cap.EDIT_CLINICAL)
    if request.method == "GET" and request.GET.get("cancel") and is_htmx(request):
        return _row_response(request, task)
    close_form = CloseTaskForm(request.POST if request.method == "POST" else None)
    reassign_form = ReassignTaskForm(initial={"assigned_to": task.assigned_to_id}, choices=reassign_choices(task))
    if request.method == "POST" and close_form.is_valid():
        try:
            do_close_task(
                task,
                acting_user=user,
                outcome=close_form.cleaned_data["outcome"],
                note=close_form.cleaned_data["note"],
            )
        except ValidationError as exc:
            add_action_errors(close_form, exc)
        else:
            if is_htmx(request):
                return _row_response(request, task)
            messages.success(request, "Task closed.")
            return redirect(reverse("worklist:list"))
    if request.method == "GET":
        audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=task.patient, obj=task)
    return _panel(request, task, close_form, reassign_form)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def task_reassign(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    task = get_task_for_user(user, public_id, Cap.EDIT_CLINICAL)
    choices = reassign_choices(task)
    form = ReassignTaskForm(request.POST, choices=choices)
    if form.is_valid():
        try:
            do_reassign_task(task, acting_user=user, assigned_to=form.cleaned_data["assigned_to"])
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            if is_htmx(request):
                return _row_response(request, task)
            messages.success(request, "Task reassigned.")
            return redirect(reverse("worklist:list"))
    return _panel(request, task, CloseTaskForm(), form)
