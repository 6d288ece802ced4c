"""Forms of the recovery supports log (a meeting, a recovery capital check-in, the sponsor, the program's setting).
They validate input only; actions.py does the writes and its errors come back onto these fields."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.core.forms import StyledFormMixin
from openiop.patients.models import EpisodeOfCare
from openiop.recovery.models import CAPITAL_DOMAINS, MeetingKind, MeetingMode

RATINGS = [(str(n), str(n)) for n in range(1, 6)]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _episode_field(form: forms.Form, episodes: list[EpisodeOfCare]) -> None:
    fields: dict[str, Any] = form.fields
    fields["episode"].choices = [(str(e.public_id), e.program.name) for e in episodes]
    if len(episodes) < 2:
        # One program: nothing to choose, and the form does not say which program it is.
        del fields["episode"]


def episode_of(form: forms.Form, episodes: list[EpisodeOfCare]) -> EpisodeOfCare:
    chosen = form.cleaned_data.get("episode")
    return next((e for e in episodes if str(e.public_id) == chosen), episodes[0])


class MeetingForm(StyledFormMixin, forms.Form):
    episode = forms.ChoiceField(label="Which program is this for?", required=False)
    met_on = forms.DateField(label="Date", widget=DateInput(), input_formats=["%Y-%m-%d"])
    kind = forms.ChoiceField(label="Meeting", choices=[("", "Choose a meeting"), *MeetingKind.choices])
    kind_other = forms.CharField(label="Which meeting (if other)", max_length=120, required=False)
    mode = forms.ChoiceField(
        label="How", choices=MeetingMode.choices, widget=forms.RadioSelect, initial=MeetingMode.IN_PERSON
    )
    note = forms.CharField(
        label="Anything to add (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Your care team reads this.",
    )

    def __init__(self, *args: Any, episodes: list[EpisodeOfCare], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _episode_field(self, episodes)

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in ("met_on", "kind", "kind_other", "mode", "note")}


class StaffMeetingForm(MeetingForm):
    """A meeting the patient reported in session, entered from the chart: the same fields and rules as the portal's."""

    def __init__(self, *args: Any, episodes: list[EpisodeOfCare], **kwargs: Any) -> None:
        super().__init__(*args, episodes=episodes, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["note"].help_text = "The patient reads this note on their Recovery page."
        if "episode" in fields:
            fields["episode"].label = "Program"


class CapitalForm(StyledFormMixin, forms.Form):
    episode = forms.ChoiceField(label="Which program is this for?", required=False)

    def __init__(self, *args: Any, episodes: list[EpisodeOfCare], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, label, help_text in CAPITAL_DOMAINS:
            self.fields[key] = forms.ChoiceField(
                label=f"{label}: {help_text}", choices=RATINGS, widget=forms.RadioSelect,
                help_text="1 = very little, 5 = a lot",
            )  # fmt: skip
        _episode_field(self, episodes)

    def ratings(self) -> dict[str, Any]:
        return {key: self.cleaned_data.get(key) for key, _, _ in CAPITAL_DOMAINS}


class SponsorForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        label="My sponsor's name", max_length=150, required=False, help_text="Leave empty to remove your sponsor."
    )
    phone = forms.CharField(label="Phone (optional)", max_length=40, required=False)


class RecoveryPolicyForm(StyledFormMixin, forms.Form):
    capital_check_ins = forms.BooleanField(label="Ask patients for recovery capital check-ins", required=False)
    capital_every_days = forms.IntegerField(label="Every (days)", min_value=7, max_value=90)
