"""Scheduling API: sessions with free seats, atomic booking, enrollment into tracks, the patient's schedule and
waitlists. Access works as in the HTML views (403 for the role, then 404 outside one's programs) and every write
goes through the scheduling actions."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.api.problems import Conflict
from openiop.api.schemas import ApiIn, ConsequenceOut, EpisodeOut
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.patients import events
from openiop.patients.actions import do_change_level_of_care
from openiop.patients.models import EpisodeOfCare
from openiop.patients.queries import get_episode_for_user, get_patient_for_user
from openiop.programs.models import Program, Track
from openiop.scheduling import queries
from openiop.scheduling.actions import booking as booking_actions
from openiop.scheduling.actions import enrollment as enrollment_actions
from openiop.scheduling.actions.booking import BookingConflict, SessionFull
from openiop.scheduling.models import Booking, Group, Session, WaitlistEntry

router = Router(tags=["scheduling"])
MAX_RANGE_DAYS = 62


class SessionOut(Schema):
    id: UUID = Field(alias="public_id")
    title: str
    session_type: str = Field(alias="session_type.name")
    kind: str = Field(alias="session_type.kind")
    program: UUID = Field(alias="program.public_id")
    track: UUID | None = None
    group: UUID | None = None
    starts_at: datetime
    ends_at: datetime
    room: str | None = None
    mode: str
    status: str
    capacity: int
    booked_count: int
    free_seats: int

    @staticmethod
    def resolve_track(obj: Session) -> UUID | None:
        return obj.track.public_id if obj.track_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_group(obj: Session) -> UUID | None:
        return obj.group.public_id if obj.group_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_room(obj: Session) -> str | None:
        return str(obj.room) if obj.room_id else None


class RosterRow(Schema):
    booking: UUID
    patient: UUID
    name: str
    episode: UUID


class SessionDetail(SessionOut):
    roster: list[RosterRow] | None = None


class BookingOut(Schema):
    id: UUID = Field(alias="public_id")
    session: UUID = Field(alias="session.public_id")
    episode: UUID = Field(alias="episode.public_id")
    patient: UUID = Field(alias="patient.public_id")
    status: str
    source: str
    cancel_reason: str
    cancelled_at: datetime | None


class BookingIn(ApiIn):
    episode: UUID
    idempotency_key: str | None = None


class CancelIn(ApiIn):
    reason: str = ""


class EnrollmentIn(ApiIn):
    track: UUID
    groups: list[UUID] = []
    starts_on: date


class EnrollmentOut(Schema):
    id: UUID
    track: UUID
    groups: list[UUID]
    starts_on: date
    booked_sessions: list[UUID]
    full_sessions: list[UUID]
    overlapping_sessions: list[UUID]
    waitlist_entries: list[UUID]


class ScheduleItem(Schema):
    booking: UUID = Field(alias="public_id")
    booking_status: str = Field(alias="status")
    session: SessionOut


class WaitlistIn(ApiIn):
    episode: UUID
    track: UUID | None = None
    group: UUID | None = None
    session: UUID | None = None


class WaitlistOut(Schema):
    id: UUID = Field(alias="public_id")
    episode: UUID = Field(alias="episode.public_id")
    patient: UUID = Field(alias="episode.patient.public_id")
    name: str = Field(alias="episode.patient.display_name")
    track: UUID | None = None
    group: UUID | None = None
    session: UUID | None = None
    status: str
    offered_at: datetime | None
    offer_expires_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_track(obj: WaitlistEntry) -> UUID | None:
        return obj.track.public_id if obj.track_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_group(obj: WaitlistEntry) -> UUID | None:
        return obj.group.public_id if obj.group_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_session(obj: WaitlistEntry) -> UUID | None:
        return obj.session.public_id if obj.session_id else None  # type: ignore[union-attr]


class RangeFilter(ApiIn):
    """Days are program-local: each session is matched by its own program's calendar day."""

    start: date | None = None
    end: date | None = None


class SessionFilter(RangeFilter):
    track: UUID | None = None
    program: UUID | None = None


def _range(filters: RangeFilter, tz: str | None = None) -> tuple[date, date]:
    """The asked-for program-local days; without a start, the week from today (in ``tz``, else the server's)."""
    start = filters.start or timezone.localdate(timezone=zoneinfo.ZoneInfo(tz) if tz else None)
    end = filters.end or start + timedelta(days=6)
    if end < start:
        raise ValidationError({"end": "End on or after the start."})
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ValidationError({"end": f"Ask for at most {MAX_RANGE_DAYS} days at a time."})
    return start, end


def _session_full(exc: SessionFull) -> Conflict:
    return Conflict(
        "Session full",
        f"{booking_actions.session_label(exc.session)} has no free seat.",
        next_sessions=[
            {
                "id": str(s.public_id),
                "starts_at": s.starts_at.isoformat(),
                "ends_at": s.ends_at.isoformat(),
                "free_seats": s.free_seats,
            }
            for s in exc.next_sessions
        ],
    )


def _book(user: User, session: Session, episode_id: UUID, key: str | None, source: str) -> Booking:
    if user.organization_id is None:
        raise ValidationError({"episode": "Unknown episode, or not one of yours."})
    episode = (
        EpisodeOfCare.objects.filter(
            public_id=episode_id, program_id__in=program_ids_for(user), patient__organization_id=user.organization_id
        )
        .select_related("patient")
        .only(*_EPISODE_READ)
        .first()
    )
    if episode is None:
        raise ValidationError({"episode": "Unknown episode, or not one of yours."})
    try:
        return booking_actions.do_book_seat(
            session, episode=episode, acting_user=user, source=source, idempotency_key=key
        )
    except SessionFull as exc:
        raise _session_full(exc) from None
    except BookingConflict as exc:
        raise Conflict(exc.title, exc.detail) from None


# What a booking reads of the episode and its patient (the checks, the audit row's organization, the answer), and of
# the session (the checks, the overlap read, an error's wording, a full session's alternatives, the answer): the
# full rows cost more to compile and load than the booking's own statements.
_EPISODE_READ = (
    *("public_id", "patient_id", "program_id", "status", "admitted_on", "discharged_on", "expected_discharge_on"),
    *("patient__public_id", "patient__organization_id"),
)
_SESSION_READ = (
    *("public_id", "program_id", "session_type_id", "track_id", "title", "starts_at", "ends_at", "status"),
    *("capacity", "booked_count", "program__time_zone", "session_type__name"),
)


def _booking_out(booking: Booking) -> Booking:
    """The booking with the rows ``BookingOut`` names; read again only when the action did not hand them over."""
    if all(field.is_cached(booking) for field in (Booking.session, Booking.episode, Booking.patient)):
        return booking
    return Booking.objects.select_related("session", "episode", "patient").get(pk=booking.pk)


# --- Sessions -------------------------------------------------------------------------------------------------


@router.get("/sessions", response=list[SessionOut])
def list_sessions(request: HttpRequest, filters: Query[SessionFilter]) -> Any:
    user = request_user(request)
    require(user, Cap.VIEW_CENSUS)
    zone = None
    if filters.program is not None:
        zone = (
            Program.objects.filter(pk__in=program_ids_for(user), public_id=filters.program)
            .values_list("time_zone", flat=True)
            .first()
        )
    start, end = _range(filters, zone)
    qs = queries.sessions_between(user, start, end)
    if filters.program is not None:
        qs = qs.filter(program__public_id=filters.program)
    if filters.track is not None:
        qs = qs.filter(track__public_id=filters.track)
    return qs


@router.get("/sessions/{session_id}", response=SessionDetail)
def get_session(request: HttpRequest, session_id: UUID) -> Any:
    user = request_user(request)
    session = queries.get_session_for_user(user, session_id)
    roster = None
    if user.can(Cap.VIEW_CLINICAL):
        roster = [
            {
                "booking": b.public_id,
                "patient": b.patient.public_id,
                "name": b.patient.display_name,
                "episode": b.episode.public_id,
            }
            for b in queries.session_roster(session)
        ]
        audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, obj=session)
    setattr(session, "roster", roster)  # noqa: B010 (a response-only attribute, not a model field)
    return session


@router.post("/sessions/{session_id}/bookings", response={201: BookingOut})
def book_session(request: HttpRequest, session_id: UUID, payload: BookingIn) -> Any:
    user = request_user(request)
    session = queries.get_session_for_user(
        user,
        session_id,
        Cap.BOOK_SESSIONS,
        facilitators=False,
        related=("program", "session_type"),
        only=_SESSION_READ,
    )
    key = payload.idempotency_key or request.headers.get("Idempotency-Key") or None
    booking = _book(user, session, payload.episode, key, Booking.Source.STAFF)
    return Status(201, _booking_out(booking))


@router.delete("/bookings/{booking_id}", response=BookingOut)
def cancel_booking(request: HttpRequest, booking_id: UUID, payload: CancelIn | None = None) -> Any:
    user = request_user(request)
    booking = queries.get_booking_for_user(user, booking_id)
    booking_actions.do_cancel_booking(booking, acting_user=user, reason=payload.reason if payload else "")
    return _booking_out(booking)


# --- Enrollment and the personal schedule -----------------------------------------------------------------------


@router.post("/episodes/{episode_id}/enrollment", response={201: EnrollmentOut})
def enroll(request: HttpRequest, episode_id: UUID, payload: EnrollmentIn) -> Any:
    """Enroll the episode in a track, or move it there when it is already enrolled in another one."""
    user = request_user(request)
    episode = get_episode_for_user(user, episode_id, Cap.EDIT_CLINICAL)
    track = Track.objects.filter(program_id=episode.program_id, public_id=payload.track).first()
    if track is None:
        raise ValidationError({"track": "Unknown track for this episode's program."})
    groups = list(Group.objects.filter(track=track, public_id__in=payload.groups))
    if len(groups) != len(set(payload.groups)):
        raise ValidationError({"groups": "Unknown group for this track."})
    if enrollment_actions.current_enrollment(episode) is None:
        result = enrollment_actions.do_enroll(
            episode, acting_user=user, track=track, groups=groups, starts_on=payload.starts_on
        )
    else:
        result = enrollment_actions.do_move_track(
            episode, acting_user=user, track=track, groups=groups, on=payload.starts_on
        )
    return Status(201, _enrollment_out(result))


class LevelChangeIn(ApiIn):
    track: UUID = Field(description="A track of a program at another level of care, in your programs")
    groups: list[UUID] = Field([], description="Groups of that track; empty: the group with the most free seats")
    effective_on: date
    reason: str


class LevelChangeOut(Schema):
    episode: EpisodeOut
    consequences: list[ConsequenceOut] = []


@router.post("/episodes/{episode_id}/level-of-care", response=LevelChangeOut)
def change_level_of_care(request: HttpRequest, episode_id: UUID, payload: LevelChangeIn) -> Any:
    """Step the episode down or up a level of care: it moves to the track's program from ``effective_on``, its old
    program's upcoming bookings are cancelled (seats offered on) and the new track booked, in one transaction
    (refused, naming the field, when nothing can be booked). Returns the episode and what was done."""
    user = request_user(request)
    episode = get_episode_for_user(user, episode_id, Cap.EDIT_CLINICAL)
    track = (
        Track.objects.filter(program_id__in=program_ids_for(user), public_id=payload.track)
        .select_related("program")
        .first()
    )
    if track is None:
        raise ValidationError({"track": "Unknown track in your programs."})
    groups = list(Group.objects.filter(track=track, public_id__in=payload.groups))
    if len(groups) != len(set(payload.groups)):
        raise ValidationError({"groups": "Unknown group for this track."})
    done: list[events.Consequence] = []
    changed = do_change_level_of_care(
        episode,
        acting_user=user,
        track=track,
        groups=groups,
        effective_on=payload.effective_on,
        reason=payload.reason,
        consequences=done,
    )
    changed = EpisodeOfCare.objects.select_related("program", "patient", "track", "primary_clinician").get(
        pk=changed.pk
    )
    return {"episode": changed, "consequences": [vars(c) for c in done]}


class GroupsIn(ApiIn):
    groups: list[UUID] = []
    effective_on: date


@router.put("/episodes/{episode_id}/enrollment/groups", response=EnrollmentOut)
def change_groups(request: HttpRequest, episode_id: UUID, payload: GroupsIn) -> Any:
    """Change the current enrollment's groups inside its track from ``effective_on``: the enrollment so far ends
    the day before and a new one (the one returned) starts, booked into the new groups."""
    user = request_user(request)
    episode = get_episode_for_user(user, episode_id, Cap.EDIT_CLINICAL)
    current = enrollment_actions.current_enrollment(episode)
    if current is None:
        raise ValidationError({"groups": "This episode is not enrolled in a track; enroll it first."})
    groups = list(Group.objects.filter(track_id=current.track_id, public_id__in=payload.groups))
    if len(groups) != len(set(payload.groups)):
        raise ValidationError({"groups": "Unknown group for this track."})
    result = enrollment_actions.do_change_groups(current, groups, acting_user=user, effective_on=payload.effective_on)
    return _enrollment_out(result)


def _enrollment_out(result: enrollment_actions.EnrollmentResult) -> dict[str, Any]:
    enrollment = result.enrollment
    return {
        "id": enrollment.public_id,
        "track": enrollment.track.public_id,
        "groups": [g.public_id for g in enrollment.groups.all()],
        "starts_on": enrollment.starts_on,
        "booked_sessions": [b.session.public_id for b in result.booked],
        "full_sessions": [s.public_id for s in result.full],
        "overlapping_sessions": [s.public_id for s in result.overlapping],
        "waitlist_entries": [e.public_id for e in result.waitlisted],
    }


@router.get("/patients/{patient_id}/schedule", response=list[ScheduleItem])
def patient_schedule(request: HttpRequest, patient_id: UUID, filters: Query[RangeFilter]) -> Any:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id)
    start, end = _range(filters)
    items = queries.patient_schedule(patient, start, end, program_ids_for(user))
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="booking")
    return items


# --- Waitlists ------------------------------------------------------------------------------------------------


class WaitlistFilter(ApiIn):
    track: UUID | None = None
    group: UUID | None = None
    session: UUID | None = None
    status: str = WaitlistEntry.Status.WAITING


@router.get("/waitlist", response=list[WaitlistOut])
def list_waitlist(request: HttpRequest, filters: Query[WaitlistFilter]) -> Any:
    user = request_user(request)
    require(user, Cap.VIEW_PATIENTS)
    if filters.status not in WaitlistEntry.Status.values:
        raise ValidationError({"status": f"Use one of {', '.join(WaitlistEntry.Status.values)}."})
    qs = queries.waitlist_for_user(user).filter(status=filters.status)
    if filters.track is not None:
        qs = qs.filter(track__public_id=filters.track)
    if filters.group is not None:
        qs = qs.filter(group__public_id=filters.group)
    if filters.session is not None:
        qs = qs.filter(session__public_id=filters.session)
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="waitlistentry")
    return list(qs.order_by("created_at", "pk"))


@router.post("/waitlist", response={201: WaitlistOut})
def join_waitlist(request: HttpRequest, payload: WaitlistIn) -> Any:
    user = request_user(request)
    require(user, Cap.BOOK_SESSIONS)
    try:
        episode = get_episode_for_user(user, payload.episode, Cap.BOOK_SESSIONS)
    except Http404 as exc:  # a reference in the body is a field error, not a missing resource
        raise ValidationError({"episode": "Unknown episode, or not one of yours."}) from exc
    track = group = session = None
    if payload.track is not None:
        track = Track.objects.filter(program_id__in=program_ids_for(user), public_id=payload.track).first()
        if track is None:
            raise ValidationError({"track": "Unknown track."})
    if payload.group is not None:
        group = queries.get_group_for_user(user, payload.group)
        if group is None:
            raise ValidationError({"group": "Unknown group."})
    if payload.session is not None:
        session = queries.sessions_for_user(user).filter(public_id=payload.session).first()
        if session is None:
            raise ValidationError({"session": "Unknown session."})
    entry = booking_actions.do_join_waitlist(episode, acting_user=user, track=track, group=group, session=session)
    return Status(201, queries.waitlist_for_user(user).get(pk=entry.pk))


@router.delete("/waitlist/{entry_id}", response=WaitlistOut)
def withdraw_waitlist(request: HttpRequest, entry_id: UUID) -> Any:
    user = request_user(request)
    entry = queries.get_waitlist_entry_for_user(user, entry_id)
    booking_actions.do_withdraw(entry, acting_user=user)
    return queries.waitlist_for_user(user).get(pk=entry.pk)


@router.post("/waitlist/{entry_id}/accept", response={201: BookingOut})
def accept_offer(request: HttpRequest, entry_id: UUID) -> Any:
    user = request_user(request)
    entry = queries.get_waitlist_entry_for_user(user, entry_id)
    try:
        booking = booking_actions.do_accept_offer(entry, acting_user=user)
    except SessionFull as exc:
        raise _session_full(exc) from None
    except BookingConflict as exc:
        raise Conflict(exc.title, exc.detail) from None
    return Status(201, _booking_out(booking))
