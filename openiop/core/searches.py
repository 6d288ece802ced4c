"""Search criteria kept server-side behind an opaque token, so that no name, birth date or MRN enters a URL.

A search form posts its criteria; the view stores them in the session under a random token and links result pages
as ``?s=<token>&page=N``. The URL (browser history, access logs, the Referer header) holds only the token, which
means nothing outside this session and dies with it. Each kind of search keeps its newest ``KEPT`` entries.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.http import HttpRequest

KEPT = 10
_SESSION_KEY = "openiop_searches"


def remember(request: HttpRequest, kind: str, data: Mapping[str, Any], fields: Iterable[str]) -> str:
    """Store the posted ``fields`` of ``data`` (raw strings, re-validated on recall) and return their token.

    The same criteria posted again (the live search re-posts as the user types and deletes) get the token they already
    have, and the session is not written."""
    searches: dict[str, dict[str, Any]] = request.session.get(_SESSION_KEY, {})
    entries = searches.get(kind, {})
    entry = {name: data.get(name, "") for name in fields}
    for token, kept in entries.items():
        if kept == entry:
            return token
    token = secrets.token_urlsafe(9)
    entries[token] = entry
    searches[kind] = dict(list(entries.items())[-KEPT:])  # dicts keep insertion order: the newest last
    request.session[_SESSION_KEY] = searches
    return token


def recall(request: HttpRequest, kind: str, token: str) -> dict[str, Any] | None:
    """The criteria stored under ``token``, or None when unknown (expired, another session, made up)."""
    entry = request.session.get(_SESSION_KEY, {}).get(kind, {}).get(token)
    return dict(entry) if entry is not None else None
