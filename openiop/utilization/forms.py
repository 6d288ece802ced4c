"""Forms of the utilization pages. The actions validate and write; these only parse what was typed."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.core.forms import DateInput, StyledFormMixin
from openiop.patients.models import Coverage, EpisodeOfCare
from openiop.programs import levels
from openiop.programs.models import Program
from openiop.utilization import flags
from openiop.utilization.models import Authorization, UtilizationPolicy, UtilizationReview
from openiop.utilization.policy import POLICY_FIELDS


def _coverage_label(coverage: Coverage) -> str:
    active = "" if coverage.is_active else " (inactive)"
    return f"{coverage.get_priority_display()}: {coverage.payer_name} ({coverage.get_payer_kind_display()}){active}"


def _program_label(program: Program) -> str:
    return program.name


class AuthorizationForm(StyledFormMixin, forms.Form):
    coverage = forms.ModelChoiceField(label="Coverage", queryset=Coverage.objects.none(), empty_label=None)
    status = forms.ChoiceField(label="Status", choices=Authorization.Status.choices)
    number = forms.CharField(
        label="Authorization number",
        max_length=60,
        required=False,
        help_text="The payer's reference; blank while requested.",
    )
    level_of_care = forms.ChoiceField(label="Level of care authorized", choices=())
    start_date = forms.DateField(label="First covered day", widget=DateInput())
    end_date = forms.DateField(label="Last covered day", widget=DateInput())
    unit_kind = forms.ChoiceField(label="Units", choices=Authorization.UnitKind.choices)
    units_authorized = forms.IntegerField(
        label="Units authorized", min_value=0, max_value=1000, help_text="While requested: the units asked for."
    )
    review_due_on = forms.DateField(
        label="Next concurrent review due", required=False, widget=DateInput(), help_text="The payer's date, if given."
    )
    review_at_units_left = forms.IntegerField(
        label="Or review when this many units remain",
        required=False,
        min_value=0,
        max_value=100,
        help_text="Empty with no date: the program's default, a few days before the last covered day.",
    )
    notes = forms.CharField(label="Notes", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, episode: EpisodeOfCare, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["coverage"]
        field.queryset = Coverage.objects.filter(patient_id=episode.patient_id).order_by(  # type: ignore[attr-defined]
            "-is_active", "priority", "pk"
        )
        field.label_from_instance = _coverage_label  # type: ignore[attr-defined]
        self.fields["level_of_care"].choices = levels.choices()  # type: ignore[attr-defined]

    def action_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("number", "notes"):
            data[name] = data.get(name) or ""
        return data


class ReviewForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label="Review", choices=UtilizationReview.Kind.choices)
    requested_on = forms.DateField(label="Requested on", widget=DateInput())
    outcome = forms.ChoiceField(label="Outcome", choices=UtilizationReview.Outcome.choices)
    decided_on = forms.DateField(label="Decided on", required=False, widget=DateInput())
    units_granted = forms.IntegerField(
        label="Units granted",
        required=False,
        min_value=0,
        max_value=1000,
        help_text="Initial review: the units approved in all. Later reviews: the units added.",
    )
    new_end_date = forms.DateField(label="New last covered day", required=False, widget=DateInput())
    next_review_on = forms.DateField(
        label="Next concurrent review due", required=False, widget=DateInput(), help_text="With an approval, if given."
    )
    level_of_care = forms.ChoiceField(label="Stepped down to", required=False, choices=())
    reviewer = forms.CharField(label="Payer's reviewer", max_length=120, required=False)
    reference = forms.CharField(label="Reference", max_length=60, required=False)
    notes = forms.CharField(label="Notes", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level_of_care"].choices = [("", "—"), *levels.choices()]  # type: ignore[attr-defined]

    def action_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("level_of_care", "reviewer", "reference", "notes"):
            data[name] = data.get(name) or ""
        return data


FLAG_CHOICES = [("", "Any"), *((code, flags.LABELS[code]) for code in (*flags.AUTHORIZATION_FLAGS, flags.UNAUTHORIZED))]
STATUS_CHOICES = [("", "Requested or approved"), *Authorization.Status.choices, ("all", "All")]


class ListFilterForm(StyledFormMixin, forms.Form):
    program = forms.ModelChoiceField(
        label="Program", queryset=Program.objects.none(), required=False, empty_label="All"
    )
    flag = forms.ChoiceField(label="Flag", choices=FLAG_CHOICES, required=False)
    status = forms.ChoiceField(label="Status", choices=STATUS_CHOICES, required=False)

    def __init__(self, *args: Any, programs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["program"]
        field.queryset = programs  # type: ignore[attr-defined]
        field.label_from_instance = _program_label  # type: ignore[attr-defined]


class PolicyForm(StyledFormMixin, forms.ModelForm):
    """A program's utilization thresholds (docs/clinical-rules.md#authorizations-and-utilization-review)."""

    class Meta:
        model = UtilizationPolicy
        fields = list(POLICY_FIELDS)
        labels = {
            "expiring_within_days": "Flag an authorization ending within (days)",
            "units_low_at": "Flag when this many units or fewer remain",
            "review_due_within_days": "Flag a concurrent review due within (days)",
            "review_lead_days": "Without the payer's date, the review is due before the last covered day by (days)",
            "unauthorized_lookback_days": "Look for billable days without an authorization over the last (days)",
        }
