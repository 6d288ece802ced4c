"""Forms of the staff measures pages. They validate input only; actions.py does the writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from openiop.accounts.models import User
from openiop.core.forms import StyledFormMixin
from openiop.core.roles import Role
from openiop.measures import instruments
from openiop.measures.models import FOLLOW_UP_OCCASIONS, MeasureSchedule, SafetyAlert
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import WEEKDAYS, Program


class ResolveAlertForm(StyledFormMixin, forms.Form):
    action = forms.ChoiceField(
        label="What was done",
        choices=SafetyAlert.Action.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        required=False,
    )
    note = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="What was done and the plan. Stays in the chart; never sent by email.",
    )


class StartAdministrationForm(StyledFormMixin, forms.Form):
    episode = forms.ModelChoiceField(queryset=EpisodeOfCare.objects.none(), to_field_name="public_id", empty_label=None)
    instrument_code = forms.ChoiceField(label="Questionnaire", choices=())

    def __init__(self, *args: Any, episodes: list[EpisodeOfCare], codes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["episode"].queryset = EpisodeOfCare.objects.filter(pk__in=[e.pk for e in episodes])
        fields["episode"].label_from_instance = lambda e: e.program.name
        fields["instrument_code"].choices = [(c, instruments.get(c).short_name) for c in codes]


class LinkForm(StyledFormMixin, forms.Form):
    hours = forms.IntegerField(label="Link works for (hours)", min_value=1, max_value=24 * 14, required=False)


class MeasuresConfigForm(StyledFormMixin, forms.Form):
    on_call = forms.ModelChoiceField(
        queryset=User.objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label="The program's directors",
        label="On-call clinician for escalations",
    )
    escalation_minutes = forms.IntegerField(
        label="Escalate an unacknowledged alert after (minutes)", min_value=5, max_value=24 * 60
    )
    email_label = forms.CharField(
        label="Name of the program in escalation emails",
        max_length=60,
        required=False,
        help_text="Empty uses the program's name. Choose a neutral label if the name reveals substance-use care.",
    )

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["on_call"]
        field.queryset = User.objects.filter(
            is_active=True,
            memberships__program=program,
            role__in=[Role.DIRECTOR, Role.CLINICIAN, Role.SUPERVISED_CLINICIAN, Role.INTAKE],
        ).order_by("last_name", "first_name")
        field.label_from_instance = lambda u: u.display_name


FOLLOW_UP_CHOICES = [(days, f"{days} days") for days in sorted(FOLLOW_UP_OCCASIONS)]


class ScheduleForm(StyledFormMixin, forms.Form):
    """One instrument's row on the program's measures setup page (prefix = instrument code)."""

    is_active = forms.BooleanField(required=False, label="Use")
    at_intake = forms.BooleanField(required=False, label="At intake")
    weekly = forms.BooleanField(required=False, label="Weekly")
    weekly_weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int, label="on")
    at_discharge = forms.BooleanField(required=False, label="At discharge")
    follow_up_days = forms.TypedMultipleChoiceField(
        choices=FOLLOW_UP_CHOICES, coerce=int, required=False, widget=forms.CheckboxSelectMultiple, label="Follow-ups"
    )

    def __init__(self, *args: Any, instrument: instruments.Instrument, **kwargs: Any) -> None:
        super().__init__(*args, prefix=instrument.code, **kwargs)
        self.instrument = instrument

    @staticmethod
    def initial_for(schedule: MeasureSchedule | None) -> dict[str, Any]:
        if schedule is None:
            defaults = settings.OPENIOP_DEFAULTS
            return {
                "is_active": False,
                "at_intake": True,
                "weekly": True,
                "at_discharge": True,
                "follow_up_days": sorted(FOLLOW_UP_OCCASIONS),
                "weekly_weekday": int(defaults["measures_weekly_weekday"]),
            }
        return {
            "is_active": schedule.is_active,
            "at_intake": schedule.at_intake,
            "weekly": schedule.weekly,
            "weekly_weekday": schedule.weekly_weekday,
            "at_discharge": schedule.at_discharge,
            "follow_up_days": list(schedule.follow_up_days or []),
        }
