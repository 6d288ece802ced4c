"""Access checks shared by every domain.

Order matters: the role check comes first and answers 403 whatever the record, then lookups are scoped
to the user's organization and programs so anything outside them is a 404.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from openiop.core.roles import Cap, Role

V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def require(user: Any, *caps: Cap, any_of: Iterable[Cap] = ()) -> None:
    """Raise PermissionDenied (403) unless the user's role grants every one of ``caps`` and, if ``any_of`` is given,
    at least one of those."""
    alternatives = tuple(any_of)
    if (
        not getattr(user, "is_authenticated", False)
        or not all(user.can(cap) for cap in caps)
        or (alternatives and not any(user.can(cap) for cap in alternatives))
    ):
        raise PermissionDenied


def staff_view(*caps: Cap, any_of: Iterable[Cap] = ()) -> Callable[[V], V]:
    """Decorator for staff pages: logged in (MFA enforced by middleware), then ``require(user, *caps, any_of=...)``.

    Positional capabilities are all required (``@staff_view(Cap.VIEW_PATIENTS, Cap.EDIT_CLINICAL)``); ``any_of``
    asks for at least one of its capabilities (``@staff_view(any_of=(Cap.EDIT_CLINICAL, Cap.MANAGE_PROGRAMS))``), and
    the two combine. The check runs before the view looks anything up, so the 403 is the same whatever the record.
    """
    alternatives = tuple(any_of)
    if not caps and not alternatives:
        # A staff page with no capability at all is a forgotten argument, not an open page.
        raise TypeError("staff_view needs at least one capability")

    def decorator(view: V) -> V:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            require(request.user, *caps, any_of=alternatives)
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
