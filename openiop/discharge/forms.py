"""Forms for the discharge pages: start, the summary and aftercare sections, a follow-up's outcome.

Each section form's ``action_fields()`` is what its action takes; list fields are typed one item per line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from openiop.core.forms import DateInput, StyledFormMixin
from openiop.discharge.models import (
    RELAPSE_PLAN_HEADINGS,
    SAFETY_PLAN_HEADINGS,
    AftercarePlan,
    DischargeSummary,
    FollowUp,
    StepDownLevel,
)
from openiop.patients.models import EpisodeOfCare

SUPPORT_GROUP_ROWS = 4
_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
_YES_NO = [("", "Not asked"), ("yes", "Yes"), ("no", "No")]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _text(lines: Any) -> str:
    return "\n".join(lines or [])


def _reason_choices() -> list[tuple[str, str]]:
    return [("", "Choose…"), *[(v, f"{v}. {label}") for v, label in EpisodeOfCare.DischargeReason.choices]]


class StartForm(StyledFormMixin, forms.Form):
    reason = forms.ChoiceField(label="Discharge reason (TEDS-D)", choices=_reason_choices)
    discharge_on = forms.DateField(label="Discharge date", widget=DateInput)
    discharge_now = forms.BooleanField(
        label="The patient has already left: discharge the episode now and write the summary afterwards",
        required=False,
    )

    def action_fields(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class SummaryForm(StyledFormMixin, forms.Form):
    reason = forms.ChoiceField(label="Discharge reason (TEDS-D)", choices=_reason_choices)
    discharge_on = forms.DateField(label="Discharge date", widget=DateInput)
    course_of_treatment = forms.CharField(
        label="Course of treatment",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Services received, response to treatment, significant events.",
    )
    condition_at_discharge = forms.CharField(
        label="Condition at discharge", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, summary: DischargeSummary, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {name: getattr(summary, name) for name in ("reason", "discharge_on", "course_of_treatment",
                                                                   "condition_at_discharge")}
        )  # fmt: skip
        super().__init__(*args, **kwargs)
        if summary.episode.status == EpisodeOfCare.Status.DISCHARGED:
            # The episode's own coded reason and date: shown, not editable (the action refuses a change).
            for name in ("reason", "discharge_on"):
                self.fields[name].disabled = True

    def action_fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if not self.fields[k].disabled}


class StepDownForm(StyledFormMixin, forms.Form):
    step_down_level = forms.ChoiceField(
        label="Step-down level", choices=[("", "Choose…"), *StepDownLevel.choices], required=False
    )
    step_down_other = forms.CharField(label="Other level or service", max_length=200, required=False)
    appointment_provider = forms.CharField(label="Provider", max_length=150, required=False)
    appointment_organization = forms.CharField(label="Organization", max_length=200, required=False)
    appointment_phone = forms.CharField(label="Phone", max_length=40, required=False)
    appointment_address = forms.CharField(label="Address", max_length=300, required=False)
    appointment_at = forms.CharField(
        label="Date and time",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="The program's local time.",
    )

    def __init__(self, *args: Any, plan: AftercarePlan, tz: ZoneInfo, **kwargs: Any) -> None:
        self.tz = tz
        initial = {name: getattr(plan, name) for name in self.base_fields if name != "appointment_at"}
        if plan.appointment_at:
            initial["appointment_at"] = timezone.localtime(plan.appointment_at, tz).strftime(_LOCAL_FORMAT)
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)

    def clean_appointment_at(self) -> datetime | None:
        value = (self.cleaned_data.get("appointment_at") or "").strip()
        if not value:
            return None
        try:
            # Wall-clock time in the program's zone, whatever zone the server or the browser is in.
            return datetime.fromisoformat(value[:16]).replace(tzinfo=self.tz)
        except ValueError:
            raise forms.ValidationError("Give the date and time, e.g. 2026-12-08 14:30.") from None

    def action_fields(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class SupportsForm(StyledFormMixin, forms.Form):
    medications = forms.CharField(
        label="Medications", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: name, dose, how often, prescriber.",
    )  # fmt: skip
    family_supports = forms.CharField(
        label="Family and natural supports", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, plan: AftercarePlan, **kwargs: Any) -> None:
        groups = list(plan.support_groups or [])
        initial: dict[str, Any] = {"medications": _text(plan.medications), "family_supports": plan.family_supports}
        for i, group in enumerate(groups[:SUPPORT_GROUP_ROWS]):
            initial[f"group_{i}_name"] = group.get("name", "")
            initial[f"group_{i}_schedule"] = group.get("schedule", "")
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        # As many rows as the plan has groups (the API may add more than the page offers), never fewer than four;
        # added after the mixin styled the declared fields, so they get their class here.
        self.group_count = max(SUPPORT_GROUP_ROWS, len(groups))
        for i in range(self.group_count):
            for part, label in (("name", f"Group {i + 1}"), ("schedule", f"When group {i + 1} meets")):
                field = forms.CharField(label=label, max_length=150, required=False)
                field.widget.attrs["class"] = "form-control"
                self.fields[f"group_{i}_{part}"] = field

    def group_rows(self) -> list[tuple[Any, Any]]:
        return [(self[f"group_{i}_name"], self[f"group_{i}_schedule"]) for i in range(self.group_count)]

    def action_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        groups = [{"name": d[f"group_{i}_name"], "schedule": d[f"group_{i}_schedule"]} for i in range(self.group_count)]
        return {
            "medications": _lines(d["medications"]),
            "family_supports": d["family_supports"],
            "support_groups": [g for g in groups if g["name"] or g["schedule"]],
        }


class _HeadingsForm(StyledFormMixin, forms.Form):
    headings: tuple[tuple[str, str], ...] = ()
    field_name = ""

    def __init__(self, *args: Any, value: dict[str, list[str]], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {key: _text(value.get(key)) for key, _ in self.headings})
        super().__init__(*args, **kwargs)

    def action_fields(self) -> dict[str, Any]:
        return {self.field_name: {key: _lines(self.cleaned_data[key]) for key, _ in self.headings}}


def _heading_fields(headings: tuple[tuple[str, str], ...]) -> dict[str, forms.Field]:
    return {
        key: forms.CharField(
            label=label, required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="One per line."
        )
        for key, label in headings
    }


SafetyPlanForm = type(
    "SafetyPlanForm",
    (_HeadingsForm,),
    {"headings": SAFETY_PLAN_HEADINGS, "field_name": "safety_plan", **_heading_fields(SAFETY_PLAN_HEADINGS)},
)
RelapsePlanForm = type(
    "RelapsePlanForm",
    (_HeadingsForm,),
    {
        "headings": RELAPSE_PLAN_HEADINGS,
        "field_name": "relapse_prevention",
        **_heading_fields(RELAPSE_PLAN_HEADINGS),
    },
)


class FollowUpForm(StyledFormMixin, forms.Form):
    outcome = forms.ChoiceField(label="Outcome", choices=[("", "Choose…"), *FollowUp.Outcome.choices])
    attending_aftercare = forms.ChoiceField(label="Attending aftercare?", choices=_YES_NO, required=False)
    readmitted = forms.ChoiceField(label="Readmitted to a higher level of care?", choices=_YES_NO, required=False)
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, prefix_id: str = "", **kwargs: Any) -> None:
        super().__init__(*args, auto_id=f"id_fu{prefix_id}_%s", **kwargs)

    @staticmethod
    def _yes_no(value: str) -> bool | None:
        return {"yes": True, "no": False}.get(value)

    def result_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "outcome": d["outcome"],
            "attending_aftercare": self._yes_no(d["attending_aftercare"]),
            "readmitted": self._yes_no(d["readmitted"]),
            "note": d["note"],
        }
