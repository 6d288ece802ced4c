"""RFC 9457 problem details for every API error, naming the fields at fault."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

CONTENT_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str = "", **extra: Any) -> JsonResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JsonResponse(body, status=status, content_type=CONTENT_TYPE)


class Conflict(Exception):
    def __init__(self, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.title = title
        self.detail = detail
        self.extra = extra


def install(api: NinjaAPI) -> None:
    @api.exception_handler(NinjaValidationError)
    def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = []
        for error in exc.errors:
            loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "payload")]
            errors.append({"field": ".".join(loc), "message": error.get("msg", "invalid")})
        fields = ", ".join(e["field"] for e in errors if e["field"])
        return problem(422, "Invalid input", f"Check: {fields}" if fields else "", errors=errors)

    @api.exception_handler(ValidationError)
    def _rejected(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        if hasattr(exc, "error_dict"):
            errors = [
                {"field": "" if f == "__all__" else f, "message": m}
                for f, msgs in exc.message_dict.items()
                for m in msgs
            ]
        else:
            errors = [{"field": "", "message": m} for m in exc.messages]
        return problem(422, "Invalid input", "; ".join(e["message"] for e in errors), errors=errors)

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem(404, "Not found")

    @api.exception_handler(PermissionDenied)
    def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return problem(403, "Forbidden", "Your role does not allow this.")

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem(401, "Authentication required", "Log in, or send a bearer token.")

    @api.exception_handler(Conflict)
    def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
        return problem(409, exc.title, exc.detail, **exc.extra)

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem(exc.status_code, str(exc))
