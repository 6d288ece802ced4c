"""Step down / step up: the page that moves an active episode to a track of a program at another level of care.

The form chooses the track (and so the program and level), optionally groups of it, the day and the reason; the
page shows beforehand what will happen (the upcoming sessions cancelled, the groups with seats) and, after the
change, what was done (the event's consequences). The change itself is ``patients.actions.do_change_level_of_care``,
whose handlers move the bookings (scheduling), reminders, work queue and plan review in one transaction.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.forms import DateInput, StyledFormMixin, add_action_errors
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, staff_view
from openiop.core.roles import Cap
from openiop.patients import events
from openiop.patients.actions import MAX_LEVEL_REASON, do_change_level_of_care
from openiop.patients.models import EpisodeOfCare
from openiop.patients.queries import get_patient_for_user
from openiop.programs import levels
from openiop.programs.models import Track
from openiop.scheduling.actions.enrollment import track_label
from openiop.scheduling.models import Booking, Group

DIRECTION_LABELS = {"step_down": "Step down", "step_up": "Step up", "same": "Change level"}


def level_targets(user: User, episode: EpisodeOfCare) -> QuerySet[Track]:
    """The running tracks the user may move the episode to: in the user's active programs of the organization that
    run another level of care than the episode's."""
    return (
        Track.objects.filter(
            is_active=True,
            program__is_active=True,
            program_id__in=program_ids_for(user),
            program__site__organization_id=episode.patient.organization_id,
        )
        .exclude(program_id=episode.program_id)
        .exclude(program__level_of_care=episode.level_of_care)
        .select_related("program")
        .order_by("program__name", "start_time", "name")
    )


def can_change_level(user: User, episode: EpisodeOfCare) -> bool:
    """Whether to offer the step down / step up page for this episode (the Schedule tab's link)."""
    return (
        user.can(Cap.EDIT_CLINICAL)
        and episode.status == EpisodeOfCare.Status.ACTIVE
        and level_targets(user, episode).exists()
    )


class TrackChoice(forms.ModelChoiceField):
    def __init__(self, *args: Any, current_level: str = "", **kwargs: Any) -> None:
        self.current_level = current_level
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        program = obj.program
        step = DIRECTION_LABELS[levels.direction(self.current_level, program.level_of_care)]
        return f"{step} to {program.level_short}: {program.name} · {obj.name} ({obj.schedule_label})"


class GroupChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        members = getattr(obj, "members", None)
        free = max(obj.capacity - members, 0) if members is not None else None
        seats = f", {free} free seat{'' if free == 1 else 's'}" if free is not None else ""
        return f"{obj.track.name} · {obj.name}{seats}"


class LevelChangeForm(StyledFormMixin, forms.Form):
    track = TrackChoice(queryset=Track.objects.none(), to_field_name="public_id", label="Move to", empty_label=None)
    groups = GroupChoice(
        queryset=Group.objects.none(),
        to_field_name="public_id",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Groups",
        help_text="Leave empty to join the track's group with the most free seats (a full group puts the person on "
        "its waitlist).",
    )
    effective_on = forms.DateField(widget=DateInput(), label="From", help_text="Bookings from this day change.")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=MAX_LEVEL_REASON,
        help_text="Why the level of care changes; shown in the episode's level history.",
    )

    def __init__(self, *args: Any, episode: EpisodeOfCare, tracks: QuerySet[Track], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"effective_on": episode.program.now().date()})
        super().__init__(*args, **kwargs)
        track = self.fields["track"]
        track.queryset = tracks  # type: ignore[attr-defined]
        track.current_level = episode.level_of_care  # type: ignore[attr-defined]
        self.fields["groups"].queryset = open_groups(tracks)  # type: ignore[attr-defined]


def open_groups(tracks: QuerySet[Track]) -> QuerySet[Group]:
    """The open groups of the tracks, each with ``free_seats`` (capacity minus current members)."""
    return (
        Group.objects.filter(track__in=tracks, is_active=True, is_open=True)
        .select_related("track")
        .annotate(members=Count("enrollments", filter=Q(enrollments__ends_on__isnull=True), distinct=True))
        .order_by("track__name", "name")
    )


@staff_view(Cap.EDIT_CLINICAL)
def level_change(request: HttpRequest, public_id: UUID, episode_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_CLINICAL)
    episode = get_object_or_404(
        EpisodeOfCare.objects.filter(patient=patient, program_id__in=program_ids_for(user)).select_related(
            "program__site", "track", "patient"
        ),
        public_id=episode_id,
    )
    back = f"{patient.get_absolute_url()}?tab=schedule"
    tracks = level_targets(user, episode)
    if episode.status != EpisodeOfCare.Status.ACTIVE or not tracks.exists():
        messages.info(request, "Only an active episode with a program at another level of care to go to can step.")
        return redirect(back)
    form = LevelChangeForm(request.POST if request.method == "POST" else None, episode=episode, tracks=tracks)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done: list[events.Consequence] = []
        try:
            changed = do_change_level_of_care(
                episode,
                acting_user=user,
                track=data["track"],
                groups=list(data["groups"]),
                effective_on=data["effective_on"],
                reason=data["reason"],
                consequences=done,
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            step = DIRECTION_LABELS[levels.direction(episode.level_of_care, changed.level_of_care)]
            messages.success(
                request,
                f"{step}: {changed.level_short} in {changed.program.name}, {track_label(data['track'])}, from "
                f"{data['effective_on']:%b %-d}.",
            )
            if done:
                messages.info(request, f"Also done: {events.describe(done)}.")
            return redirect(back)
    if request.method != "POST":
        audit.record(
            action=AuditAction.RECORD_VIEWED,
            acting_user=user,
            patient=patient,
            obj=episode,
            organization_id=user.organization_id,
        )
    upcoming = Booking.objects.filter(
        episode=episode,
        status=Booking.Status.BOOKED,
        session__program_id=episode.program_id,
        session__starts_at__gte=timezone.now(),
    ).count()
    return render(
        request,
        "scheduling/level_change.html",
        {
            "nav": "patients",
            "patient": patient,
            "episode": episode,
            "form": form,
            "upcoming": upcoming,
            "back_url": back,
        },
    )
