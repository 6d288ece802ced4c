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


def safety_alerts(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.can(Cap.EDIT_CLINICAL):
        return {}
    return {"safety_alert_banner_url": reverse("measures:alert_banner")}
