"""Forms of notes: an individual note (any format), a participant's part, the shared part, an addendum.

Times are typed as program-local wall-clock times on the service date and made aware here, so the actions only
ever see aware datetimes. Every field is optional on a draft: signing names what is missing.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django import forms

from openiop.core.forms import DateInput, StyledFormMixin, TimeInput
from openiop.notes.models import PLACE_OF_SERVICE_CHOICES, SECTION_FIELDS, Mode, NoteFormat, ProgressNote, RiskLevel
from openiop.programs.models import Program

RISK_CHOICES = [("", "Not screened yet"), *RiskLevel.choices]


class ObjectiveChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.statement)


class DiagnosisChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return diagnosis_label(obj)


def diagnosis_label(diagnosis: Any) -> str:
    primary = " (primary)" if diagnosis.is_primary else ""
    status = "" if diagnosis.status == "confirmed" else f", {diagnosis.get_status_display().lower()}"
    return f"{diagnosis.code} {diagnosis.description}{primary}{status}"


class _NarrativeMixin(StyledFormMixin, forms.Form):
    subjective = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    objective = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    assessment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # DAP's "Data": the metaclass moves declared fields off the class, so this never shadows the form's bound data.
    data = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))  # type: ignore[assignment]
    behavior = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    goal = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    intervention = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    response = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    plan = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    risk_level = forms.ChoiceField(choices=RISK_CHOICES, required=False, label="Risk screen")
    risk_notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Risk: what was found, and the safety plan"
    )
    objectives = ObjectiveChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Plan objectives addressed"
    )
    diagnoses = DiagnosisChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Diagnoses addressed"
    )

    def __init__(
        self, *args: Any, objectives: list[Any] | None = None, diagnoses: list[Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        from openiop.intake.models import Diagnosis
        from openiop.plans.models import Objective

        offered = diagnoses or []
        dx = self.fields["diagnoses"]
        dx.queryset = Diagnosis.objects.filter(pk__in=[d.pk for d in offered])  # type: ignore[attr-defined]
        dx.choices = [(d.pk, diagnosis_label(d)) for d in offered]  # type: ignore[attr-defined]

        ids = [o.pk for o in objectives or []]
        field = self.fields["objectives"]
        field.queryset = Objective.objects.filter(pk__in=ids).order_by("goal__problem__order", "goal__order", "order")  # type: ignore[attr-defined]
        # The choices come from the list the caller already loaded, so rendering costs no query.
        field.choices = [(o.pk, o.statement) for o in objectives or []]  # type: ignore[attr-defined]

    def narrative_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data.get(name) or "" for name in (*SECTION_FIELDS, "risk_notes")} | {
            "risk_level": data.get("risk_level") or ""
        }


class NoteForm(_NarrativeMixin):
    format = forms.ChoiceField(choices=NoteFormat.choices)
    service_date = forms.DateField(widget=DateInput(), label="Date of service")
    start = forms.TimeField(required=False, widget=TimeInput(), label="Start time")
    stop = forms.TimeField(required=False, widget=TimeInput(), label="Stop time")
    mode = forms.ChoiceField(choices=Mode.choices)
    place_of_service = forms.ChoiceField(choices=[("", "—"), *PLACE_OF_SERVICE_CHOICES], required=False)
    is_crisis = forms.BooleanField(required=False, label="Crisis service (note due within 24 hours)")

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.program = program

    def _moment(self, value: time | None) -> datetime | None:
        day = self.cleaned_data.get("service_date")
        if value is None or day is None:
            return None
        return datetime.combine(day, value, tzinfo=self.program.tz())

    def action_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **self.narrative_data(),
            "format": data["format"],
            "service_date": data["service_date"],
            "start_time": self._moment(data.get("start")),
            "stop_time": self._moment(data.get("stop")),
            "mode": data["mode"],
            "place_of_service": data.get("place_of_service") or "",
            "is_crisis": bool(data.get("is_crisis")),
        }

    @staticmethod
    def field_for(action_field: str) -> str:
        return {"start_time": "start", "stop_time": "stop"}.get(action_field, action_field)


def note_initial(note: ProgressNote) -> dict[str, Any]:
    tz = note.episode.program.tz()
    values: dict[str, Any] = {name: getattr(note, name) for name in (*SECTION_FIELDS, "risk_level", "risk_notes")}
    values.update(
        format=note.format,
        service_date=note.service_date,
        start=note.start_time.astimezone(tz).time().replace(second=0, microsecond=0) if note.start_time else None,
        stop=note.stop_time.astimezone(tz).time().replace(second=0, microsecond=0) if note.stop_time else None,
        mode=note.mode,
        place_of_service=note.place_of_service,
        is_crisis=note.is_crisis,
        objectives=[o.pk for o in note.objectives.all()],
        diagnoses=[d.pk for d in note.diagnoses.all()],
    )
    return values


class PartForm(_NarrativeMixin):
    """A participant's part: the narrative of its format, the risk screen and that person's objectives."""

    confirm_names = forms.BooleanField(
        required=False, label="I have checked: the names flagged do not refer to another member of this group."
    )


class SharedPartForm(StyledFormMixin, forms.Form):
    topic = forms.CharField(max_length=120, required=False)
    curriculum_item: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None, required=False, label="Curriculum item"
    )
    interventions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Interventions used with the group"
    )
    confirm_names = forms.BooleanField(
        required=False, label="I have checked: the names flagged do not refer to a member of this group."
    )

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from openiop.scheduling.models import CurriculumTopic

        self.fields["curriculum_item"].queryset = CurriculumTopic.objects.filter(  # type: ignore[attr-defined]
            program=program, is_active=True
        ).order_by("sequence", "name")


class AddendumForm(StyledFormMixin, forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Addendum")
    confirm_names = forms.BooleanField(required=False, label="I have checked the names flagged.")
