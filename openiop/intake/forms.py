"""Forms for the intake pages: one per section of the assessment page, the ratings grid, diagnoses, addenda.

They validate input only; intake.actions does the writes. Each section form knows the fields it saves, so a
section's HTMX save touches nothing else on the page.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms

from openiop.core.forms import DateInput, StyledFormMixin
from openiop.intake.frameworks import Framework
from openiop.intake.models import RISK_QUESTIONS, SECTIONS, SUBSTANCE_ROUTES, Diagnosis, IntakeAssessment
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program, Track

SUBSTANCE_ROWS = 6
YES_NO = [("", "Not asked"), ("yes", "Yes"), ("no", "No")]


def _style_added_fields(form: forms.Form) -> None:
    """StyledFormMixin styles the fields that exist when it runs; these forms add theirs afterwards."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select) and not isinstance(widget, forms.RadioSelect):
            css = "form-select"
        elif isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
            css = ""
        else:
            css = "form-control"
        if css and css not in widget.attrs.get("class", ""):
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class StartForm(StyledFormMixin, forms.Form):
    program = forms.ModelChoiceField(queryset=Program.objects.none(), to_field_name="public_id", empty_label=None)
    episode = forms.ModelChoiceField(
        queryset=EpisodeOfCare.objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label="None yet (before admission)",
        help_text="The waitlist or active episode this intake belongs to, if there is one.",
    )
    assessed_on = forms.DateField(widget=DateInput(), label="Assessment date")

    def __init__(self, *args: Any, programs: Any, episodes: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["program"]).queryset = programs
        cast(forms.ModelChoiceField, self.fields["episode"]).queryset = episodes

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        episode, program = data.get("episode"), data.get("program")
        if episode is not None and program is not None and episode.program_id != program.pk:
            self.add_error("episode", "Choose an episode in the assessing program.")
        return data


class NarrativeForm(StyledFormMixin, forms.Form):
    """One biopsychosocial section: a single narrative field."""

    def __init__(self, *args: Any, field: str, label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[field] = forms.CharField(
            label=label, required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=20000
        )
        _style_added_fields(self)

    def action_fields(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class SubstanceForm(StyledFormMixin, forms.Form):
    """The substance use history: narrative plus a small table (substance, route, frequency, last use, age)."""

    substance_use_history = forms.CharField(
        label="Substance use history", required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=20000
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        routes = [("", "Route"), *((r, r.capitalize()) for r in SUBSTANCE_ROUTES)]
        for i in range(SUBSTANCE_ROWS):
            self.fields[f"substance_{i}"] = forms.CharField(label=f"Substance {i + 1}", required=False, max_length=100)
            self.fields[f"route_{i}"] = forms.ChoiceField(label=f"Route {i + 1}", required=False, choices=routes)
            self.fields[f"frequency_{i}"] = forms.CharField(label=f"Frequency {i + 1}", required=False, max_length=100)
            self.fields[f"last_use_{i}"] = forms.DateField(
                label=f"Last use {i + 1}", required=False, widget=DateInput()
            )
            self.fields[f"age_first_use_{i}"] = forms.IntegerField(
                label=f"Age at first use {i + 1}", required=False, min_value=1, max_value=119
            )
        _style_added_fields(self)

    @staticmethod
    def initial_for(assessment: IntakeAssessment) -> dict[str, Any]:
        initial: dict[str, Any] = {"substance_use_history": assessment.substance_use_history}
        for i, row in enumerate(assessment.substances[:SUBSTANCE_ROWS]):
            for key, value in row.items():
                initial[f"{key}_{i}"] = value
        return initial

    def rows(self) -> list[list[forms.BoundField]]:
        keys = ("substance", "route", "frequency", "last_use", "age_first_use")
        return [[self[f"{key}_{i}"] for key in keys] for i in range(SUBSTANCE_ROWS)]

    def action_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        substances = []
        for i in range(SUBSTANCE_ROWS):
            row = {
                "substance": d.get(f"substance_{i}") or "",
                "route": d.get(f"route_{i}") or "",
                "frequency": d.get(f"frequency_{i}") or "",
                "last_use": d[f"last_use_{i}"].isoformat() if d.get(f"last_use_{i}") else "",
                "age_first_use": d.get(f"age_first_use_{i}"),
            }
            substances.append(row)
        return {"substance_use_history": d["substance_use_history"], "substances": substances}


class RiskForm(StyledFormMixin, forms.Form):
    risk_narrative = forms.CharField(
        label="Risk assessment and safety plan",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=20000,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in RISK_QUESTIONS:
            self.fields[name] = forms.ChoiceField(label=label, choices=YES_NO, required=False, widget=forms.RadioSelect)
        # The narrative reads best after the questions it explains.
        self.order_fields([name for name, _ in RISK_QUESTIONS] + ["risk_narrative"])
        _style_added_fields(self)

    @staticmethod
    def initial_for(assessment: IntakeAssessment) -> dict[str, Any]:
        initial: dict[str, Any] = {"risk_narrative": assessment.risk_narrative}
        for name, _ in RISK_QUESTIONS:
            value = getattr(assessment, name)
            initial[name] = "" if value is None else ("yes" if value else "no")
        return initial

    def action_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        fields: dict[str, Any] = {"risk_narrative": d["risk_narrative"]}
        for name, _ in RISK_QUESTIONS:
            fields[name] = {"yes": True, "no": False}.get(d.get(name) or "")
        return fields


class RecommendationForm(StyledFormMixin, forms.Form):
    recommendation = forms.ChoiceField(
        choices=IntakeAssessment.Recommendation.choices, required=False, widget=forms.RadioSelect
    )
    recommended_program = forms.ModelChoiceField(
        queryset=Program.objects.none(), to_field_name="public_id", required=False, label="Program"
    )
    recommended_track = forms.ModelChoiceField(
        queryset=Track.objects.none(), to_field_name="public_id", required=False, label="Track"
    )
    other_level_of_care = forms.CharField(
        required=False, max_length=200, label="Level of care recommended instead",
        help_text="For example: ASAM 2.5 / PHP, residential, weekly outpatient therapy.",
    )  # fmt: skip
    recommendation_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Reason", max_length=5000
    )
    referral_to = forms.CharField(required=False, max_length=300, label="Referred to")

    def __init__(self, *args: Any, programs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["recommended_program"]).queryset = programs
        tracks = Track.objects.filter(program__in=programs, is_active=True)
        cast(forms.ModelChoiceField, self.fields["recommended_track"]).queryset = tracks

    @staticmethod
    def initial_for(assessment: IntakeAssessment) -> dict[str, Any]:
        return {
            "recommendation": assessment.recommendation,
            "recommended_program": assessment.recommended_program.public_id if assessment.recommended_program else None,
            "recommended_track": assessment.recommended_track.public_id if assessment.recommended_track else None,
            "other_level_of_care": assessment.other_level_of_care,
            "recommendation_reason": assessment.recommendation_reason,
            "referral_to": assessment.referral_to,
        }

    def action_fields(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class RatingsForm(StyledFormMixin, forms.Form):
    """One framework's grid: a rating and a note per dimension, the chosen level, modifiers, rationale."""

    def __init__(self, *args: Any, framework: Framework, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.framework = framework
        for dim in framework.dimensions:
            if dim.rated:
                self.fields[f"rating_{dim.code}"] = forms.ChoiceField(
                    label=dim.label, required=False, choices=[("", "—"), *framework.ratings]
                )
            self.fields[f"note_{dim.code}"] = forms.CharField(
                label=f"Note on {dim.label}", required=False, max_length=500
            )
        self.fields["chosen_level"] = forms.ChoiceField(
            label="Level chosen by the clinician", required=False, choices=[("", "Not chosen yet"), *framework.levels]
        )
        if framework.modifiers:
            self.fields["modifiers"] = forms.MultipleChoiceField(
                choices=framework.modifiers, required=False, widget=forms.CheckboxSelectMultiple
            )
        self.fields["rationale"] = forms.CharField(
            label="Rationale", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
        )
        _style_added_fields(self)

    @staticmethod
    def initial_for(rating: Any) -> dict[str, Any]:
        if rating is None:
            return {}
        initial: dict[str, Any] = {
            "chosen_level": rating.chosen_level,
            "modifiers": rating.modifiers,
            "rationale": rating.rationale,
        }
        for d in rating.dimensions.all():
            initial[f"rating_{d.dimension}"] = d.value
            initial[f"note_{d.dimension}"] = d.note
        return initial

    def rows(self) -> list[tuple[Any, forms.BoundField | None, forms.BoundField]]:
        return [
            (dim, self[f"rating_{dim.code}"] if dim.rated else None, self[f"note_{dim.code}"])
            for dim in self.framework.dimensions
        ]

    def action_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "framework": self.framework.code.value,
            "ratings": {dim.code: d.get(f"rating_{dim.code}", "") for dim in self.framework.dimensions if dim.rated},
            "notes": {dim.code: d.get(f"note_{dim.code}", "") for dim in self.framework.dimensions},
            "chosen_level": d.get("chosen_level", ""),
            "modifiers": d.get("modifiers", []),
            "rationale": d.get("rationale", ""),
        }


class DiagnosisForm(StyledFormMixin, forms.Form):
    code = forms.CharField(label="ICD-10-CM code", max_length=10, widget=forms.TextInput(attrs={"size": 8}))
    description = forms.CharField(max_length=300)
    status = forms.ChoiceField(choices=Diagnosis.Status.choices, initial=Diagnosis.Status.CONFIRMED)
    is_primary = forms.BooleanField(label="Primary diagnosis", required=False)


class AddendumForm(StyledFormMixin, forms.Form):
    text = forms.CharField(label="Addendum", widget=forms.Textarea(attrs={"rows": 3}), max_length=20000)


NARRATIVE_SECTIONS = {name: label for name, label in SECTIONS if name != "substance_use_history"}
