"""Portal and staff are separate houses: a patient or family login never gets a staff page.

Staff pages check capabilities (``staff_view``), but a few only need a login (``login_required``: the home page,
Security & sign-in, password change, MFA enrolment, some schedule pages), and a portal login passes that check.
Rather than trust every such page to remember, this one place sends a portal login that asks for any staff URL to
its own portal home. The API keeps its own authentication; a portal login has no capability there (403).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from openiop.portal.access import account_for, is_portal_user
from openiop.portal.views import landing_url

# URL prefixes that are not staff pages: the portal's and family's own pages, the public questionnaire links and
# Book Now, static files, and the API (its own authentication answers 403 to a login without a role).
OPEN_PREFIXES = ("/portal/", "/family/", "/q/", "/book/", "/static/", "/api/")
# Named URLs under staff prefixes that a portal login may still reach: its reminder preferences (a portal page),
# the calendar feeds (token-authenticated, opened from the portal), the health check, and the staff login and
# logout (logging out works for anyone; the staff login refuses portal logins itself).
OPEN_VIEWS = frozenset(
    {
        "reminders:portal_preferences",
        "scheduling:feed",
        "core:healthz",
        "accounts:login",
        "accounts:logout",
    }
)


class PortalSeparationMiddleware:
    """Redirect a portal login asking for a staff URL to its portal home (after authentication and MFA)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        user: Any = getattr(request, "user", None)
        # Staff have a role and portal logins never do, so a staff request costs no query here.
        if user is None or not user.is_authenticated or user.role:
            return None
        if request.path_info.startswith(OPEN_PREFIXES):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_VIEWS:
            return None
        if not is_portal_user(user):
            return None
        account = account_for(user)
        target = landing_url(account) if account is not None else reverse("portal:login")
        if request.headers.get("HX-Request") == "true":
            # htmx would swap the portal page into a staff fragment; HX-Redirect loads it whole.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)
