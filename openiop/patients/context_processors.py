"""The emergency-review count in the nav: counted only when ``base.html`` shows it (one query), for reviewers."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from openiop.patients.emergency import unreviewed_count


class _Badge:
    def __init__(self, user: Any) -> None:
        self._user = user

    @cached_property
    def count(self) -> int:
        return unreviewed_count(self._user) if self._user is not None else 0


def emergency_reviews(request: HttpRequest) -> dict[str, Any]:
    return {"emergency_badge": _Badge(getattr(request, "user", None))}
