"""Forms of the work queue: the filters, closing a task and reassigning it. The actions do the writes."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.accounts.models import User
from openiop.core.forms import StyledFormMixin
from openiop.worklist.actions import NOTE_MAX, STAFF_OUTCOMES
from openiop.worklist.models import WorkTask
from openiop.worklist.queries import MINE, PROGRAMS, can_see_program_tasks


class TaskFilterForm(StyledFormMixin, forms.Form):
    scope = forms.ChoiceField(label="Show", required=False, choices=[(MINE, "My tasks")])
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "All kinds"), *WorkTask.Kind.choices])
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("open", "Open"), ("done", "Done"), ("all", "Open and done")]
    )
    overdue = forms.BooleanField(label="Overdue only", required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if can_see_program_tasks(user):
            self.fields["scope"].choices = [  # type: ignore[attr-defined]
                (MINE, "My tasks"),
                (PROGRAMS, "My programs' tasks"),
            ]


class CloseTaskForm(StyledFormMixin, forms.Form):
    outcome = forms.ChoiceField(
        label="What happened",
        choices=[(str(o.value), o.label) for o in STAFF_OUTCOMES],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Short and factual, e.g. when you will try again. The chart note holds the rest.",
    )


class ReassignTaskForm(StyledFormMixin, forms.Form):
    assigned_to = forms.ModelChoiceField(label="Assign to", queryset=User.objects.none(), empty_label=None)

    def __init__(self, *args: Any, choices: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assigned_to"]
        field.queryset = User.objects.filter(pk__in=[u.pk for u in choices]).order_by(  # type: ignore[attr-defined]
            "last_name", "first_name", "username"
        )
        field.label_from_instance = lambda u: u.display_name  # type: ignore[attr-defined]


class HandOverForm(StyledFormMixin, forms.Form):
    """Hand a draft over for signing: choose one of the program's staff who may sign it (``signers``)."""

    handed_to = forms.ModelChoiceField(
        label="Clinician who signs it",
        queryset=User.objects.none(),
        to_field_name="public_id",
        empty_label="Choose…",
        error_messages={"required": "Choose the clinician who signs it.", "invalid_choice": "Choose one of the list."},
    )

    def __init__(self, *args: Any, signers: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["handed_to"]
        assert isinstance(field, forms.ModelChoiceField)
        # The label is the display name, which carries the credentials ("Clinician Tester, LCSW").
        field.queryset = User.objects.filter(pk__in=[u.pk for u in signers]).order_by(
            "last_name", "first_name", "username"
        )
