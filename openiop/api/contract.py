"""The API's OpenAPI contract, kept true centrally rather than in 95 decorators: every operation documents the
problem answers it can give (400 unreadable input, 401, 403, 404, 409, 415, 422), times carry the format they are
written in, and a database refusal that no rule caught first becomes a problem answer (409/422), never a 500."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from openiop.api.problems import CONTENT_TYPE, problem

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; a 422 lists the fields at fault in ``errors``.",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status"],
}

PROBLEMS = {
    "400": "Unreadable input: a NUL character or bytes that are not UTF-8, or a body that is not JSON.",
    "401": "No valid session or bearer token.",
    "403": "Your role does not allow this.",
    "404": "Not found, or outside your programs.",
    "409": "Conflicts with the record's current state.",
    "415": "The body is not JSON.",
    "422": "Invalid input; ``errors`` names each field at fault.",
}
# What the database refuses when an input slipped past every rule: the answer names no value (no row contents).
DB_REFUSED = "The record could not be saved as sent; check the values against the documented limits."
# The documented time format: what the API writes and reads ("HH:MM:SS"; seconds optional on input). OpenAPI's
# ``time`` format is RFC 3339's full-time, which requires a UTC offset the API's wall-clock times do not have.
TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$"


def _ref() -> dict[str, Any]:
    return {"$ref": "#/components/schemas/Problem"}


def _walk(node: Any) -> None:
    """Rewrite every ``format: time`` to the wall-clock pattern, everywhere in the document."""
    if isinstance(node, dict):
        if node.get("format") == "time":
            del node["format"]
            node["pattern"] = TIME_PATTERN
            node.setdefault("description", "A wall-clock time, HH:MM:SS.")
        for value in node.values():
            _walk(value)
    elif isinstance(node, list):
        for value in node:
            _walk(value)


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, description in PROBLEMS.items():
                if status == "415" and "requestBody" not in operation:
                    continue
                responses.setdefault(
                    status, {"description": description, "content": {CONTENT_TYPE: {"schema": _ref()}}}
                )
    _walk(schema.get("components", {}))
    _walk(schema.get("paths", {}))
    return schema


def _savepoint(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run an operation in a savepoint that a database error rolls back (and only a database error: a refusal
    keeps what it wrote, as before, e.g. its audit entry), so the connection stays usable for the answer."""

    @wraps(view)
    def run(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # A read writes nothing a rule could miss, and its bounded input cannot reach a database refusal: the two
        # statements a savepoint costs are spent on writes only.
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return view(request, *args, **kwargs)
        refused: Exception | None = None
        with transaction.atomic():
            try:
                result = view(request, *args, **kwargs)
            except DatabaseError:
                raise
            except Exception as exc:
                refused = exc
        if refused is not None:
            raise refused
        return result

    return run


class OpenIopApi(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        return document_problems(super().get_openapi_schema(*args, **kwargs))


def install(api: NinjaAPI) -> None:
    api.add_decorator(_savepoint, mode="operation")

    @api.exception_handler(IntegrityError)
    def _conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        return problem(409, "Conflict", DB_REFUSED)

    @api.exception_handler(DataError)
    def _data(request: HttpRequest, exc: DataError) -> HttpResponse:
        return problem(422, "Invalid input", DB_REFUSED, errors=[{"field": "", "message": DB_REFUSED}])
