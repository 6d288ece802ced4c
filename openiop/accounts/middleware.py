"""Automatic logoff (idle and absolute) and the second-factor gate."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from openiop.accounts.mfa import has_confirmed_device, mfa_required_for
from openiop.core import audit
from openiop.core.models import AuditAction

__all__ = [
    "IDLE_KEY",
    "PORTAL_SESSION_KEY",
    "START_KEY",
    "MFAEnforcementMiddleware",
    "SessionTimeoutMiddleware",
    "mfa_required_for",
]

IDLE_KEY = "openiop_last_activity"
# The last-activity time is written when it has moved by at least this much, not on every request: a request that
# changes nothing else then saves no session (one UPDATE and its savepoint fewer). The idle check compares against the
# stored time, which is at most this far behind the real last request, so a session can end up to this much EARLY,
# never late (docs/operations.md, SESSION_IDLE_TIMEOUT_MINUTES).
IDLE_WRITE_SECONDS = 60
START_KEY = "openiop_session_started"
# Set on the request when the middleware ends a session, so the logout is audited once (as SESSION_EXPIRED).
EXPIRED_ATTR = "openiop_session_expired"
# Set by the portal's login (openiop.portal.views): this session belongs to a patient or family login, so its
# second-factor step and its expiry notice are the portal's pages, not the staff ones.
PORTAL_SESSION_KEY = "openiop_portal"


def _is_portal_session(request: HttpRequest) -> bool:
    return bool(getattr(request, "session", {}).get(PORTAL_SESSION_KEY))


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if request.headers.get("HX-Request") == "true":
        # htmx would follow a 302 and swap the login page into a fragment; HX-Redirect loads it whole.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def start_session_clock(request: HttpRequest) -> None:
    """Start both limits at sign-in (called from the user_logged_in signal)."""
    now = time.time()
    request.session[START_KEY] = now
    request.session[IDLE_KEY] = now


class SessionTimeoutMiddleware:
    """HIPAA automatic logoff: end a session idle for SESSION_IDLE_TIMEOUT_MINUTES or older than
    SESSION_ABSOLUTE_TIMEOUT_MINUTES."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            started = request.session.get(START_KEY)
            last = request.session.get(IDLE_KEY)
            idle_limit = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
            absolute_limit = settings.SESSION_ABSOLUTE_TIMEOUT_MINUTES * 60
            idle = last is not None and now - last > idle_limit
            too_old = started is not None and now - started > absolute_limit
            if idle or too_old:
                portal = _is_portal_session(request)
                audit.record(action=AuditAction.SESSION_EXPIRED, acting_user=user, obj=user)
                setattr(request, EXPIRED_ATTR, True)
                logout(request)
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"title": "Session expired", "status": 401, "detail": "Log in again."},
                        status=401,
                        content_type="application/problem+json",
                    )
                # The login page words the notice after the reason: inactivity, or the daily limit.
                reason = "1" if idle else "absolute"
                login_url = reverse("portal:login") if portal else reverse(settings.LOGIN_URL)
                return _redirect(request, f"{login_url}?expired={reason}")
            if started is None:
                request.session[START_KEY] = now
            if last is None or now - last >= IDLE_WRITE_SECONDS:
                request.session[IDLE_KEY] = now
        return self.get_response(request)


class MFAEnforcementMiddleware:
    """After the password step, a user who has a second factor (or whose role requires one) must pass it.

    Until then only the MFA, logout and static URLs answer; everything else redirects to verification or
    enrolment (the API answers 401). A portal session (patient or family login) goes to the portal's own
    verification page instead, where enrolment is optional.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_verified():
            has_device = has_confirmed_device(user)
            if has_device or mfa_required_for(user):
                portal = _is_portal_session(request)
                if portal:
                    allowed: tuple[str, ...] = (reverse("portal:mfa_verify"), reverse("portal:logout"))
                else:
                    allowed = (
                        reverse("accounts:mfa_verify"),
                        reverse("accounts:mfa_enroll"),
                        reverse("accounts:logout"),
                    )
                if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                    if request.path.startswith("/api/"):
                        return JsonResponse(
                            {
                                "title": "Second factor required",
                                "status": 401,
                                "detail": "Complete multi-factor authentication first.",
                            },
                            status=401,
                            content_type="application/problem+json",
                        )
                    if portal:
                        target = "portal:mfa_verify"
                    else:
                        target = "accounts:mfa_verify" if has_device else "accounts:mfa_enroll"
                    return _redirect(request, reverse(target))
        return self.get_response(request)
