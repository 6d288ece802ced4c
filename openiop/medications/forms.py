"""Forms of the Medications tab. They check the shape of the input only; medications.actions does the writes and
its errors come back onto these fields (core.forms.add_action_errors)."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.core.forms import DateInput, StyledFormMixin
from openiop.medications import formulary
from openiop.medications.models import Allergy, Medication, MoudCoordination, Reconciliation
from openiop.patients.models import EpisodeOfCare

GROUP_LABELS = {
    formulary.MOUD: "Medications for opioid use disorder",
    formulary.AUD: "Medications for alcohol use disorder",
    formulary.PSYCH: "Psychiatric medications",
    formulary.OTHER: "Other",
}


def formulary_choices() -> list[Any]:
    """The formulary as grouped choices, after a first "entered free" choice."""
    groups = [
        (label, [(i.key, i.name) for i in formulary.ITEMS if i.group == group]) for group, label in GROUP_LABELS.items()
    ]
    return [("", "Not on the list: enter it free"), *groups]


class MedicationForm(StyledFormMixin, forms.Form):
    formulary_key = forms.ChoiceField(
        label="From the formulary",
        required=False,
        help_text="Fills the name, ingredients, RxNorm codes, form, route and MOUD. Or leave it and type the name.",
    )
    name = forms.CharField(
        label="Name", max_length=200, required=False, help_text="Required for a free entry; optional (e.g. a brand)."
    )
    strength = forms.CharField(max_length=60, required=False, help_text="e.g. 8 mg/2 mg")
    dose = forms.CharField(max_length=60, required=False, help_text="e.g. 1 film")
    frequency = forms.CharField(max_length=60, required=False, help_text="e.g. once daily")
    form = forms.CharField(label="Form", max_length=40, required=False)
    route = forms.CharField(max_length=40, required=False)
    prescriber = forms.CharField(max_length=120, required=False)
    source = forms.ChoiceField(choices=Medication.Source.choices, initial=Medication.Source.SELF_REPORT)
    reason = forms.CharField(label="Reason taken", max_length=200, required=False)
    start_date = forms.DateField(label="Started", required=False, widget=DateInput())
    is_moud = forms.BooleanField(
        label="Medication for opioid use disorder (free entry)", required=False,
        help_text="Formulary items say it themselves.",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["formulary_key"].choices = formulary_choices()  # type: ignore[attr-defined]


class StopForm(StyledFormMixin, forms.Form):
    stop_date = forms.DateField(label="Stopped on", widget=DateInput())
    stop_reason = forms.CharField(label="Why", max_length=200)


class AllergyForm(StyledFormMixin, forms.Form):
    substance = forms.CharField(max_length=120)
    reaction = forms.CharField(max_length=200, required=False)
    severity = forms.ChoiceField(choices=Allergy.Severity.choices, initial=Allergy.Severity.UNKNOWN)
    noted_on = forms.DateField(label="Noted", required=False, widget=DateInput())


class ReconciliationForm(StyledFormMixin, forms.Form):
    episode = forms.ChoiceField(label="Episode")
    occasion = forms.ChoiceField(choices=Reconciliation.Occasion.choices)
    note = forms.CharField(
        label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was checked, with whom (e.g. pharmacy record, prescriber), what was resolved.",
    )  # fmt: skip

    def __init__(self, *args: Any, episodes: list[EpisodeOfCare], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.episodes = {str(e.public_id): e for e in episodes}
        self.fields["episode"].choices = [  # type: ignore[attr-defined]
            (key, f"{e.program.name} ({e.get_status_display().lower()})") for key, e in self.episodes.items()
        ]

    def clean_episode(self) -> EpisodeOfCare:
        return self.episodes[self.cleaned_data["episode"]]


class MoudForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = MoudCoordination
        fields = [
            "prescriber_name", "prescriber_practice", "prescriber_phone", "otp_name", "otp_phone", "last_dose_on",
            "last_dose_how", "last_dose_confirmed_by",
        ]  # fmt: skip
        widgets = {"last_dose_on": DateInput()}
        help_texts = {
            "prescriber_practice": "As the patient's Part 2 consent names it.",
            "otp_name": "As the patient's Part 2 consent names it.",
            "last_dose_confirmed_by": "Who confirmed it, e.g. the OTP's dosing nurse.",
        }
