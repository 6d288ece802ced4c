"""The placement page: who is waiting for a track, their weekly availability, the optimizer's proposal with
reasons, and enrolling the people staff tick."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from openiop.core import audit
from openiop.core.forms import DateInput, StyledFormMixin, TimeInput, add_action_errors
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, staff_view
from openiop.core.roles import Cap
from openiop.programs.models import WEEKDAYS, Program, Track
from openiop.scheduling import placement

if TYPE_CHECKING:
    from openiop.accounts.models import User


# Who places patients: clinical staff or program managers; staff_view answers 403 to anyone else.
PLACEMENT_CAPS = (Cap.EDIT_CLINICAL, Cap.MANAGE_PROGRAMS)


def _program_for(request: HttpRequest, public_id: UUID) -> Program:
    """The user's own programs only (404: an outsider never learns the program exists); the role check ran first."""
    user: User = request.user  # type: ignore[assignment]
    return get_object_or_404(Program.objects.select_related("site"), public_id=public_id, id__in=program_ids_for(user))


class AvailabilityForm(StyledFormMixin, forms.Form):
    preferred_kind = forms.ChoiceField(
        label="Preferred track", required=False, choices=[("", "No preference"), *Track.Kind.choices]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for number, name in WEEKDAYS:
            self.fields[f"day_{number}_start"] = forms.TimeField(
                label=f"{name} from", required=False, widget=TimeInput()
            )
            self.fields[f"day_{number}_end"] = forms.TimeField(
                label=f"{name} until", required=False, widget=TimeInput()
            )
        # Added after the mixin styled the declared fields, so they get its class here.
        for name in self.fields:
            if name.startswith("day_"):
                self.fields[name].widget.attrs["class"] = "form-control"

    def days(self) -> list[dict[str, Any]]:
        return [
            {"name": name, "number": n, "start": self[f"day_{n}_start"], "end": self[f"day_{n}_end"]}
            for n, name in WEEKDAYS
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for number, _name in WEEKDAYS:
            start, end = data.get(f"day_{number}_start"), data.get(f"day_{number}_end")
            if (start is None) != (end is None):
                missing = f"day_{number}_end" if end is None else f"day_{number}_start"
                self.add_error(missing, "Give both times, or leave both empty.")
        return data

    def windows(self) -> list[tuple[int, Any, Any]]:
        data = self.cleaned_data
        return [
            (n, data[f"day_{n}_start"], data[f"day_{n}_end"])
            for n, _name in WEEKDAYS
            if data.get(f"day_{n}_start") and data.get(f"day_{n}_end")
        ]

    def add_error(self, field: str | None, error: Any) -> None:
        # The action names a day as "day_<n>"; the form shows it on that day's end time.
        if field and field.startswith("day_") and field.count("_") == 1:
            field = f"{field}_end"
        super().add_error(field, error)


class ApplyForm(StyledFormMixin, forms.Form):
    starts_on = forms.DateField(label="Start date", widget=DateInput())


def _posted_choices(request: HttpRequest) -> list[placement.Choice]:
    """The ticked rows with the track and groups the page showed for them; ValueError if ids are not UUIDs."""
    choices = []
    for episode_id in request.POST.getlist("episode"):
        key = str(UUID(episode_id))
        track_id = str(UUID(request.POST.get(f"track_{key}", "")))
        raw_groups = request.POST.get(f"groups_{key}", "")
        group_ids = tuple(str(UUID(g)) for g in raw_groups.split(",") if g)
        choices.append(placement.Choice(key, track_id, group_ids))
    return choices


def _list_audit(user: User, program: Program) -> None:
    audit.record(
        action=AuditAction.PATIENTS_LISTED,
        acting_user=user,
        obj=program,
        organization_id=program.site.organization_id,
    )


@require_http_methods(["GET", "POST"])
@staff_view(any_of=PLACEMENT_CAPS)
def placement_page(request: HttpRequest, public_id: UUID) -> HttpResponse:
    program = _program_for(request, public_id)
    user: User = request.user  # type: ignore[assignment]
    context: dict[str, Any] = {"program": program, "nav": "home"}
    apply_form = ApplyForm(initial={"starts_on": program.now().date()})
    if request.method == "POST" and request.POST.get("action") == "apply":
        apply_form = ApplyForm(request.POST)
        try:
            choices = _posted_choices(request)
        except ValueError:
            return HttpResponseBadRequest("Malformed placement choices.")
        if not choices:
            apply_form.add_error(None, "Tick at least one person to enroll.")
        if apply_form.is_valid():
            starts_on: date = apply_form.cleaned_data["starts_on"]
            applied = placement.do_apply_placements(program, acting_user=user, choices=choices, starts_on=starts_on)
            done = [a for a in applied if not a.error]
            for a in applied:
                if a.error:
                    messages.error(request, f"{a.episode.patient.display_name}: {a.error}")
            if done:
                messages.success(request, f"Enrolled {len(done)} {'person' if len(done) == 1 else 'people'}.")
            return redirect("scheduling:placement", public_id=program.public_id)
    if request.method == "POST":
        run = placement.run_placement(program)
        _list_audit(user, program)
        context.update(run=run, rows=run.rows(), result=run.result, apply_form=apply_form)
        return render(request, "scheduling/placement/page.html", context)
    episodes = list(placement.waiting_episodes(program))
    _list_audit(user, program)
    names = dict(WEEKDAYS)
    rows = [
        {
            "episode": e,
            "windows": [
                f"{names[d]} {s:%H:%M}-{t:%H:%M}" for d, s, t in placement.windows_of(placement.request_for(e))
            ],
        }
        for e in episodes
    ]
    context["waiting"] = rows
    return render(request, "scheduling/placement/page.html", context)


@require_http_methods(["GET", "POST"])
@staff_view(any_of=PLACEMENT_CAPS)
def availability(request: HttpRequest, public_id: UUID, episode_id: UUID) -> HttpResponse:
    program = _program_for(request, public_id)
    user: User = request.user  # type: ignore[assignment]
    episode = get_object_or_404(placement.waiting_episodes(program).select_related("patient"), public_id=episode_id)
    current = placement.request_for(episode)
    if request.method == "POST":
        form = AvailabilityForm(request.POST)
        if form.is_valid():
            try:
                placement.do_save_placement_request(
                    episode,
                    acting_user=user,
                    availability=form.windows(),
                    preferred_kind=form.cleaned_data["preferred_kind"],
                )
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, f"Saved availability for {episode.patient.display_name}.")
                return redirect("scheduling:placement", public_id=program.public_id)
    else:
        initial: dict[str, Any] = {"preferred_kind": current.preferred_kind if current else ""}
        for day, start, end in placement.windows_of(current):
            initial[f"day_{day}_start"], initial[f"day_{day}_end"] = start, end
        form = AvailabilityForm(initial=initial)
        audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=episode.patient, obj=episode)
    return render(
        request,
        "scheduling/placement/availability.html",
        {"program": program, "episode": episode, "form": form, "nav": "home"},
    )
