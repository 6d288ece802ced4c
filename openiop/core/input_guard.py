"""Reject input the database cannot store before any view sees it: a NUL character (PostgreSQL text cannot hold
one) or bytes that are not UTF-8, in the path, the query string or a form or JSON body. The answer is a 400: a
problem body under ``/api/``, a plain page elsewhere. Nothing of the input is echoed or logged."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

# A JSON ``\u0000`` escape (any hex case), not itself an escaped backslash followed by "u0000".
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_FORM_TYPES = ("application/x-www-form-urlencoded",)


def _bad_bytes(raw: bytes) -> bool:
    if b"\x00" in raw:
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _bad_encoded(text: str) -> bool:
    """A percent-encoded string (query string, form body) that decodes to a NUL or to bytes that are not UTF-8."""
    return _bad_bytes(unquote_to_bytes(text.replace("+", " ")))


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _rejected(request: HttpRequest) -> bool:
    # The WSGI handler has already decoded the path (undecodable bytes become U+FFFD, a NUL stays a NUL).
    if "\x00" in request.path or "\ufffd" in request.path:
        return True
    query = request.META.get("QUERY_STRING", "")
    if query and _bad_encoded(query):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    content_type = (request.content_type or "").lower()
    if _is_json(content_type):
        body = request.body
        if _bad_bytes(body):
            return True
        return bool(_JSON_NUL.search(body.decode("utf-8")))
    if content_type in _FORM_TYPES:
        return _bad_encoded(request.body.decode("latin-1"))
    if content_type == "multipart/form-data":
        # The text fields only: an uploaded file may hold any bytes.
        return any("\x00" in value for values in request.POST.lists() for value in values[1])
    return False


class InputGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _rejected(request):
            return bad_request(request)
        return self.get_response(request)


def bad_request(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        body = {
            "type": "about:blank",
            "title": "Unreadable input",
            "status": 400,
            "detail": "The request holds a NUL character or bytes that are not UTF-8; send UTF-8 text without "
            "control characters.",
        }
        return JsonResponse(body, status=400, content_type="application/problem+json")
    return HttpResponse(render_to_string("400.html", request=None), status=400)
