"""Forms of the billing pages: payer rules and the billable-days filter. The actions validate and write."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from openiop.accounts.models import User
from openiop.billing.queries import billing_programs, can_write_organization_rules, rule_programs_for
from openiop.core.forms import DateInput, StyledFormMixin
from openiop.patients.models import Coverage
from openiop.programs.models import Program

# The billable-days page opens on the last two weeks; the range is capped so a page stays a page.
DEFAULT_RANGE_DAYS = 14
MAX_RANGE_DAYS = 93


def _program_label(program: Program) -> str:
    return program.name


class PayerRuleForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    code = forms.CharField(
        label="Per-diem code", max_length=20, required=False, help_text="e.g. S9480, H0015, APC 5851/5852."
    )
    program = forms.ModelChoiceField(
        label="Program", queryset=Program.objects.none(), required=False, empty_label="Every program"
    )
    payer_kind = forms.ChoiceField(
        label="Payer", required=False, choices=[("", "Every payer without its own rule"), *Coverage.PayerKind.choices]
    )
    min_services_per_day = forms.IntegerField(label="Services needed for a billable day", min_value=1, max_value=20)
    high_tier_services = forms.IntegerField(
        label="Services for the higher tier",
        required=False,
        min_value=1,
        max_value=20,
        help_text="Medicare: 4 (4-or-more-service days). Empty: one tier only.",
    )
    min_minutes_per_day = forms.IntegerField(
        label="Minutes needed per day", min_value=0, max_value=1440, initial=0, help_text="e.g. 180 for 3 hours a day."
    )
    min_minutes_per_service = forms.IntegerField(
        label="Minutes for a session to count as a service", min_value=1, max_value=480, initial=1
    )
    weekly_dose_hours = forms.DecimalField(
        label="Weekly minimum hours",
        required=False,
        min_value=Decimal("0.5"),
        max_value=Decimal("60"),
        decimal_places=1,
        help_text="This payer's weekly dose; empty = the program's.",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["program"]
        field.queryset = rule_programs_for(user)  # type: ignore[attr-defined]
        field.label_from_instance = _program_label  # type: ignore[attr-defined]
        if not can_write_organization_rules(user):
            field.required = True
            field.empty_label = None  # type: ignore[attr-defined]

    def action_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["code"] = data.get("code") or ""
        data["payer_kind"] = data.get("payer_kind") or ""
        return data


class BillableDaysForm(StyledFormMixin, forms.Form):
    program = forms.ModelChoiceField(label="Program", queryset=Program.objects.none(), empty_label=None)
    date_from = forms.DateField(label="From", widget=DateInput())
    date_to = forms.DateField(label="To", widget=DateInput())
    billable_only = forms.BooleanField(label="Billable days only", required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        programs = billing_programs(user)
        field = self.fields["program"]
        field.queryset = programs  # type: ignore[attr-defined]
        field.label_from_instance = _program_label  # type: ignore[attr-defined]
        first = programs.first()
        today = first.now().date() if first is not None else timezone.localdate()
        self.fields["program"].initial = first.pk if first is not None else None
        self.fields["date_from"].initial = today - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        self.fields["date_to"].initial = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", "The range must end on or after its start.")
            elif (end - start).days >= MAX_RANGE_DAYS:
                self.add_error("date_to", f"Choose a range of at most {MAX_RANGE_DAYS} days.")
        return data
