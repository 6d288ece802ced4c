"""Reminders' part of an episode's transitions (``patients.events``), run inside the transition's transaction.

- **Discharged**: every pending reminder of the patient in the episode's program is dropped (appointments,
  questionnaires, plan signatures) except the aftercare follow-up check-ins, which exist because of the discharge.
- **On hold** and **level of care changed**: the pending appointment reminders of the episode's cancelled bookings
  are dropped (the bookings are released by scheduling's handler, which runs first; the new track's bookings get
  theirs from the planner); questionnaire and signature reminders stay.

Dropping here rather than waiting for the planner's sweep means no reminder goes out between the transition and the
next sweep. Like the sweep, the outbox rows are not audited one by one (they hold no clinical content); the
transition's own audit row and the released bookings' rows say what happened. A dropped row is never sent again, and
the planner creates nothing new for cancelled bookings or a closed episode.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from openiop.patients import events
from openiop.reminders import targets
from openiop.reminders.models import Kind, Reminder
from openiop.scheduling.models import Booking

APP = "reminders"


def _drop(rows: QuerySet[Any]) -> int:
    return Reminder.objects.filter(pk__in=rows, status=Reminder.Status.PENDING).update(
        status=Reminder.Status.DROPPED, drop_reason=Reminder.DropReason.CANCELLED, updated_at=timezone.now()
    )


def on_discharged(event: events.EpisodeDischarged) -> None:
    episode = event.episode
    pending = (
        Reminder.objects.filter(
            patient_id=episode.patient_id, program_id=episode.program_id, status=Reminder.Status.PENDING
        )
        .exclude(kind=Kind.FOLLOW_UP)
        .values("pk")
    )
    event.report(
        APP, "reminders_cancelled", _drop(pending), "pending reminders cancelled", "pending reminder cancelled"
    )


def on_put_on_hold(event: events.EpisodePutOnHold) -> None:
    _drop_released_sessions(event)


def on_level_of_care_changed(event: events.LevelOfCareChanged) -> None:
    _drop_released_sessions(event)


def _drop_released_sessions(event: events.EpisodeEvent) -> None:
    # The bookings scheduling released just before (order 10): a seat in a session already started keeps its row.
    bookings = Booking.objects.filter(episode=event.episode, status=Booking.Status.CANCELLED).values("pk")
    pending = Reminder.objects.filter(
        kind=Kind.SESSION, object_type=targets.BOOKING, object_id__in=bookings, status=Reminder.Status.PENDING
    ).values("pk")
    event.report(
        APP, "reminders_cancelled", _drop(pending), "appointment reminders cancelled", "appointment reminder cancelled"
    )
