"""What every API request must be before a router sees it: a JSON body sent as JSON, and a 401 that names its scheme.

`ApiGuardMiddleware` (in settings.MIDDLEWARE) watches only paths under `/api/`. A body sent with any other content
type (text/plain, a filled-in form) is refused with 415 before authentication or parsing: text/plain is what a
cross-site form can send without a CORS preflight, so the API never reads one, whatever it contains.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from openiop.api import problems

API_PREFIX = "/api/"
# Methods whose body the API reads; a GET, HEAD or OPTIONS body is ignored.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The 415 says what would have been accepted (RFC 9110 15.5.16; Accept-Post and Accept-Patch are RFC 5789/LDP).
ACCEPT_HEADERS = {"POST": "Accept-Post", "PATCH": "Accept-Patch"}


def is_json(content_type: str) -> bool:
    """application/json or a structured +json type (application/merge-patch+json, ...); parameters are ignored."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


FORMS = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


def has_body(request: HttpRequest) -> bool:
    """Whether the request carries content. An empty form counts as none: some clients (Django's test client among
    them) send a POST that has nothing to say as a form with no fields, and an endpoint that reads no body is right to
    ignore it."""
    if "HTTP_TRANSFER_ENCODING" not in request.META:
        try:
            if int(request.META.get("CONTENT_LENGTH") or 0) <= 0:
                return False
        except ValueError:
            return True  # an unreadable length is a body we will not read either
    if request.content_type in FORMS:
        request.body  # noqa: B018  (read it first, so the API's own parser can still read it after the form parse)
        try:
            return bool(request.POST) or bool(request.FILES)
        except MultiPartParserError:
            return True  # a broken form is content too (refused, never parsed further)
    return True


class ApiGuardMiddleware:
    """415 for an API body that is not JSON; `WWW-Authenticate: Bearer` on every API 401 (RFC 9110 asks for it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        if request.method in BODY_METHODS and has_body(request) and not is_json(request.content_type or ""):
            sent = (request.content_type or "none")[:100]
            response: HttpResponse = problems.problem(
                415,
                "Unsupported media type",
                f"Send the body as application/json (Content-Type was {sent}).",
            )
            if request.method in ACCEPT_HEADERS:
                response[ACCEPT_HEADERS[request.method]] = "application/json"
            return response
        response = self.get_response(request)
        if response.status_code == 401:
            response["WWW-Authenticate"] = 'Bearer realm="OpenIOP API"'
        return response
