"""Who may open a portal page: ``portal_view`` for views, ``account_for`` for everything else.

Staff logins and anonymous visitors never reach a portal page's body: anonymous visitors are sent to the portal
login, a logged-in user without an active portal account gets 404 (an outsider learns nothing), and an account of
the other kind gets 403. The view receives ``request.portal_account`` and must scope every lookup to
``request.portal_account.patient`` (404 for anything else).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse

from openiop.portal.models import AccountKind, PortalAccount

V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def account_for(user: Any) -> PortalAccount | None:
    """The user's active portal account, or None (staff, anonymous, deactivated, or the patient's record or the
    contact deactivated since)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if hasattr(user, "_openiop_portal_account"):
        cached: PortalAccount | None = user._openiop_portal_account
        return cached
    account = (
        PortalAccount.objects.select_related("patient", "patient__organization", "contact")
        .filter(user=user, is_active=True, patient__is_active=True)
        .first()
    )
    if account is not None and account.contact is not None and not account.contact.is_active:
        account = None
    user._openiop_portal_account = account
    return account


def is_portal_user(user: Any) -> bool:
    """Whether the login belongs to a patient or a family member (active or not): such a login never signs in at
    the staff login, and staff logins never sign in at the portal's."""
    if not getattr(user, "pk", None):
        return False
    return PortalAccount.objects.filter(user_id=user.pk).exists()


def portal_view(kind: AccountKind | None = None) -> Callable[[V], V]:
    """Decorator for portal pages. ``kind`` limits the page to patient or family accounts (None: either)."""

    def decorator(view: V) -> V:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{reverse('portal:login')}?{query}")
            account = account_for(request.user)
            if account is None:
                raise Http404
            if kind is not None and account.kind != kind:
                raise PermissionDenied
            request.portal_account = account  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
