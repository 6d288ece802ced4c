"""Access-checked reads for booking, enrollment and waitlists: the role check first (403), then the lookup
is scoped to the user's programs (404 for anything outside them)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from openiop.accounts.models import User
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.patients.models import Patient
from openiop.programs.models import Program
from openiop.scheduling.models import Booking, Group, Session, WaitlistEntry


def local_days(zones: Iterable[str], start: date, end: date, prefix: str = "") -> Q:
    """Sessions starting on ``start`` up to and including ``end``, each day taken in the session's own program's
    zone: a date filter means program-local days, whatever the server's zone. One OR branch per zone."""
    condition = Q(pk__in=[])
    for name in sorted(set(zones)):
        zone = zoneinfo.ZoneInfo(name)
        condition |= Q(
            **{
                f"{prefix}program__time_zone": name,
                f"{prefix}starts_at__gte": datetime.combine(start, time.min, tzinfo=zone),
                f"{prefix}starts_at__lt": datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
            }
        )
    return condition


def _zones(program_ids: Iterable[int]) -> list[str]:
    return list(Program.objects.filter(pk__in=list(program_ids)).values_list("time_zone", flat=True).distinct())


def sessions_for_user(user: User) -> QuerySet[Session]:
    """Sessions of the user's programs, with what a list row shows."""
    return Session.objects.filter(program_id__in=program_ids_for(user)).select_related(
        "program", "track", "group", "session_type", "room__site"
    )


def sessions_between(user: User, start: date, end: date) -> QuerySet[Session]:
    """Sessions starting on ``start`` up to and including ``end``, in program-local days (see ``local_days``)."""
    zones = _zones(program_ids_for(user))
    return sessions_for_user(user).filter(local_days(zones, start, end)).order_by("starts_at", "pk")


def get_session_for_user(
    user: User,
    public_id: UUID | str,
    cap: Cap = Cap.VIEW_CENSUS,
    *,
    facilitators: bool = True,
    related: tuple[str, ...] | None = None,
    only: tuple[str, ...] = (),
) -> Session:
    """The one session lookup: ``cap`` first (403), then 404 outside the user's programs. Callers pass what they
    need: VIEW_CENSUS for the session page, VIEW_PATIENTS for a roster, RECORD_ATTENDANCE to check in, BOOK_SESSIONS
    to book. Loads what the session page shows, facilitators included unless ``facilitators=False`` (a write that
    never shows them saves the query). ``related`` narrows the joined rows to what the caller reads: a booking
    reads the program and the session type only, and compiling the page's six joins cost it a sixth of its time.
    ``only`` narrows the columns likewise (any other field read later costs a query of its own)."""
    require(user, cap)
    if related is None:
        sessions = sessions_for_user(user).select_related("program__site")
    else:
        sessions = Session.objects.filter(program_id__in=program_ids_for(user)).select_related(*related)
    if facilitators:
        ordered = Prefetch("facilitators", queryset=User.objects.order_by("last_name", "first_name"))
        sessions = sessions.prefetch_related(ordered)
    if only:
        sessions = sessions.only(*only)
    return get_object_or_404(sessions, public_id=public_id)


def session_roster(session: Session) -> QuerySet[Booking]:
    """Everyone booked in the session (names are PHI: the caller audits PATIENTS_LISTED)."""
    return (
        Booking.objects.filter(session=session, status=Booking.Status.BOOKED)
        .select_related("patient", "episode")
        .order_by("patient__legal_last_name", "patient__legal_first_name", "pk")
    )


def get_booking_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.BOOK_SESSIONS) -> Booking:
    require(user, cap)
    if user.organization_id is None:
        raise Http404
    return get_object_or_404(
        Booking.objects.select_related("session__program", "patient", "episode").filter(
            session__program_id__in=program_ids_for(user), patient__organization_id=user.organization_id
        ),
        public_id=public_id,
    )


def get_group_for_user(user: User, public_id: UUID | str) -> Group | None:
    return (
        Group.objects.select_related("track__program")
        .filter(track__program_id__in=program_ids_for(user), public_id=public_id)
        .first()
    )


def waitlist_for_user(user: User) -> QuerySet[WaitlistEntry]:
    if user.organization_id is None:
        return WaitlistEntry.objects.none()
    return WaitlistEntry.objects.filter(
        episode__program_id__in=program_ids_for(user), episode__patient__organization_id=user.organization_id
    ).select_related("episode__patient", "track", "group", "session")


def get_waitlist_entry_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.BOOK_SESSIONS) -> WaitlistEntry:
    require(user, cap)
    return get_object_or_404(waitlist_for_user(user), public_id=public_id)


def patient_schedule(patient: Patient, start: date, end: date, program_ids: list[int] | None = None) -> list[Booking]:
    """The patient's bookings (booked and cancelled) for sessions from ``start`` to ``end`` inclusive (program-local
    days), in start order.

    One query whatever the number of sessions. ``program_ids`` limits it to programs the viewer may see: a
    substance-use program's sessions are not shown to staff outside it.
    """
    # A day either side in UTC covers every zone; each session's own program-local day is checked below, so the
    # schedule stays one query.
    qs = Booking.objects.filter(
        patient=patient,
        session__starts_at__gte=datetime.combine(start - timedelta(days=1), time.min, tzinfo=UTC),
        session__starts_at__lt=datetime.combine(end + timedelta(days=2), time.min, tzinfo=UTC),
    )
    if program_ids is not None:
        qs = qs.filter(session__program_id__in=program_ids)
    rows = qs.select_related(
        "session__program", "session__track", "session__group", "session__session_type", "session__room__site"
    ).order_by("session__starts_at", "session_id", "-created_at")
    return [b for b in rows if start <= b.session.starts_at.astimezone(b.session.program.tz()).date() <= end]
