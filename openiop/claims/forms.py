from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from openiop.accounts.models import User
from openiop.claims.models import Claim, SubmissionProfile
from openiop.claims.queries import payers_for_user
from openiop.core.forms import DateInput, StyledFormMixin
from openiop.core.permissions import program_ids_for
from openiop.patients.models import Payer
from openiop.programs.models import Program


def _last_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


class BuildForm(StyledFormMixin, forms.Form):
    program = forms.ModelChoiceField(label="Program", queryset=Program.objects.none(), empty_label=None)
    payer: forms.ModelChoiceField = forms.ModelChoiceField(
        label="Payer", queryset=Payer.objects.none(), empty_label=None
    )
    period_start = forms.DateField(label="From", widget=DateInput())
    period_end = forms.DateField(label="To", widget=DateInput())

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        programs = Program.objects.filter(pk__in=program_ids_for(user)).select_related("site").order_by("name")
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]
        self.fields["payer"].queryset = payers_for_user(user).filter(is_active=True)  # type: ignore[attr-defined]
        start, end = _last_month(timezone.localdate())
        self.fields["period_start"].initial = start
        self.fields["period_end"].initial = end


class FilterForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *Claim.Status.choices])
    payer: forms.ModelChoiceField = forms.ModelChoiceField(
        label="Payer", queryset=Payer.objects.none(), required=False, empty_label="Any payer"
    )
    date_from = forms.DateField(label="From", required=False, widget=DateInput())
    date_to = forms.DateField(label="To", required=False, widget=DateInput())

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = payers_for_user(user)  # type: ignore[attr-defined]


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label="Reason", max_length=300, widget=forms.TextInput())


class StatusForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(
        label="Record",
        choices=[
            (Claim.Status.PAID, "Paid"),
            (Claim.Status.DENIED, "Denied"),
            (Claim.Status.APPEALED, "Appealed"),
            (Claim.Status.DRAFT, "Back to draft"),
        ],
    )
    note = forms.CharField(label="Note", max_length=500, required=False, widget=forms.TextInput())


class ImportForm(StyledFormMixin, forms.Form):
    file = forms.FileField(label="999, 277CA or 835 file")


class DenialFilterForm(StyledFormMixin, forms.Form):
    payer: forms.ModelChoiceField = forms.ModelChoiceField(
        label="Payer", queryset=Payer.objects.none(), required=False, empty_label="Any payer"
    )
    reason = forms.RegexField(
        label="Reason (CARC)", regex=r"^[A-Z]?\d{1,4}$", max_length=5, required=False,
        error_messages={"invalid": "A claim adjustment reason code, such as 50 or 16."},
    )  # fmt: skip

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = payers_for_user(user)  # type: ignore[attr-defined]


class DenialActionForm(StyledFormMixin, forms.Form):
    """What to do about a denial: appeal it (a denied claim), correct it with a replacement, or void it."""

    action = forms.ChoiceField(
        label="Action", choices=[("appeal", "Appeal"), ("replace", "Correct (replacement)"), ("void", "Void")]
    )
    reason = forms.CharField(label="Reason", max_length=300, widget=forms.TextInput())


class ProfileForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = SubmissionProfile
        fields = [
            "sender_qualifier",
            "sender_id",
            "receiver_qualifier",
            "receiver_id",
            "submitter_name",
            "submitter_id",
            "contact_name",
            "contact_phone",
            "contact_email",
            "receiver_name",
            "receiver_etin",
            "usage",
        ]


class ReportForm(StyledFormMixin, forms.Form):
    start = forms.DateField(label="From", widget=DateInput())
    end = forms.DateField(label="To", widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The period ends before it starts.")
        return data
