"""Where the current request came from, for the audit trail.

The middleware sets it once per request; actions never take the request, so the same action serves the
HTML views, the API and management commands (which leave it empty).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestOrigin:
    ip_address: str | None = None
    user_agent: str = ""
    request_id: str = ""
    # The HTTP method: emergency access (patients/emergency.py) opens a chart to safe methods only, so no write path
    # can ride on it whatever capability its lookup names. Empty outside a request.
    method: str = ""


_NOWHERE = RequestOrigin()
_origin: contextvars.ContextVar[RequestOrigin | None] = contextvars.ContextVar("openiop_origin", default=None)


def current_origin() -> RequestOrigin:
    return _origin.get() or _NOWHERE


def set_origin(origin: RequestOrigin) -> contextvars.Token[RequestOrigin | None]:
    return _origin.set(origin)


def reset_origin(token: contextvars.Token[RequestOrigin | None]) -> None:
    _origin.reset(token)
