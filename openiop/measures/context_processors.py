"""The safety-alert banner on every staff page, for people who can act on an alert (EDIT_CLINICAL).

The page itself pays no query: base.html loads the banner with one small HTMX request
(``measures:alert_banner``, one count query) as soon as the page is shown, so every page's own query budget
stays what its app measured, and a page served from the back/forward cache still asks afresh.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from openiop.core.roles import Cap


def _past_mfa(user: Any) -> bool:
    is_verified = getattr(user, "is_verified", None)
    if is_verified is None or is_verified():
        return True
    from openiop.accounts.mfa import has_confirmed_device
    from openiop.accounts.middleware import mfa_required_for

    return not (has_confirmed_device(user) or mfa_required_for(user))


def safety_alerts(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.can(Cap.EDIT_CLINICAL):
        return {}
    if not _past_mfa(user):
        return {}  # on the MFA pages the banner request would only be sent back to verification
    return {"safety_alert_banner_url": reverse("measures:alert_banner")}
