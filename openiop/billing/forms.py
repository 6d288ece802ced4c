"""Forms of the billing pages: payer rules and the billable-days filter. The actions validate and write."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from openiop.accounts.models import User
from openiop.billing.actions import (
    CLINICIAN_IDENTITY_FIELDS,
    PROVIDER_FIELDS,
    RATE_FIELDS,
    SETTING_FIELDS,
    SITE_IDENTITY_FIELDS,
)
from openiop.billing.models import (
    BillableDay,
    BillingProvider,
    ClinicianBillingIdentity,
    FeeScheduleRate,
    PayerProgramSetting,
    SiteBillingIdentity,
)
from openiop.billing.queries import billing_programs, can_write_organization_rules, rule_programs_for
from openiop.core.forms import DateInput, StyledFormMixin
from openiop.patients.actions import PAYER_FIELDS
from openiop.patients.models import Coverage, Payer
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


# --- Billing setup ------------------------------------------------------------------------------------------------
# Model forms for their fields' labels and validators only: the views never call save(), the actions write.


class _PublicIdChoice(forms.ModelChoiceField):
    """Choices by public id (no integer id on a page), labelled by ``label``."""

    def __init__(self, *args: Any, label_with: Any = str, **kwargs: Any) -> None:
        kwargs.setdefault("to_field_name", "public_id")
        super().__init__(*args, **kwargs)
        self.label_with = label_with

    def label_from_instance(self, obj: Any) -> str:
        return str(self.label_with(obj))


class _SetupForm(StyledFormMixin, forms.ModelForm):
    action_names: tuple[str, ...] = ()
    # Codes people type in lower case ("261qm0801x", "ny"): upper-cased before the model's validators see them, as
    # the actions would (the API's path).
    upper: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "is_active" in self.fields:
            self.fields["is_active"].label = "Active"
            self.fields["is_active"].help_text = "Inactive: kept for the records that point at it, offered nowhere."

    def _post_clean(self) -> None:
        for name in self.upper:
            value = self.cleaned_data.get(name)
            if isinstance(value, str):
                self.cleaned_data[name] = value.strip().upper()
        super()._post_clean()  # type: ignore[misc]

    # (legend, field names) groups for the page; empty: one group of every field.
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def action_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.action_names if name in self.cleaned_data}

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        if not self.groups:
            return [("", list(self))]
        return [
            (legend, [self[n] for n in names if n in self.fields])
            for legend, names in self.groups
            if any(n in self.fields for n in names)
        ]


class BillingProviderForm(_SetupForm):
    action_names = PROVIDER_FIELDS
    upper = ("taxonomy_code", "state", "pay_to_state")
    groups = (
        ("Identity", ("legal_name", "npi", "tax_id", "taxonomy_code")),
        ("Billing address (a street address)", ("address_line1", "address_line2", "city", "state", "postal_code")),
        (
            "Pay-to address (optional: where payments go, e.g. a lock box)",
            ("pay_to_line1", "pay_to_line2", "pay_to_city", "pay_to_state", "pay_to_postal_code"),
        ),
    )

    class Meta:
        model = BillingProvider
        fields = PROVIDER_FIELDS
        labels = {"legal_name": "Legal name", "taxonomy_code": "Taxonomy code", "address_line1": "Billing address"}
        help_texts = {"address_line1": "A street address: a post office or lock box goes in the pay-to address."}


class SiteIdentityForm(_SetupForm):
    action_names = SITE_IDENTITY_FIELDS
    upper = ("taxonomy_code",)

    class Meta:
        model = SiteBillingIdentity
        fields = SITE_IDENTITY_FIELDS
        labels = {"npi": "Site NPI", "taxonomy_code": "Taxonomy code"}
        help_texts = {"taxonomy_code": "The facility's, e.g. 261QM0801X (mental health clinic/center)."}


class ClinicianIdentityForm(_SetupForm):
    action_names = CLINICIAN_IDENTITY_FIELDS
    upper = ("taxonomy_code",)
    clinician = _PublicIdChoice(label="Staff member", queryset=User.objects.none(), label_with=lambda u: u.display_name)

    class Meta:
        model = ClinicianBillingIdentity
        fields = CLINICIAN_IDENTITY_FIELDS
        labels = {"npi": "NPI (individual, type 1)", "taxonomy_code": "Taxonomy code"}
        help_texts = {"taxonomy_code": "e.g. 1041C0700X clinical social worker, 2084P0800X psychiatry."}

    def __init__(self, *args: Any, choices: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if choices is None:  # editing: the person is fixed
            del self.fields["clinician"]
        else:
            self.fields["clinician"].queryset = choices  # type: ignore[attr-defined]
            self.order_fields(["clinician"])


class PayerForm(_SetupForm):
    action_names = PAYER_FIELDS
    upper = ("payer_id", "state")
    groups = (
        ("Payer", ("name", "payer_id", "kind", "claim_filing_indicator", "timely_filing_days", "is_active")),
        ("Claims address (optional)", ("address_line1", "address_line2", "city", "state", "postal_code")),
    )

    class Meta:
        model = Payer
        fields = PAYER_FIELDS
        labels = {"address_line1": "Claims address", "timely_filing_days": "Timely filing limit (days)"}


class PayerSettingForm(_SetupForm):
    action_names = SETTING_FIELDS
    upper = ("code_standard", "code_high_tier")
    groups = (
        ("Payer and program", ("payer", "program", "claim_type")),
        ("Institutional claims (837I) only", ("type_of_bill", "revenue_code", "condition_code_92")),
        ("Professional claims (837P) only", ("place_of_service",)),
        ("Codes and rules", ("code_standard", "code_high_tier", "authorization_required", "is_active")),
    )
    payer = _PublicIdChoice(label="Payer", queryset=Payer.objects.none(), label_with=lambda p: p.name)
    program = _PublicIdChoice(label="Program", queryset=Program.objects.none(), label_with=lambda p: p.name)

    class Meta:
        model = PayerProgramSetting
        fields = SETTING_FIELDS

    def __init__(self, *args: Any, payers: Any = None, programs: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if payers is None:  # editing: the pair is fixed
            del self.fields["payer"], self.fields["program"]
        else:
            self.fields["payer"].queryset = payers  # type: ignore[attr-defined]
            self.fields["program"].queryset = programs  # type: ignore[attr-defined]
            self.order_fields(["payer", "program"])


class FeeRateForm(_SetupForm):
    action_names = RATE_FIELDS
    upper = ("code", "modifier")
    payer = _PublicIdChoice(
        label="Payer",
        queryset=Payer.objects.none(),
        required=False,
        empty_label="Organization default (payers without their own rate)",
        label_with=lambda p: p.name,
    )

    class Meta:
        model = FeeScheduleRate
        fields = RATE_FIELDS
        widgets = {"effective_from": DateInput(), "effective_to": DateInput()}
        labels = {"code": "HCPCS / CPT code", "rate": "Rate (USD)"}

    def __init__(self, *args: Any, payers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = payers  # type: ignore[attr-defined]
        self.fields["tier"].choices = [("", "Every tier"), *BillableDay.Tier.choices[1:]]  # type: ignore[attr-defined]
