"""Forms of the drug-testing pages: an order, a collection, results per analyte, a review, a lab file."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.core.forms import DateInput, StyledFormMixin
from openiop.labs import analytes
from openiop.labs.models import Collection, LabImport, Result, TestingSchedule, TestOrder

CHECKS = [("", "Not done"), ("pass", "Pass"), ("fail", "Fail")]
WEEKDAYS = [(str(n), day) for n, day in enumerate(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                                   "Saturday", "Sunday"))]  # fmt: skip


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


def _named(code: str) -> str:
    name = analytes.name(code)
    return name if code in name else f"{name} ({code})"


class SetupForm(StyledFormMixin, forms.Form):
    """A program's testing schedule and panel. Which of percent / weekdays is needed depends on the mode, so that
    check is ``actions.do_set_schedule``'s and its errors come back onto these fields."""

    is_active = forms.BooleanField(label="Order tests on this schedule", required=False)
    mode = forms.ChoiceField(choices=TestingSchedule.Mode.choices, widget=forms.RadioSelect)
    percent = forms.IntegerField(
        label="Percentage of active patients drawn each week", min_value=1, max_value=100, required=False
    )
    weekdays = forms.TypedMultipleChoiceField(
        label="Test days (fixed weekdays)", choices=WEEKDAYS, coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    kind = forms.ChoiceField(label="Test", choices=TestOrder.Kind.choices)
    analytes = forms.MultipleChoiceField(
        label="Panel", choices=[(c, _named(c)) for c in analytes.CODES],
        widget=forms.CheckboxSelectMultiple, help_text="What the program's cups and send-outs test for.",
    )  # fmt: skip

    def schedule_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        # A fixed schedule keeps no percentage; the action stores 100 for it, so a blank one is fine there.
        percent = data["percent"] if data["percent"] is not None else 0
        return {"mode": data["mode"], "percent": percent, "weekdays": data["weekdays"], "kind": data["kind"],
                "is_active": data["is_active"]}  # fmt: skip
