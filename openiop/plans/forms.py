"""Forms for the plan editor, signatures and reviews. They validate input; plans.actions writes."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from openiop.accounts.models import User
from openiop.core.forms import DateInput, StyledFormMixin
from openiop.intake.models import Diagnosis
from openiop.plans.content_actions import goal_instruments
from openiop.plans.models import Goal, Intervention, Objective, PlanPolicy, PlanVersion, ProgressReview


def measure_choices() -> list[tuple[str, str]]:
    """Instruments with a total score, for a goal's measure target ("" = no measure)."""
    choices = [("", "No measure")]
    choices += [(i.code, i.short_name) for i in goal_instruments()]
    return choices


class DiagnosisChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {obj.description}"


class StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return cast(User, obj).display_name


class VersionTextForm(StyledFormMixin, forms.Form):
    strengths = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    barriers = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    patient_words = forms.CharField(
        label="In the patient's own words", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )


class ProblemForm(StyledFormMixin, forms.Form):
    statement = forms.CharField(label="Problem", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)
    diagnosis = DiagnosisChoice(
        queryset=Diagnosis.objects.none(), required=False, label="Linked diagnosis", to_field_name="public_id"
    )

    def __init__(self, *args: Any, diagnoses: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["diagnosis"]).queryset = diagnoses


class GoalForm(StyledFormMixin, forms.Form):
    statement = forms.CharField(label="Goal", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)
    measure_code = forms.ChoiceField(label="Measure", required=False, choices=())
    measure_comparator = forms.ChoiceField(label="Score", required=False, choices=[("", "—"), *Goal.Comparator.choices])
    measure_target = forms.IntegerField(label="Target", required=False, min_value=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["measure_code"]).choices = measure_choices()


class ObjectiveForm(StyledFormMixin, forms.Form):
    statement = forms.CharField(
        label="Objective (measurable)", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )
    target_date = forms.DateField(label="Target date", required=False, widget=DateInput())
    status = forms.ChoiceField(choices=Objective.Status.choices, initial=Objective.Status.NOT_STARTED)


class InterventionForm(StyledFormMixin, forms.Form):
    modality = forms.ChoiceField(choices=Intervention.Modality.choices)
    description = forms.CharField(required=False, max_length=300)
    frequency = forms.CharField(max_length=60, help_text='e.g. "3x weekly"')
    responsible = StaffChoice(queryset=User.objects.none(), required=False, to_field_name="public_id")

    def __init__(self, *args: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["responsible"]).queryset = staff


class ObjectiveStatusForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(choices=Objective.Status.choices)


class PatientSignForm(StyledFormMixin, forms.Form):
    patient_signature_name = forms.CharField(label="Patient's full name (typed)", max_length=150)
    patient_signature_method = forms.ChoiceField(
        label="How the patient signs",
        choices=PlanVersion.SignatureMethod.choices,
        initial=PlanVersion.SignatureMethod.TYPED,
        widget=forms.RadioSelect,
    )
    patient_signature_drawing = forms.CharField(required=False, widget=forms.HiddenInput)
    agreed = forms.BooleanField(
        label="I took part in writing this plan, I have read it (or had it read to me), and I agree with it.",
        required=False,
    )


class PatientDeclinedForm(StyledFormMixin, forms.Form):
    patient_declined_reason = forms.CharField(
        label="Why the patient declined to sign",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
    )


class ReviewForm(StyledFormMixin, forms.Form):
    held_on = forms.DateField(label="Held on", widget=DateInput())
    outcome = forms.ChoiceField(choices=ProgressReview.Outcome.choices, widget=forms.RadioSelect)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)


UNSCHEDULED = [(v, label) for v, label in ProgressReview.Trigger.choices if v != ProgressReview.Trigger.SCHEDULED]


class RequestReviewForm(StyledFormMixin, forms.Form):
    trigger = forms.ChoiceField(label="Why", choices=UNSCHEDULED)


class PlanPolicyForm(StyledFormMixin, forms.ModelForm):
    """A program's plan rules: when a signed plan comes into force, the patient's signature deadline, the review
    interval (docs/clinical-rules.md#treatment-plans-and-reviews)."""

    class Meta:
        model = PlanPolicy
        fields = ["in_force_at", "patient_signature_due_days", "plan_review_interval_days"]
        labels = {
            "in_force_at": "A signed plan comes into force",
            "patient_signature_due_days": "Patient signs (or declines) within (days after the clinician's signature)",
            "plan_review_interval_days": "Progress review every (days)",
        }
        widgets = {"in_force_at": forms.RadioSelect(attrs={"class": "form-check-input"})}
