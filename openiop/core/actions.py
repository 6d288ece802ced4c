"""Helpers shared by the domain actions (the do_* functions that write clinical and configuration data)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models


def apply_changes(obj: models.Model, fields: Mapping[str, Any], allowed: Iterable[str]) -> list[str]:
    """Set the given fields on ``obj`` and return the names that really changed.

    Unknown names are a programming error, not user input, so they raise at once.
    """
    allowed = set(allowed)
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"{type(obj).__name__} does not accept {sorted(unknown)}")
    changed = []
    for name, value in fields.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def validate(obj: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Run the model's field, clean() and constraint validation; raises ValidationError keyed by field."""
    obj.full_clean(exclude=list(exclude))


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: message})
