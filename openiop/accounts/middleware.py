"""Automatic logoff (idle and absolute) and the second-factor gate."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from openiop.core import audit
from openiop.core.models import AuditAction

IDLE_KEY = "openiop_last_activity"
START_KEY = "openiop_session_started"


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


class SessionTimeoutMiddleware:
    """HIPAA automatic logoff: end a session idle for SESSION_IDLE_TIMEOUT_MINUTES or older than the absolute limit."""

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
            expired = (last is not None and now - last > idle_limit) or (
                started is not None and now - started > absolute_limit
            )
            if expired:
                audit.record(action=AuditAction.SESSION_EXPIRED, acting_user=user, obj=user)
                logout(request)
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"title": "Session expired", "status": 401, "detail": "Log in again."},
                        status=401, content_type="application/problem+json",
                    )
                query = urlencode({"expired": "1"})
                return _redirect(request, f"{reverse(settings.LOGIN_URL)}?{query}")
            if started is None:
                request.session[START_KEY] = now
            request.session[IDLE_KEY] = now
        return self.get_response(request)


def mfa_required_for(user: object) -> bool:
    role = getattr(user, "role", "")
    return bool(role) and role in settings.MFA_REQUIRED_ROLES


class MFAEnforcementMiddleware:
    """After the password step, a user who has a second factor (or whose role requires one) must pass it.

    Until then only the MFA, logout and static URLs answer; everything else redirects to verification or
    enrolment (the API answers 401).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_verified():  # type: ignore[union-attr]
            from openiop.accounts.mfa import has_confirmed_device

            has_device = has_confirmed_device(user)
            if has_device or mfa_required_for(user):
                allowed = (
                    reverse("accounts:mfa_verify"),
                    reverse("accounts:mfa_enroll"),
                    reverse("accounts:logout"),
                )
                if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                    if request.path.startswith("/api/"):
                        return JsonResponse(
                            {"title": "Second factor required", "status": 401,
                             "detail": "Complete multi-factor authentication first."},
                            status=401, content_type="application/problem+json",
                        )
                    target = "accounts:mfa_verify" if has_device else "accounts:mfa_enroll"
                    return _redirect(request, reverse(target))
        return self.get_response(request)
