"""Staff forms of the referral pipeline."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms

from openiop.accounts.models import User
from openiop.core.forms import DateInput, StyledFormMixin, TimeInput
from openiop.patients.models import Coverage, SupportContact
from openiop.patients.queries import programs_for_user, staff_of_program, tracks_for_program
from openiop.programs.models import WEEKDAYS, Program, Track
from openiop.referrals.models import STAGE_TRANSITIONS, IntakeSlot, Referral
from openiop.referrals.public_forms import SlotChoiceField

NO_PROGRAM = "Not chosen yet"


class ProgramChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Program) -> str:
        return obj.name


class ReferralForm(StyledFormMixin, forms.Form):
    source = forms.ChoiceField(choices=Referral.Source.choices)
    program = ProgramChoiceField(queryset=Program.objects.none(), required=False, empty_label=NO_PROGRAM)
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    date_of_birth = forms.DateField(widget=DateInput(), required=False)
    phone = forms.CharField(max_length=40, required=False)
    email = forms.EmailField(required=False)
    preferred_contact = forms.ChoiceField(choices=Referral.Contact.choices)
    payer_kind = forms.ChoiceField(
        choices=[("", "Unknown"), *Coverage.PayerKind.choices], required=False, label="Insurance"
    )
    payer_name = forms.CharField(max_length=150, required=False, label="Insurance company")
    member_id = forms.CharField(max_length=60, required=False, label="Member ID")
    referrer_name = forms.CharField(max_length=150, required=False)
    referrer_organization = forms.CharField(max_length=150, required=False)
    referrer_phone = forms.CharField(max_length=40, required=False)
    emergency_name = forms.CharField(max_length=150, required=False, label="Emergency contact")
    emergency_relationship = forms.ChoiceField(
        choices=[("", "—"), *SupportContact.Relationship.choices], required=False, label="Relationship"
    )
    emergency_phone = forms.CharField(max_length=40, required=False, label="Emergency contact's phone")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, user: User, referral: Referral | None = None, **kwargs: Any) -> None:
        if referral is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(referral, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs_for_user(user)  # type: ignore[attr-defined]
        if referral is not None and referral.source == Referral.Source.BOOK_NOW:
            self.fields["source"].disabled = True

    def action_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if self.fields["source"].disabled:
            data.pop("source")
        return data


class StageForm(StyledFormMixin, forms.Form):
    stage = forms.ChoiceField(label="Move to")
    reason = forms.CharField(max_length=300, required=False, help_text="Needed for declined and referred elsewhere.")

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(s.value, s.label) for s in STAGE_TRANSITIONS[Referral.Stage(referral.stage)]]
        self.fields["stage"].choices = choices  # type: ignore[attr-defined]


class ScheduleForm(StyledFormMixin, forms.Form):
    slot = SlotChoiceField(
        queryset=IntakeSlot.objects.none(),
        to_field_name="public_id",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        label="Intake slot",
        error_messages={"invalid_choice": "That slot is no longer free; pick another."},
    )

    def __init__(self, *args: Any, slots: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slot"].queryset = slots  # type: ignore[attr-defined]


class DocumentForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label="Referral document (PDF)", widget=forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"})
    )


class NewPatientForm(StyledFormMixin, forms.Form):
    home_program = ProgramChoiceField(queryset=Program.objects.none(), empty_label=None)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["home_program"].queryset = programs_for_user(user)  # type: ignore[attr-defined]


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class AdmitForm(StyledFormMixin, forms.Form):
    program = ProgramChoiceField(queryset=Program.objects.none(), empty_label=None)
    track: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=Track.objects.none(), required=False, empty_label="No track yet"
    )
    primary_clinician = UserChoiceField(queryset=User.objects.none())
    admitted_on = forms.DateField(widget=DateInput(), label="Admission date")
    expected_discharge_on = forms.DateField(
        widget=DateInput(), required=False, help_text="Leave empty for the program's maximum length."
    )

    def __init__(self, *args: Any, user: User, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs_for_user(user)  # type: ignore[attr-defined]
        self.fields["track"].queryset = tracks_for_program(program)  # type: ignore[attr-defined]
        self.fields["primary_clinician"].queryset = staff_of_program(program)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        program, track, clinician = data.get("program"), data.get("track"), data.get("primary_clinician")
        if program is not None and track is not None and track.program_id != program.pk:
            self.add_error("track", "Pick a track of the chosen program.")
        if (
            program is not None
            and clinician is not None
            and not staff_of_program(program).filter(pk=clinician.pk).exists()
        ):
            self.add_error("primary_clinician", "Pick a clinician of the chosen program.")
        return data


class SlotForm(StyledFormMixin, forms.Form):
    program = ProgramChoiceField(queryset=Program.objects.none(), empty_label=None)
    day = forms.DateField(widget=DateInput())
    start = forms.TimeField(widget=TimeInput(), label="Starts at")
    minutes = forms.IntegerField(min_value=15, max_value=480, initial=60, label="Minutes")
    capacity = forms.IntegerField(min_value=1, max_value=20, initial=1)
    assessor = UserChoiceField(queryset=User.objects.none(), required=False, empty_label="Anyone")

    def __init__(self, *args: Any, programs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]
        self.fields["assessor"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(is_active=True, memberships__program__in=programs)
            .distinct()
            .order_by("last_name", "first_name")
        )


class SlotBatchForm(SlotForm):
    day = None  # type: ignore[assignment]
    start = None  # type: ignore[assignment]
    first_day = forms.DateField(widget=DateInput(), label="From")
    last_day = forms.DateField(widget=DateInput(), label="Until")
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple, initial=[0, 1, 2, 3, 4]
    )
    times = forms.CharField(
        label="Start times", help_text="Program-local, separated by commas, e.g. 09:00, 13:30", initial="09:00, 13:00"
    )

    field_order = ["program", "first_day", "last_day", "weekdays", "times", "minutes", "capacity", "assessor"]

    def clean_times(self) -> list[time]:
        parsed = []
        for part in self.cleaned_data["times"].replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                hours, minutes = (int(p) for p in part.split(":"))
                parsed.append(time(hours, minutes))
            except ValueError as exc:
                raise forms.ValidationError(f"{part!r} is not a time like 09:30.") from exc
        if not parsed:
            raise forms.ValidationError("Give at least one start time.")
        return parsed
