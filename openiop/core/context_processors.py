from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from openiop.core.roles import Cap, capabilities_for


def openiop(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    caps: frozenset[Cap] = frozenset()
    if user is not None and user.is_authenticated:
        caps = capabilities_for(getattr(user, "role", ""))
    return {
        "caps": {c.value: True for c in caps},
        "session_idle_timeout_minutes": settings.SESSION_IDLE_TIMEOUT_MINUTES,
        # Set by portal.access.portal_view on portal pages; portal templates read the account from here.
        "portal_account": getattr(request, "portal_account", None),
    }
