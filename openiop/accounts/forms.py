"""Sign-in, second-factor and password forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.signals import user_login_failed
from django.core.validators import RegexValidator

from openiop.core import registry
from openiop.core.forms import StyledFormMixin


class AccessibleFormMixin(StyledFormMixin):
    """Links each input to its help and error text by the ids partials/field.html renders (prefix included),
    and marks errors added after validation (a wrong code) as invalid too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._describe_fields()

    def full_clean(self) -> None:
        super().full_clean()
        self._describe_fields()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        self._describe_fields()

    def _describe_fields(self) -> None:
        # Not .errors: that property would clean the form while it is being built.
        errors = self._errors  # type: ignore[attr-defined]
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            auto_id = self[name].auto_id  # type: ignore[index]
            attrs = field.widget.attrs
            ids = [f"{auto_id}_help"] if field.help_text else []
            if errors is not None and name in errors:
                ids.append(f"{auto_id}_error")
                attrs["aria-invalid"] = "true"
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
            if ids:
                attrs["aria-describedby"] = " ".join(ids)
            else:
                attrs.pop("aria-describedby", None)


GENERIC_LOGIN_ERROR = (
    "The username and password do not match an active account. Check both (they are case-sensitive) and try again."
)


class LoginForm(AccessibleFormMixin, auth_forms.AuthenticationForm):
    """Django's form, which hands the request to authenticate() so django-axes can count failures.

    Wrong password, unknown username and deactivated account all get the same message, so the form never
    tells anyone which usernames exist.
    """

    error_messages = {"invalid_login": GENERIC_LOGIN_ERROR, "inactive": GENERIC_LOGIN_ERROR}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocapitalize": "none", "spellcheck": "false"})

    def login_allowed(self, user: Any) -> bool:
        """Staff sign in here; an app with a login of its own (the portal's patient and family logins) registers a
        LoginGate that refuses its accounts here."""
        return not any(gate.refuses(user) for gate in registry.login_gates)

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not self.login_allowed(user):
            # Counted and audited like a wrong password (django-axes listens to this signal), with the same
            # message, so neither login page tells anyone which kind of account a username is.
            user_login_failed.send(
                sender=type(self), credentials={"username": self.cleaned_data.get("username")}, request=self.request
            )
            raise self.get_invalid_login_error()


class AuthenticatorCodeForm(AccessibleFormMixin, forms.Form):
    """A 6-digit code from the authenticator app (enrolment)."""

    code = forms.CharField(
        label="6-digit code from the app",
        max_length=9,
        validators=[RegexValidator(r"^\s*\d{3}[\s-]?\d{3}\s*$", "Enter the 6 digits the app shows.")],
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autocapitalize": "none",
                "spellcheck": "false",
                "size": 9,
            }
        ),
    )


class MFACodeForm(AccessibleFormMixin, forms.Form):
    """A code from the authenticator app or one of the backup codes."""

    code = forms.CharField(
        label="Code",
        max_length=24,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
                "size": 12,
            }
        ),
    )


class PasswordChangeForm(AccessibleFormMixin, auth_forms.PasswordChangeForm):
    """Old password, then the new one twice; AUTH_PASSWORD_VALIDATORS decide what is strong enough."""
