"""No PHI in logs: the filter on every log handler, and the exception reports that withhold request data.

``PHIFilter`` is installed on every handler in ``settings.LOGGING`` (and on gunicorn's, by
``openiop.core.gunicorn_logging.Logger``). It rewrites each record once, in place, before any handler formats it:

- an exception is logged as its class and its frames (file, line, code), never its message: database errors quote
  whole rows ("DETAIL: Failing row contains (...)"), and ``int()``, date parsing or a ``KeyError`` quote the input;
- exceptions passed as arguments become their class name; PostgreSQL's ``DETAIL:`` text is cut from any message;
- query strings are cut from every URL in a message (search terms were names and birth dates);
- on the request loggers (``django.request``, ``django.server``, ``django.security.*``, ``gunicorn.*``, ``axes``) a
  path keeps only its UUIDs and the URLconf's own words: a mistyped ``/patients/Jane Doe/`` is logged as
  ``/patients/…/``; the request object (its body, query string and headers) is dropped from the record;
- SQL text and parameters of ``django.db.backends`` (only logged at DEBUG) are withheld.

The technical 500 report is scrubbed in ``openiop.core.exception_reports``. This module imports nothing of Django
but its settings, so gunicorn's master process can load it before Django is set up.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.conf import settings

WITHHELD = "[withheld: may hold PHI]"
REDACTED_SEGMENT = "…"

_REQUEST_LOGGERS = ("django.request", "django.server", "django.security", "gunicorn", "axes")
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
# A URL or an absolute path standing on its own in a message: at the start, or after a space, quote, bracket or "=".
_URL = re.compile(r"""(?<![^\s"'(\[=,])((?:https?://[^\s/?#"']+)?/[^\s"']*)""")
# The query string itself, and headers that are credentials.
_WITHHELD_ATOMS = frozenset(
    ("q", "{query_string}e", "{http_cookie}e", "{http_authorization}e", "{cookie}i", "{authorization}i")
)
_DETAIL = re.compile(r"(DETAIL|Failing row contains|Key \().*", re.DOTALL)


def safe_path(path: str) -> str:
    """The path with every segment that is neither a UUID nor a word of the URLconf replaced, and no query."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    static = (settings.STATIC_URL if settings.configured else None) or "/static/"
    if path.startswith(static):
        return path  # file names of the static assets, never data
    words = _url_words()
    return "/".join(
        seg if not seg or seg in words or _UUID.fullmatch(seg) else REDACTED_SEGMENT for seg in path.split("/")
    )


@lru_cache(maxsize=4)
def _url_words_for(urlconf: str) -> frozenset[str]:
    from django.urls import get_resolver  # the URLconf imports every app: not at settings time

    words: set[str] = set()

    def walk(patterns: Any) -> None:
        for entry in patterns:
            text = re.sub(r"<[^>]*>|\{[^}]*\}|\([^)]*\)", "/", str(entry.pattern))
            words.update(w for w in re.split(r"[/^$\\]", text) if re.fullmatch(r"[A-Za-z0-9_.-]+", w))
            if hasattr(entry, "url_patterns"):
                walk(entry.url_patterns)

    walk(get_resolver(urlconf).url_patterns)
    return frozenset(words)


def _url_words() -> frozenset[str]:
    try:
        return _url_words_for(settings.ROOT_URLCONF)
    except Exception:  # the URLconf does not load (a broken deploy): keep only UUIDs rather than fail to log
        return frozenset()


def scrub_text(text: str, *, paths: bool) -> str:
    """Cut query strings (and with ``paths`` the unknown path segments) from every URL in ``text``, and DETAIL."""
    if "/" in text:
        text = _URL.sub(lambda m: _scrub_url(m.group(1), paths), text)
    if "DETAIL" in text or "Failing row" in text or "Key (" in text:
        text = _DETAIL.sub(WITHHELD, text)
    return text


def _scrub_url(url: str, paths: bool) -> str:
    origin = ""
    if url.startswith(("http://", "https://")):
        scheme, _, rest = url.partition("://")
        host, _, path = rest.partition("/")
        origin, url = f"{scheme}://{host}", "/" + path
    if paths:
        return origin + safe_path(url)
    return origin + url.split("?", 1)[0]


def exception_text(exc: BaseException) -> str:
    """The traceback as Python prints it, chained exceptions included, with every message withheld."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and not any(current is seen for seen in chain):
        chain.append(current)
        cause = current.__cause__
        current = cause if cause is not None else None if current.__suppress_context__ else current.__context__
    parts: list[str] = []
    ordered = chain[::-1]  # the first raised first, as Python prints it
    for position, item in enumerate(ordered):
        if position:
            direct = item.__cause__ is ordered[position - 1]
            parts.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
                if direct
                else "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        frames = "".join(traceback.format_tb(item.__traceback__)) if item.__traceback__ else ""
        if frames:
            parts.append("Traceback (most recent call last):\n" + frames)
        parts.append(f"{_qualified(type(item))}: {WITHHELD}\n")
    return "".join(parts).rstrip("\n")


def _qualified(cls: type) -> str:
    module = cls.__module__
    return cls.__qualname__ if module in ("builtins", "__main__") else f"{module}.{cls.__qualname__}"


def _safe_arg(value: Any, *, paths: bool) -> Any:
    if isinstance(value, BaseException):
        return type(value).__name__
    if paths and isinstance(value, str) and value.startswith("/"):
        # A whole argument that is a path (django.request's request.path, gunicorn's PATH_INFO) is decoded and may
        # hold spaces ("/patients/Jane Doe/"), which would end a path found in the formatted message.
        return safe_path(value)
    return value


class PHIFilter(logging.Filter):
    """Rewrite a record so that nothing in it can carry PHI; never drops a record (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_phi_scrubbed", False):
            return True  # the first handler already did it: the record is shared by every handler
        record._phi_scrubbed = True
        paths = record.name.startswith(_REQUEST_LOGGERS)
        # The request carries the body, query string and headers; Django's mail handler would report them.
        if hasattr(record, "request"):
            record.request = None
        if record.name.startswith("django.db.backends") and record.args:
            record.msg, record.args = "database query withheld (%s)", (WITHHELD,)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = exception_text(record.exc_info[1])
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = WITHHELD
        try:
            if isinstance(record.args, Mapping):
                # gunicorn's access log: a dict of atoms (request line, path, query, referer, headers, environ)
                # (gunicorn's SafeAtoms answers "-" for a missing atom: rewrite it in place to keep that).
                atoms: Any = record.args
                for key, value in list(atoms.items()):
                    if key in _WITHHELD_ATOMS:
                        atoms[key] = "-"
                    elif isinstance(value, str):
                        atoms[key] = safe_path(value) if value.startswith("/") else scrub_text(value, paths=True)
            elif record.args:
                record.args = tuple(_safe_arg(arg, paths=paths) for arg in record.args)
            message = record.getMessage()
        except Exception:  # a malformed call: its arguments would be printed by logging's error report
            message = f"unformattable log message ({record.msg!r:.80})"
        record.msg, record.args = scrub_text(message, paths=paths), ()
        return True


def axes_client_str(username: str, ip_address: str, user_agent: str, path_info: str, request: Any) -> str:
    """django-axes names the client in its log lines: a portal username is a patient's, so only the path."""
    return f'{{path_info: "{safe_path(path_info or "")}"}}'
