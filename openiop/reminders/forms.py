from __future__ import annotations

from typing import Any

from django import forms

from openiop.core.forms import StyledFormMixin, TimeInput


class PreferencesForm(StyledFormMixin, forms.Form):
    email_opt_in = forms.BooleanField(label="Email reminders", required=False)
    sms_opt_in = forms.BooleanField(label="Text message reminders", required=False)
    quiet_start = forms.TimeField(
        label="Quiet hours from", required=False, widget=TimeInput(), help_text="No reminders between these times."
    )
    quiet_end = forms.TimeField(
        label="Quiet hours until",
        required=False,
        widget=TimeInput(),
        help_text="Leave both empty for the clinic's usual quiet hours; the same time twice means none.",
    )

    def action_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "email_opt_in": d["email_opt_in"],
            "sms_opt_in": d["sms_opt_in"],
            "quiet_start": d["quiet_start"],
            "quiet_end": d["quiet_end"],
        }


def initial_for(preference: Any) -> dict[str, Any]:
    if preference is None:
        return {"email_opt_in": False, "sms_opt_in": False}
    return {name: getattr(preference, name) for name in PreferencesForm.base_fields}
