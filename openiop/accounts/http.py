"""The signed-in user of a request, typed as OpenIOP's own ``User``.

It lives in accounts, not core, because core imports no domain app (docs/architecture.md, "Layers").
"""

from __future__ import annotations

from django.http import HttpRequest

from openiop.accounts.models import User


def request_user(request: HttpRequest) -> User:
    """The request's user, typed: every caller sits behind a login check (``staff_view``, ``login_required``, the
    portal's guards or the API's auth), so it is never the anonymous user there."""
    return request.user  # type: ignore[return-value]
