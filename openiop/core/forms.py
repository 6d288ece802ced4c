"""Form helpers: Bootstrap classes, invalid markers, and mapping action errors back onto fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError


class StyledFormMixin:
    """Adds Bootstrap classes and marks invalid fields (aria-invalid) so errors are visible and announced."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            elif isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                css = ""
            else:
                css = "form-control"
            if css:
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        # Marking happens after validation (never in __init__, which would validate before subclasses are ready).
        super().full_clean()  # type: ignore[misc]
        self.mark_invalid_fields()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)  # type: ignore[misc]
        self.mark_invalid_fields()

    def mark_invalid_fields(self) -> None:
        for name in getattr(self, "_errors", None) or {}:
            if name in self.fields:  # type: ignore[attr-defined]
                widget = self.fields[name].widget  # type: ignore[attr-defined]
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-invalid"] = "true"
                bound = self[name]  # type: ignore[index]
                widget.attrs["aria-describedby"] = f"{bound.auto_id}_error"


def add_action_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put an action's ValidationError on the form: per field where it names one, otherwise non-field."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%H:%M")


class ReadOnceChoiceIterator(forms.models.ModelChoiceIterator):
    """A model choice field's options read from its queryset's result cache: one query however often the options are
    listed (a view that looks at the choices, a template that renders the select), where Django's iterator runs the
    query each time. Set as ``field.iterator``; for a queryset that does not change during the request."""

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:  # evaluated once, then served from the queryset's cache
            yield self.choice(obj)
