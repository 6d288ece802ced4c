"""The staff form for an education material. It validates input; family.actions writes."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from openiop.core.forms import StyledFormMixin
from openiop.programs.models import Program


class MaterialForm(StyledFormMixin, forms.Form):
    program = forms.ModelChoiceField(queryset=Program.objects.none(), to_field_name="public_id", empty_label=None)
    title = forms.CharField(max_length=150)
    summary = forms.CharField(max_length=300, help_text="One or two sentences shown in the list.")
    body = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Plain text; a blank line starts a paragraph.",
    )
    link = forms.URLField(
        required=False, assume_scheme="https", label="Link (optional)", help_text="A page or video outside OpenIOP."
    )
    sequence = forms.IntegerField(min_value=0, max_value=32767, required=False, label="Order in the list")
    is_active = forms.BooleanField(required=False, initial=True, label="Shown to families")

    def __init__(self, *args: Any, programs: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["program"]).queryset = programs
        if editing:
            del self.fields["program"]  # a material stays with the program it was written for

    def action_fields(self) -> dict[str, Any]:
        d = dict(self.cleaned_data)
        d.pop("program", None)
        if d.get("sequence") is None:
            d.pop("sequence", None)
        return d
