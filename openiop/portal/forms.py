"""Portal forms: sign-in, accepting an invitation, and the staff forms for invitations and the portal policy."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.accounts.forms import AccessibleFormMixin, LoginForm
from openiop.core.forms import StyledFormMixin
from openiop.portal.models import PortalPolicy


class PortalLoginForm(LoginForm):
    """The staff login form's checks (django-axes lockout, one generic message), for portal logins only."""

    def login_allowed(self, user: Any) -> bool:
        from openiop.portal.access import account_for

        return account_for(user) is not None


class AcceptInvitationForm(AccessibleFormMixin, forms.Form):
    """Choose a username and a password; AUTH_PASSWORD_VALIDATORS decide what is strong enough (in the action)."""

    username = forms.CharField(
        label="Username",
        max_length=150,
        help_text="You sign in with this. Your email address works.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        help_text="At least 12 characters; not a common password, and not only numbers.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", "The two passwords differ; type the same one twice.")
        return data


class InviteForm(StyledFormMixin, forms.Form):
    email = forms.EmailField(
        label="Email address",
        required=False,
        help_text="Empty: the address on file.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )


class PortalPolicyForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = PortalPolicy
        fields = ["makeup_booking", "self_booking", "booking_horizon_days", "cancel_notice_hours"]
        labels = {
            "makeup_booking": "Patients may book suggested make-up sessions",
            "self_booking": "Patients may book open individual sessions",
            "booking_horizon_days": "Booking horizon (days ahead)",
            "cancel_notice_hours": "Online cancellation notice (hours)",
        }
