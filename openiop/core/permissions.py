"""Access checks shared by every domain.

Order matters: the role check comes first and answers 403 whatever the record, then lookups are scoped
to the user's organization and programs so anything outside them is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from openiop.core.roles import Cap, Role

V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def require(user: Any, cap: Cap) -> None:
    """Raise PermissionDenied (403) unless the user's role grants ``cap``."""
    if not getattr(user, "is_authenticated", False) or not user.can(cap):
        raise PermissionDenied


def staff_view(cap: Cap) -> Callable[[V], V]:
    """Decorator for staff pages: logged in (MFA enforced by middleware) and holding ``cap``."""

    def decorator(view: V) -> V:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            require(request.user, cap)
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


# ``user`` is the staff User (openiop.accounts), which sits above core: typed Any like ``require``.
def program_ids_for(user: Any) -> list[int]:
    """Programs whose patients the user may see (membership only: sysadmins manage, they do not read charts)."""
    if not user.is_authenticated or not user.is_active or user.organization_id is None:
        return []
    cached = getattr(user, "_openiop_program_ids", None)
    if cached is None:
        cached = list(
            user.memberships.filter(program__site__organization_id=user.organization_id).values_list(
                "program_id", flat=True
            )
        )
        user._openiop_program_ids = cached
    return cached


def is_read_only(user: Any) -> bool:
    return user.role == Role.AUDITOR
