"""Forms of the practice log (the patient's entry, the program's skills list). They validate input only;
actions.py does the writes and its errors come back onto these fields."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.core.forms import StyledFormMixin
from openiop.patients.models import EpisodeOfCare
from openiop.skills.models import OTHER, PracticePolicy

SCALE = [("", "Skip")] + [(str(n), str(n)) for n in range(11)]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class PracticeForm(StyledFormMixin, forms.Form):
    episode = forms.ChoiceField(label="Which program is this for?", required=False)
    skill = forms.ChoiceField(label="Skill I practised")
    skill_other = forms.CharField(label="Which skill (if other)", max_length=120, required=False)
    practiced_at = forms.DateTimeField(
        label="When", widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    how_it_went = forms.CharField(
        label="How it went",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="What you noticed, what helped, what got in the way. Your care team reads this.",
    )
    mood = forms.TypedChoiceField(
        label="My mood afterwards (0 = very low, 10 = very good)",
        choices=SCALE,
        coerce=int,
        empty_value=None,
        required=False,
    )
    craving = forms.TypedChoiceField(
        label="Craving afterwards (0 = none, 10 = strongest)",
        choices=SCALE,
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(
        self, *args: Any, skills: list[str], episodes: list[EpisodeOfCare], ask_craving: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["skill"].choices = [("", "Choose a skill"), *[(s, s) for s in skills], (OTHER, "Other")]
        fields["episode"].choices = [(str(e.public_id), e.program.name) for e in episodes]
        if len(episodes) < 2:
            # One program: nothing to choose, and the form does not say which program it is.
            del fields["episode"]
        if not ask_craving:
            del fields["craving"]


class PracticePolicyForm(StyledFormMixin, forms.Form):
    skills = forms.CharField(
        label="Skills patients choose from",
        widget=forms.Textarea(attrs={"rows": 10}),
        required=False,
        help_text='One per line, in the order shown. "Other" (with the patient\'s own words) is always offered. '
        "Empty uses the defaults.",
    )
    craving = forms.ChoiceField(label="Ask about craving", choices=PracticePolicy.Craving.choices)

    def skill_lines(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["skills"].splitlines() if line.strip()]
