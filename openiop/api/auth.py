"""API authentication: the staff session (browser, with CSRF) or a bearer token (other systems)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from openiop.api.models import ApiToken, hash_token


class StaffSession(SessionAuth):
    """Session auth that also requires the second factor when the user has one or their role needs one."""

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
