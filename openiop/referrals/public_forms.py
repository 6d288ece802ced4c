"""Forms of the public Book Now pages: the pre-screen, the slot picker and the person's details."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone

from openiop.core.forms import DateInput, StyledFormMixin
from openiop.patients.models import Coverage, SupportContact
from openiop.referrals.models import IntakeSlot, Referral

YES_NO = [("yes", "Yes"), ("no", "No")]


def _yes_no(label: str, help_text: str = "") -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, choices=YES_NO, widget=forms.RadioSelect(attrs={"class": "form-check-input"}), help_text=help_text
    )


class PrescreenForm(StyledFormMixin, forms.Form):
    """A few plain questions from "who can benefit"; the first one is about safety and comes before everything."""

    danger = _yes_no("Are you thinking about harming yourself or someone else right now?")
    after_inpatient = _yes_no("Have you recently finished a stay in a hospital or a residential program?")
    moderate_symptoms = _yes_no(
        "Are mental health or substance use concerns making daily life hard, "
        "even though you can still get through most days?"
    )
    stable_home = _yes_no("Do you have a stable place to live?")
    support = _yes_no("Is there at least one person (family, a friend, a sponsor) who supports you?")
    can_commit = _yes_no("Can you attend regular sessions every week for several weeks?")
    track = forms.ChoiceField(
        label="Which times would suit you?",
        choices=[("day", "Daytime"), ("evening", "Evenings"), ("either", "Either")],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, commitment: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if commitment:
            self.fields["can_commit"].help_text = commitment

    @property
    def signals_danger(self) -> bool:
        """Checked on the raw answer, so a "yes" stops the flow even if other answers are missing."""
        return self.data.get("danger") == "yes"

    def result(self) -> str:
        """Likely fit: after inpatient care or with moderate symptoms, a home and support, and time for the schedule."""
        a = self.cleaned_data
        fits = (
            (a["after_inpatient"] == "yes" or a["moderate_symptoms"] == "yes")
            and a["stable_home"] == "yes"
            and a["support"] == "yes"
            and a["can_commit"] == "yes"
        )
        return Referral.ScreenResult.LIKELY_FIT if fits else Referral.ScreenResult.REVIEW

    def answers(self) -> dict[str, str]:
        return {name: str(self.cleaned_data[name]) for name in self.fields}


class SlotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: IntakeSlot) -> str:
        return f"{obj.label} · {obj.site.name}"


class SlotPickForm(StyledFormMixin, forms.Form):
    slot = SlotChoiceField(
        queryset=IntakeSlot.objects.none(),
        to_field_name="public_id",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        label="Pick a time for your first appointment",
        error_messages={"invalid_choice": "That time is no longer free; pick another."},
    )

    def __init__(self, *args: Any, slots: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slot"].queryset = slots if slots is not None else IntakeSlot.objects.none()  # type: ignore[attr-defined]


class DetailsForm(SlotPickForm):
    """Who to expect and how to reach them. ``website`` is the honeypot: people never see it, bots fill it."""

    first_name = forms.CharField(max_length=100, label="First name")
    last_name = forms.CharField(max_length=100, label="Last name")
    date_of_birth = forms.DateField(widget=DateInput(), label="Date of birth")
    phone = forms.CharField(max_length=40, required=False, label="Phone")
    email = forms.EmailField(required=False, label="Email", help_text="We send the confirmation here.")
    preferred_contact = forms.ChoiceField(choices=Referral.Contact.choices, label="How should we contact you?")
    payer_kind = forms.ChoiceField(
        choices=[("", "I don't know / prefer to discuss"), *Coverage.PayerKind.choices],
        required=False,
        label="Insurance",
    )
    payer_name = forms.CharField(max_length=150, required=False, label="Insurance company")
    member_id = forms.CharField(max_length=60, required=False, label="Member ID")
    emergency_name = forms.CharField(max_length=150, required=False, label="Emergency contact's name")
    emergency_relationship = forms.ChoiceField(
        choices=[("", "—"), *SupportContact.Relationship.choices], required=False, label="Their relationship to you"
    )
    emergency_phone = forms.CharField(max_length=40, required=False, label="Their number")
    website = forms.CharField(required=False, label="Leave this empty")

    field_order = [
        "slot", "first_name", "last_name", "date_of_birth", "phone", "email", "preferred_contact",
        "payer_kind", "payer_name", "member_id", "emergency_name", "emergency_relationship", "emergency_phone",
        "website",
    ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slot"].label = "Your appointment time"
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    @property
    def is_bot(self) -> bool:
        return bool((self.data.get("website") or "").strip())

    def clean_date_of_birth(self) -> date:
        dob: date = self.cleaned_data["date_of_birth"]
        if dob > timezone.localdate():
            raise forms.ValidationError("Date of birth cannot be in the future.")
        if dob.year < 1900:
            raise forms.ValidationError("Check the year of birth.")
        return dob

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("phone") and not data.get("email"):
            self.add_error("phone", "Give a phone number or an email address so we can reach you.")
        if (data.get("emergency_phone") or data.get("emergency_relationship")) and not data.get("emergency_name"):
            self.add_error("emergency_name", "Give your emergency contact's name.")
        if data.get("emergency_name") and not data.get("emergency_phone"):
            self.add_error("emergency_phone", "Give your emergency contact's phone number.")
        return data

    def details(self) -> dict[str, Any]:
        names = ["first_name", "last_name", "date_of_birth", "phone", "email", "preferred_contact"]
        names += [
            "payer_kind",
            "payer_name",
            "member_id",
            "emergency_name",
            "emergency_relationship",
            "emergency_phone",
        ]
        return {name: self.cleaned_data[name] for name in names}


class RescheduleForm(SlotPickForm):
    pass


class CancelForm(forms.Form):
    confirm = forms.BooleanField(required=True, label="Yes, cancel my appointment")
