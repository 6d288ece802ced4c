"""Who and what is already busy: the checks behind every booking and every session edit.

Each returns the conflicting sessions (scheduled, overlapping [starts_at, ends_at)), or for a patient the bookings
holding them, so the caller's error can name them. Overlap is half-open: a session ending at 10:00 does not clash
with one starting at 10:00.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time

from django.db.models import QuerySet

from openiop.scheduling.models import Booking, Room, Session, StaffAvailability, StaffTimeOff


def _overlapping(starts_at: datetime, ends_at: datetime, exclude: Session | None) -> QuerySet[Session]:
    qs = Session.objects.filter(status=Session.Status.SCHEDULED, starts_at__lt=ends_at, ends_at__gt=starts_at)
    if exclude is not None and exclude.pk:
        qs = qs.exclude(pk=exclude.pk)
    return qs


def patient_conflicts(patient_id: int, starts_at: datetime, ends_at: datetime) -> QuerySet[Booking]:
    """The patient's booked seats on scheduled sessions overlapping [starts_at, ends_at), sessions joined (a seat on
    a session in that very window is among them: the caller tells its own session apart).

    Driven from the patient's own booked rows (index ``booking_patient_status``), each joined to its session by
    primary key: a person holds a few dozen seats at most, while filtering sessions by time first and then asking
    whether the patient holds a seat on each (the earlier form) read every session of the clinic in the window.
    """
    return (
        Booking.objects.filter(
            patient_id=patient_id,
            status=Booking.Status.BOOKED,
            session__status=Session.Status.SCHEDULED,
            session__starts_at__lt=ends_at,
            session__ends_at__gt=starts_at,
        )
        .select_related("session__program", "session__session_type")
        .order_by("session__starts_at", "pk")
    )


def facilitator_conflicts(
    user_id: int, starts_at: datetime, ends_at: datetime, exclude: Session | None = None
) -> QuerySet[Session]:
    return _overlapping(starts_at, ends_at, exclude).filter(facilitators__id=user_id)


def room_conflicts(
    room: Room, starts_at: datetime, ends_at: datetime, exclude: Session | None = None
) -> QuerySet[Session]:
    return _overlapping(starts_at, ends_at, exclude).filter(room=room)


def time_off_conflicts(user_id: int, starts_at: datetime, ends_at: datetime) -> QuerySet[StaffTimeOff]:
    return StaffTimeOff.objects.filter(user_id=user_id, starts_at__lt=ends_at, ends_at__gt=starts_at)


def outside_availability(user_id: int, site_id: int, starts_at: datetime, ends_at: datetime, tz: str) -> bool:
    """True when the user has weekly availability set at the site and this time is not inside any window.

    Someone with no availability on file is not warned about: the schedule is then the only source of truth.
    """
    windows = list(StaffAvailability.objects.filter(user_id=user_id, site_id=site_id))
    if not windows:
        return False
    zone = zoneinfo.ZoneInfo(tz)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if start.date() != end.date() and end.time() != time(0):
        return True
    end_time = end.time() if end.date() == start.date() else time.max
    return not any(
        w.weekday == start.weekday() and w.start_time <= start.time() and end_time <= w.end_time for w in windows
    )
