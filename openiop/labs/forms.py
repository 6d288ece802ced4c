"""Forms of the drug-testing pages: an order, a collection, results per analyte, a review, a lab file."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.core.forms import DateInput
from openiop.labs import analytes
from openiop.labs.models import Collection, LabImport, Result, TestOrder

CHECKS = [("", "Not done"), ("pass", "Pass"), ("fail", "Fail")]


class OrderForm(forms.Form):
    kind = forms.ChoiceField(choices=TestOrder.Kind.choices)
    reason = forms.ChoiceField(choices=TestOrder.Reason.choices, initial=TestOrder.Reason.CLINICAL)
    due_on = forms.DateField(label="Due", widget=DateInput)


class CollectionForm(forms.Form):
    outcome = forms.ChoiceField(choices=Collection.Outcome.choices)
    collected_at = forms.DateTimeField(label="When", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    specimen_id = forms.CharField(label="Specimen id", max_length=40, required=False)
    observed = forms.BooleanField(required=False)
    temperature_in_range = forms.NullBooleanField(
        label="Temperature 32-38 °C within 4 minutes",
        widget=forms.Select(choices=[("unknown", "Not read"), ("true", "In range"), ("false", "Out of range")]),
    )
    creatinine = forms.ChoiceField(choices=CHECKS, required=False)
    ph = forms.ChoiceField(label="pH", choices=CHECKS, required=False)
    specific_gravity = forms.ChoiceField(choices=CHECKS, required=False)
    oxidants = forms.ChoiceField(choices=CHECKS, required=False)
    custody_form = forms.CharField(label="Custody form number", max_length=40, required=False)
    sealed = forms.BooleanField(label="Sealed in the patient's presence", required=False)
    released_to = forms.CharField(max_length=120, required=False)
    note = forms.CharField(max_length=500, required=False)


class ResultsForm(forms.Form):
    """One outcome per analyte of the order's panel (blank: not entered now)."""

    def __init__(self, *args: Any, codes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.codes = codes
        for code in codes:
            self.fields[f"outcome_{code}"] = forms.ChoiceField(
                label=analytes.name(code), required=False, choices=[("", "—"), *Result.Outcome.choices]
            )

    def entered(self) -> list[tuple[str, str]]:
        return [(c, self.cleaned_data[f"outcome_{c}"]) for c in self.codes if self.cleaned_data.get(f"outcome_{c}")]


class ReviewForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ImportForm(forms.Form):
    format = forms.ChoiceField(choices=LabImport.Format.choices)
    file = forms.FileField(help_text="An HL7 v2 ORU^R01 message, or a CSV file with specimen_id, mrn, analyte, result.")
