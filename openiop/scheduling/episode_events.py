"""Scheduling's part of an episode's transitions (``patients.events``), run inside the transition's transaction.

- **Discharged**: the current enrollment ends on the discharge date, every booking of a session that has not started
  yet is cancelled and its seat offered to the waitlist exactly as a single cancellation does (``offer_next``), and
  the episode's open waitlist entries and outstanding offers are withdrawn (an offer's seat passes on).
- **On hold**: the upcoming bookings are released the same way, and an outstanding offer goes back to the line (the
  enrollment and the waitlist entries stay: ``offer_next`` skips episodes that are not active while on hold).
- **Resumed**: the current enrollment is booked again from now to its horizon (``do_book_new_sessions``).
- **Level of care changed** (a step down or up): every booking in the old program from the effective day is
  cancelled, the enrollment ends the day before, the episode joins the new track (and the chosen groups, or the
  group admission would pick) and is booked to its horizon; its old program's waitlist entries are withdrawn and the
  freed seats offered on. Nothing bookable refuses the whole change (``enrollment.move_to_level``).

Sessions that already started keep their booking: attendance and notes hang off it.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.patients import events
from openiop.patients.models import EpisodeOfCare
from openiop.scheduling.actions import booking as booking_actions
from openiop.scheduling.actions.enrollment import current_enrollment, do_book_new_sessions, move_to_level, track_label
from openiop.scheduling.models import Booking, Enrollment, Session, WaitlistEntry
from openiop.scheduling.placement import groups_for_admission

APP = "scheduling"
DISCHARGE_REASON = "Episode discharged"
HOLD_REASON = "Episode put on hold"
if TYPE_CHECKING:
    from openiop.accounts.models import User

_OPEN_ENTRY = (WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED)


def _release_upcoming(
    episode: EpisodeOfCare, *, acting_user: User | None, reason: str, cutoff: datetime
) -> list[Booking]:
    """Cancel the episode's seats in sessions starting from ``cutoff``, in start order (the lock order of every
    booking action); audit rows are the caller's, written after every seat is taken back."""
    freed = []
    now = timezone.now()
    for booking in (
        Booking.objects.filter(episode=episode, status=Booking.Status.BOOKED, session__starts_at__gte=cutoff)
        .select_related("patient")
        .order_by("session__starts_at", "session_id")
    ):
        if booking_actions.release_seat(booking, acting_user=acting_user, reason=reason, now=now, record=False):
            freed.append(booking)
    return freed


def _open_entries(episode: EpisodeOfCare) -> QuerySet[WaitlistEntry]:
    return WaitlistEntry.objects.filter(episode=episode, status__in=_OPEN_ENTRY).select_related(
        "episode__patient", "session"
    )


def _offer_seats(session_ids: list[int], *, acting_user: User | None) -> int:
    """Offer each freed seat to the next person waiting, as ``do_cancel_booking`` does; how many offers went out."""
    offered = 0
    for session_id in session_ids:
        session = Session.objects.select_related("program", "track").get(pk=session_id)
        offered += booking_actions.offer_next(session, acting_user=acting_user) is not None
    return offered


def _cutoff(event: events.EpisodeEvent) -> datetime:
    """From when seats go: now, or the start of the (program-local) day the transition takes effect if that is
    later, so a transition dated ahead keeps the sessions before it."""
    day_start = datetime.combine(event.effective_on, time.min, tzinfo=event.episode.program.tz())
    return max(timezone.now(), day_start)


def on_discharged(event: events.EpisodeDischarged) -> None:
    episode, user = event.episode, event.acting_user
    freed = _release_upcoming(episode, acting_user=user, reason=DISCHARGE_REASON, cutoff=_cutoff(event))
    ended = list(Enrollment.objects.select_for_update().filter(episode=episode, ends_on__isnull=True))
    for enrollment in ended:
        # An enrollment that had not started yet ends on its first day (ends_on is never before starts_on).
        enrollment.ends_on = max(event.effective_on, enrollment.starts_on)
        enrollment.save(update_fields=["ends_on", "updated_at"])
    passed_on: list[int] = []
    withdrawn = 0
    for entry in _open_entries(episode):
        if entry.status == WaitlistEntry.Status.OFFERED and entry.session is not None:
            passed_on.append(entry.session.pk)
        booking_actions.set_waitlist_entry(entry, user, status=WaitlistEntry.Status.WITHDRAWN)
        withdrawn += 1
    for booking in freed:
        booking_actions.audit_release(booking, user)
    for enrollment in ended:
        audit.record(
            action=AuditAction.UPDATED, acting_user=user, patient=episode.patient, obj=enrollment,
            changed_fields=["ends_on"],
        )  # fmt: skip
    offered = _offer_seats([b.session_id for b in freed] + passed_on, acting_user=user)
    event.report(APP, "bookings_cancelled", len(freed), "future sessions cancelled", "future session cancelled")
    event.report(
        APP, "seats_offered", offered, "freed seats offered to the waitlist", "freed seat offered to the waitlist"
    )
    event.report(APP, "waitlist_withdrawn", withdrawn, "waitlist entries withdrawn", "waitlist entry withdrawn")
    event.report(APP, "enrollments_ended", len(ended), "enrollments ended", "enrollment ended")


def on_put_on_hold(event: events.EpisodePutOnHold) -> None:
    episode, user = event.episode, event.acting_user
    freed = _release_upcoming(episode, acting_user=user, reason=HOLD_REASON, cutoff=_cutoff(event))
    passed_on: list[int] = []
    for entry in _open_entries(episode).filter(status=WaitlistEntry.Status.OFFERED):
        if entry.session is not None:
            passed_on.append(entry.session.pk)
        # A group's or track's entry waits again for when the person is back; a single session's offer ends.
        if entry.group_id or entry.track_id:
            booking_actions.set_waitlist_entry(entry, user, status=WaitlistEntry.Status.WAITING, session=None)
        else:
            booking_actions.set_waitlist_entry(entry, user, status=WaitlistEntry.Status.WITHDRAWN)
    for booking in freed:
        booking_actions.audit_release(booking, user)
    offered = _offer_seats([b.session_id for b in freed] + passed_on, acting_user=user)
    event.report(APP, "bookings_cancelled", len(freed), "upcoming sessions released", "upcoming session released")
    event.report(
        APP, "seats_offered", offered, "freed seats offered to the waitlist", "freed seat offered to the waitlist"
    )


def on_level_of_care_changed(event: events.LevelOfCareChanged) -> None:
    """Move the enrollment and bookings to the new level's track (``enrollment.move_to_level``). Without chosen
    groups the person joins the group admission would pick (a seat free, fitting their hours first); with none
    free the whole change is refused, as an admission is."""
    episode, track = event.episode, event.new_track
    groups = list(event.groups)
    if not groups:
        groups, seat = groups_for_admission(episode, track)
        if not seat:
            raise ValidationError(
                {"groups": f"No group in the {track_label(track)} has a free seat: pick a group to wait for a seat "
                 "in, or another track."}
            )  # fmt: skip
    moved = move_to_level(
        episode,
        acting_user=event.acting_user,
        old_program_id=event.old_program.pk,
        track=track,
        groups=groups,
        on=event.effective_on,
    )
    result = moved.result
    event.report(
        APP,
        "bookings_cancelled",
        moved.cancelled,
        f"future sessions in {event.old_program.name} cancelled",
        f"future session in {event.old_program.name} cancelled",
    )
    event.report(
        APP,
        "sessions_booked",
        len(result.booked),
        f"sessions booked in the {track_label(track)}",
        f"session booked in the {track_label(track)}",
    )
    event.report(
        APP,
        "waitlisted",
        len(result.waitlisted),
        "waitlists joined for full sessions",
        "waitlist joined for a full session",
    )
    event.report(
        APP, "seats_offered", moved.offered, "freed seats offered to the waitlist", "freed seat offered to the waitlist"
    )
    event.report(APP, "waitlist_withdrawn", moved.withdrawn, "waitlist entries withdrawn", "waitlist entry withdrawn")
    event.report(APP, "enrollments_ended", int(moved.ended), "enrollments ended", "enrollment ended")


def on_resumed(event: events.EpisodeResumed) -> None:
    enrollment = current_enrollment(event.episode)
    if enrollment is None:
        return
    booked = do_book_new_sessions(enrollment, acting_user=event.acting_user)
    event.report(APP, "sessions_booked", len(booked), "sessions booked again", "session booked again")
