"""Helpers shared by the domain actions (the do_* functions that write clinical and configuration data)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

from openiop.core import audit
from openiop.core.models import AuditAction


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
    check_changes(obj, changed)
    return changed


def _condition_fields(node: Any) -> set[str]:
    """The field names a constraint's condition reads (``stop_time__gt=F("start_time")`` reads both)."""
    names: set[str] = set()
    if isinstance(node, models.Q):
        for child in node.children:
            names |= _condition_fields(child)
    elif isinstance(node, tuple):
        lookup, value = node
        names.add(lookup.split("__")[0])
        names |= _condition_fields(value)
    elif isinstance(node, models.F):
        names.add(node.name.split("__")[0])
    return names


def check_changes(obj: models.Model, changed: Iterable[str]) -> None:
    """Refuse, naming the field, what the database would refuse of a change: an empty (null) value where the
    column takes none, text past its length, and a check constraint broken by the change against the values
    already stored (a stop time before the stored start time), so no partial update reaches the database as an
    error."""
    changed = list(changed)
    errors: dict[str, str] = {}
    for name in changed:
        try:
            field = obj._meta.get_field(name)
        except FieldDoesNotExist:  # a property the action sets
            continue
        if not isinstance(field, models.Field):
            continue
        value = getattr(obj, field.attname, None)
        if value is None and not field.null:
            errors[name] = "This field cannot be empty (null)."
        elif isinstance(value, str) and field.max_length and len(value) > field.max_length:
            errors[name] = f"Use at most {field.max_length} characters."
    if errors:
        raise ValidationError(errors)
    for constraint in obj._meta.constraints:
        if not isinstance(constraint, models.CheckConstraint):
            continue
        fields = _condition_fields(constraint.condition)
        touched = [name for name in changed if name in fields]
        if not touched:
            continue
        try:
            constraint.validate(type(obj), obj)  # type: ignore[attr-defined]  # not in django-stubs yet
        except ValidationError:
            others = sorted(fields - set(touched))
            message = f"This conflicts with the record's {', '.join(others)}." if others else "Not allowed here."
            raise ValidationError({touched[-1]: message}) from None


def validate(obj: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Run the model's field, clean() and constraint validation; raises ValidationError keyed by field."""
    obj.full_clean(exclude=list(exclude))


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: message})


def write_config(
    obj: models.Model,
    fields: Mapping[str, Any],
    allowed: Iterable[str],
    check: Callable[[Any], None],
    *,
    acting_user: Any,
    organization_id: int,
) -> list[str]:
    """Create or change one row of an organization's configuration (a payer, a billing identity, a fee): set the
    fields, and when anything changed (or the row is new) check it, save it and write its CONFIG_CHANGED audit row
    with the changed field names. Returns the names that changed. Callers hold the transaction and any lock."""
    new = obj.pk is None
    changed = apply_changes(obj, fields, allowed)
    if new or changed:
        check(obj)
        obj.save()
        audit.record(
            action=AuditAction.CONFIG_CHANGED,
            acting_user=acting_user,
            obj=obj,
            organization_id=organization_id,
            changed_fields=changed,
        )
    return changed
