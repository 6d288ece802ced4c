"""API authentication: the staff session (browser, with CSRF) or a bearer token (other systems).

What a caller gets when it fails: no credentials, an unknown or revoked token, or a session that is not (or no
longer) a signed-in staff member: 401 (with `WWW-Authenticate: Bearer`, added by guards.ApiGuardMiddleware). A valid
staff session writing without the CSRF token: 403, because only a signed-in browser can be tricked into sending one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from openiop.api.models import ApiToken, hash_token


class StaffSession(SessionAuth):
    """Session auth that also requires the second factor when the user has one or their role needs one."""

    def __call__(self, request: HttpRequest) -> Any:
        # ninja checks CSRF before it looks at the session, so an anonymous write got "CSRF check failed" (403)
        # where it should learn to authenticate (401). Authenticate first; check CSRF only for a real staff session.
        user = self.authenticate(request, request.COOKIES.get(self.param_name))
        if user is None:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed")
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None or not user.is_active or user.organization_id is None:
            return None
        from openiop.accounts.mfa import has_confirmed_device
        from openiop.accounts.middleware import mfa_required_for

        if not user.is_verified() and (has_confirmed_device(user) or mfa_required_for(user)):
            return None
        return user


class BearerToken(HttpBearer):
    def __call__(self, request: HttpRequest) -> Any:
        # A request that sends an Authorization header has chosen its credentials: a wrong or revoked token (or
        # another scheme) is a 401 here, never handed on to the session (whose CSRF check would answer 403).
        if not request.headers.get(self.header):
            return None
        user = super().__call__(request)
        if user is None:
            raise AuthenticationError()
        return user

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = ApiToken.objects.select_related("user").filter(token_hash=hash_token(token)).first()
        if found is None or not found.is_usable or found.user.organization_id is None:
            return None
        now = timezone.now()
        # Touch last_used at most once a minute: a write per request would serialize busy clients.
        if found.last_used_at is None or now - found.last_used_at > timedelta(minutes=1):
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        request.api_token = found  # type: ignore[attr-defined]  # an outside system's reads pass api.disclosures.gate
        return found.user


# Bearer first: a request that carries a token is not a browser riding on a cookie, so the session's CSRF check
# must not reject it; without an Authorization header the bearer check passes the request on to the session.
AUTH = [BearerToken(), StaffSession()]
