"""The work-queue badge in the nav: counted only when a template shows it (one query), never for HTMX fragments
or roles without the work queue."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from openiop.worklist.queries import open_task_count


class _Badge:
    def __init__(self, user: Any) -> None:
        self._user = user

    @cached_property
    def count(self) -> int:
        return open_task_count(self._user)


def worklist(request: HttpRequest) -> dict[str, Any]:
    return {"worklist_badge": _Badge(getattr(request, "user", None))}
