"""Forms for the calendar configuration pages: session types, rooms, closures, staff availability and time off,
series (track templates) and session edits. They only parse input; the series actions validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from openiop.accounts.models import User
from openiop.core.forms import DateInput, StyledFormMixin, TimeInput
from openiop.lib import recurrence
from openiop.programs.models import WEEKDAYS, Site
from openiop.scheduling.models import Closure, Group, Room, SessionType

RRULE_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class PersonChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class SessionTypeForm(StyledFormMixin, forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=SessionType.Kind.choices)
    service_kind = forms.ChoiceField(choices=SessionType.ServiceKind.choices, label="Service kind (for billing)")
    # No minimum here: the action answers zero or negative durations with its own field error.
    default_duration_minutes = forms.IntegerField(label="Default duration (minutes)", max_value=480)
    required_credentials = forms.CharField(
        required=False, max_length=200, help_text="Comma-separated, e.g. LCSW, LPC. Empty: anyone may lead it."
    )
    capacity = forms.IntegerField(
        required=False, help_text="Empty: the program's group cap for groups, 1 for individual visits."
    )
    mode = forms.ChoiceField(choices=SessionType.Mode.choices)
    counts_toward_dose = forms.BooleanField(required=False, initial=True, label="Counts toward the weekly dose")
    procedure_code = forms.CharField(
        required=False,
        max_length=5,
        label="Procedure code (billing per service)",
        help_text="CPT or HCPCS, e.g. G0177. Empty: from the service kind and the minutes attended.",
    )
    revenue_code = forms.CharField(
        required=False,
        max_length=4,
        label="Revenue code (institutional, per service)",
        help_text="e.g. 0915 group. Empty: the payer setting's IOP revenue code (0905 or 0906).",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def clean_procedure_code(self) -> str:
        return (self.cleaned_data.get("procedure_code") or "").strip().upper()

    def clean_revenue_code(self) -> str:
        return (self.cleaned_data.get("revenue_code") or "").strip()

    def clean_required_credentials(self) -> list[str]:
        raw = self.cleaned_data.get("required_credentials") or ""
        return [c.strip().upper() for c in raw.replace(";", ",").split(",") if c.strip()]

    def changes(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class RoomForm(StyledFormMixin, forms.Form):
    name = forms.CharField(max_length=100)
    capacity = forms.IntegerField(help_text="How many people the room seats.")
    is_active = forms.BooleanField(required=False, initial=True, label="Active")


class ClosureForm(StyledFormMixin, forms.Form):
    date = forms.DateField(widget=DateInput())
    name = forms.CharField(max_length=100, help_text="e.g. Thanksgiving, staff training.")
    site = forms.ModelChoiceField(queryset=Site.objects.none(), required=False, empty_label="Every site")
    action = forms.ChoiceField(choices=Closure.Action.choices, widget=forms.RadioSelect, initial=Closure.Action.SKIP)
    move_to = forms.DateField(required=False, widget=DateInput(), label="Move to", help_text="Only when moving.")

    def __init__(self, *args: Any, sites: QuerySet[Any], allow_all_sites: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["site"]
        field.queryset = sites  # type: ignore[attr-defined]
        if not allow_all_sites:
            field.required = True
            field.empty_label = None  # type: ignore[attr-defined]


class AvailabilityForm(StyledFormMixin, forms.Form):
    weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int)
    start_time = forms.TimeField(widget=TimeInput(), label="From")
    end_time = forms.TimeField(widget=TimeInput(), label="Until")


class TimeOffForm(StyledFormMixin, forms.Form):
    starts_at = forms.DateTimeField(widget=DateTimeLocalInput(), label="From")
    ends_at = forms.DateTimeField(widget=DateTimeLocalInput(), label="Until")
    reason = forms.CharField(
        max_length=100, required=False, help_text="Shown to schedulers; no health details (e.g. 'leave')."
    )


class SeriesForm(StyledFormMixin, forms.Form):
    title = forms.CharField(max_length=120, required=False, help_text="Empty: the session type's name.")
    session_type = forms.ModelChoiceField(queryset=SessionType.objects.none())
    group = forms.ModelChoiceField(queryset=Group.objects.none(), required=False, empty_label="The whole track")
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple, label="Repeats on"
    )
    rrule = forms.CharField(
        max_length=300,
        required=False,
        label="Advanced: RRULE",
        help_text="RFC 5545 rule, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=TU. Replaces the weekdays when filled in.",
    )
    start_time = forms.TimeField(widget=TimeInput(), help_text="Program-local time.")
    duration_minutes = forms.IntegerField(
        required=False, max_value=480, label="Duration (minutes)", help_text="Empty: the session type's default."
    )
    starts_on = forms.DateField(widget=DateInput(), label="First day")
    until = forms.DateField(widget=DateInput(), required=False, label="Last day", help_text="Empty: open-ended.")
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False, empty_label="No room")
    facilitators = PersonChoiceField(queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple)
    capacity = forms.IntegerField(required=False, help_text="Empty: the group's or session type's capacity.")
    mode = forms.ChoiceField(choices=[("", "As the session type"), *SessionType.Mode.choices], required=False)
    video_link = forms.URLField(required=False, max_length=200, assume_scheme="https")
    rotates_curriculum = forms.BooleanField(required=False, label="Rotates through the education topics")

    def __init__(
        self,
        *args: Any,
        session_types: QuerySet[Any],
        groups: QuerySet[Any],
        rooms: QuerySet[Any],
        people: QuerySet[Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["session_type"].queryset = session_types  # type: ignore[attr-defined]
        self.fields["group"].queryset = groups  # type: ignore[attr-defined]
        self.fields["room"].queryset = rooms  # type: ignore[attr-defined]
        self.fields["facilitators"].queryset = people  # type: ignore[attr-defined]
        self.fields["weekdays"].widget.attrs["class"] = "btn-check"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _rule_from(self, data)
        return data

    def action_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("weekdays", None)
        data["facilitators"] = list(data.get("facilitators") or [])
        data["mode"] = data.get("mode") or None
        return data


def _rule_from(form: forms.Form, data: dict[str, Any]) -> None:
    """The RRULE from the weekday checkboxes, or the raw rule when one is written (it wins)."""
    raw = (data.get("rrule") or "").strip()
    days = data.get("weekdays") or []
    if raw:
        try:
            data["rrule"] = recurrence.validate(raw)
        except recurrence.RecurrenceError as exc:
            form.add_error("rrule", str(exc))
    elif days:
        data["rrule"] = "FREQ=WEEKLY;BYDAY=" + ",".join(RRULE_DAYS[d] for d in sorted(days))
    else:
        form.add_error("weekdays", "Pick at least one weekday, or write a rule under Advanced.")


class SeriesRuleForm(StyledFormMixin, forms.Form):
    """A running series' new schedule: the days it repeats on (or a raw RRULE) and its last day."""

    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple, label="Repeats on"
    )
    rrule = forms.CharField(
        max_length=300,
        required=False,
        label="Advanced: RRULE",
        help_text="RFC 5545 rule; replaces the weekdays when filled in.",
    )
    until = forms.DateField(widget=DateInput(), required=False, label="Last day", help_text="Empty: open-ended.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["weekdays"].widget.attrs["class"] = "btn-check"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _rule_from(self, data)
        return data


def weekdays_of(rrule: str) -> list[int] | None:
    """The weekday checkboxes for a plain weekly rule, or None when the rule needs the raw field."""
    parts = dict(p.split("=", 1) for p in rrule.split(";") if "=" in p)
    if set(parts) != {"FREQ", "BYDAY"} or parts["FREQ"] != "WEEKLY":
        return None
    days = parts["BYDAY"].split(",")
    if not all(d in RRULE_DAYS for d in days):
        return None
    return sorted(RRULE_DAYS.index(d) for d in days)


class EndSeriesForm(StyledFormMixin, forms.Form):
    last_day = forms.DateField(
        widget=DateInput(), label="Last day", help_text="Sessions after this day are cancelled, their seats released."
    )


SCOPE_CHOICES = [
    ("this", "This session only"),
    ("following", "This and the following sessions"),
    ("all", "All future sessions of the series"),
]


class SessionEditForm(StyledFormMixin, forms.Form):
    scope = forms.ChoiceField(choices=SCOPE_CHOICES, widget=forms.RadioSelect, initial="this", label="Apply to")
    title = forms.CharField(max_length=120, required=False)
    start_time = forms.TimeField(widget=TimeInput(), help_text="Program-local time.")
    duration_minutes = forms.IntegerField(max_value=480, label="Duration (minutes)")
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False, empty_label="No room")
    facilitators = PersonChoiceField(queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple)
    capacity = forms.IntegerField()
    mode = forms.ChoiceField(choices=SessionType.Mode.choices)
    video_link = forms.URLField(required=False, max_length=200, assume_scheme="https")

    EDIT_FIELDS = ("title", "start_time", "duration_minutes", "room", "facilitators", "capacity", "mode", "video_link")

    def __init__(self, *args: Any, rooms: QuerySet[Any], people: QuerySet[Any], in_series: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = rooms  # type: ignore[attr-defined]
        self.fields["facilitators"].queryset = people  # type: ignore[attr-defined]
        if not in_series:
            self.fields["scope"].choices = SCOPE_CHOICES[:1]  # type: ignore[attr-defined]

    def changes(self) -> dict[str, Any]:
        """Only what the user changed, so 'all' does not overwrite the series with this session's own values."""
        changes = {name: self.cleaned_data[name] for name in self.EDIT_FIELDS if name in self.changed_data}
        if "facilitators" in changes:
            changes["facilitators"] = list(changes["facilitators"])
        if "mode" in changes or "video_link" in changes:
            changes["mode"] = self.cleaned_data["mode"]
            changes["video_link"] = self.cleaned_data["video_link"]
        return changes


class CancelSessionForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(max_length=200, help_text="Shown on the calendar, e.g. 'facilitator unwell'.")


class TopicForm(StyledFormMixin, forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    sequence = forms.IntegerField(min_value=0, max_value=999, help_text="Rotating workshops take topics in this order.")
    is_active = forms.BooleanField(required=False, initial=True, label="Active (in the rotation)")


class GroupForm(StyledFormMixin, forms.Form):
    name = forms.CharField(max_length=100)
    capacity = forms.IntegerField(
        min_value=1, max_value=100, required=False, help_text="Empty: the program's group size cap."
    )
    is_open = forms.BooleanField(required=False, initial=True, label="Open to new members (rolling admission)")
    is_active = forms.BooleanField(required=False, initial=True, label="Active")
