"""Access-checked reads of attendance: the session roster with its records, today's sessions with live counts,
one record and its history, a patient's records.

Role first (403), then the lookup is scoped to the user's programs (404 outside them). The roster costs the
same few queries for 3 people or 30: the session (with its facilitators), the bookings, the records.
Callers audit what they show: a roster is a patient list (PATIENTS_LISTED), a record's history a record read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.db.models import Count, Min, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from openiop.accounts.models import User
from openiop.attendance.models import AttendanceCorrection, AttendanceRecord
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.programs.models import Program
from openiop.scheduling.models import Booking, Session

Status = AttendanceRecord.Status


def get_session_for_check_in(user: User, public_id: UUID | str) -> Session:
    """The lean lookup a check-in tap needs (no facilitators, room or track): RECORD_ATTENDANCE (403), then 404."""
    require(user, Cap.RECORD_ATTENDANCE)
    return get_object_or_404(
        Session.objects.filter(program_id__in=program_ids_for(user)).select_related("program"), public_id=public_id
    )


@dataclass
class RosterRow:
    """One person on the roster: their seat (None for a record whose booking was cancelled later) and record."""

    patient: Patient
    episode: EpisodeOfCare
    booking: Booking | None
    record: AttendanceRecord | None

    @property
    def state(self) -> str:
        return self.record.status if self.record is not None else "not_recorded"

    @property
    def dom_id(self) -> str:
        return f"row-{self.patient.public_id}"


def _roster_bookings(session: Session) -> QuerySet[Booking]:
    qs = Booking.objects.filter(session=session).select_related("patient", "episode")
    if session.status == Session.Status.CANCELLED:
        # The seats that went with the cancellation (booking.do_cancel_bookings_for_session gives them its reason).
        return qs.filter(status=Booking.Status.CANCELLED, cancel_reason=session.cancel_reason)
    return qs.filter(status=Booking.Status.BOOKED)


def session_roster(session: Session, patient: Patient | None = None) -> list[RosterRow]:
    """Everyone on the session with their record, by last name: two queries whatever the group size.

    ``patient`` narrows it to one row (the HTMX swap after a tap).
    """
    return _rows(session, Q(patient=patient) if patient is not None else Q())


def _rows(session: Session, person: Q) -> list[RosterRow]:
    bookings = _roster_bookings(session).filter(person)
    records = AttendanceRecord.objects.filter(session=session).filter(person).select_related("patient", "episode")
    by_patient = {r.patient_id: r for r in records}
    rows: dict[int, RosterRow] = {}
    for booking in bookings.order_by("created_at", "pk"):
        rows[booking.patient_id] = RosterRow(
            booking.patient, booking.episode, booking, by_patient.get(booking.patient_id)
        )
    for record in by_patient.values():
        if record.patient_id not in rows:
            rows[record.patient_id] = RosterRow(record.patient, record.episode, None, record)
    return sorted(
        rows.values(),
        key=lambda r: (r.patient.legal_last_name.lower(), r.patient.legal_first_name.lower(), r.patient.pk),
    )


def roster_row(session: Session, patient_public_id: UUID | str) -> RosterRow:
    """One person's row; 404 for anyone not on this session's roster. Two queries (the patient comes joined)."""
    rows = _rows(session, Q(patient__public_id=patient_public_id))
    if not rows:
        raise Http404
    return rows[0]


# What a tap reads of the seat's person and episode: the row shows the name and MRN, the audit row takes the
# organization; the whole rows cost the tap more to compile and load than its insert.
_TAP_SEAT_READ = (
    *(field.attname for field in Booking._meta.concrete_fields),
    *("patient__public_id", "patient__organization_id", "patient__mrn"),
    *("patient__legal_first_name", "patient__legal_last_name", "patient__preferred_name"),
    *("episode__public_id", "episode__patient_id", "episode__program_id", "episode__status"),
)


def tap_row(session: Session, patient_public_id: UUID | str) -> RosterRow:
    """``roster_row`` for a tap, in one query when the person holds a seat: their record is then left unread
    (None), for the check-in action reads it under its lock; see ``with_record`` for a row shown without that."""
    seat = (
        _roster_bookings(session)
        .filter(patient__public_id=patient_public_id)
        .only(*_TAP_SEAT_READ)
        .order_by("-created_at", "-pk")  # the newest seat, as the roster keeps it
        .first()
    )
    if seat is None:
        return roster_row(session, patient_public_id)  # a record whose seat went later, or a 404
    return RosterRow(seat.patient, seat.episode, seat, None)


def with_record(session: Session, row: RosterRow) -> RosterRow:
    """The row of ``tap_row`` with the person's record read (a row with no seat came with it)."""
    if row.booking is not None and row.record is None:
        row.record = AttendanceRecord.objects.filter(session=session, patient_id=row.patient.pk).first()
        if row.record is not None:
            row.record.patient = row.patient
    return row


@dataclass(frozen=True)
class Counts:
    booked: int = 0
    attended: int = 0
    absent: int = 0
    cancelled: int = 0

    @property
    def not_recorded(self) -> int:
        return max(self.booked - self.attended - self.absent - self.cancelled, 0)

    @property
    def recorded(self) -> int:
        return self.attended + self.absent + self.cancelled


def roster_counts(sessions: list[Session]) -> dict[int, Counts]:
    """Booked / attended / absent / cancelled for each session: two grouped queries for any number of sessions."""
    ids = [s.pk for s in sessions]
    booked = dict(
        Booking.objects.filter(session_id__in=ids, status=Booking.Status.BOOKED)
        .values_list("session_id")
        .annotate(n=Count("pk"))
        .values_list("session_id", "n")
    )
    tallies: dict[int, dict[str, int]] = {}
    for session_id, status, n in (
        AttendanceRecord.objects.filter(session_id__in=ids)
        .values_list("session_id", "status")
        .annotate(n=Count("pk"))
        .values_list("session_id", "status", "n")
        .order_by()
    ):
        tallies.setdefault(session_id, {})[status] = n
    result = {}
    for session in sessions:
        tally = tallies.get(session.pk, {})
        cancelled = tally.get(Status.CANCELLED, 0)
        result[session.pk] = Counts(
            # A cancelled session's seats were released with it: its roster is the people recorded as cancelled.
            booked=booked.get(session.pk, 0) if session.status != Session.Status.CANCELLED else cancelled,
            attended=sum(tally.get(s, 0) for s in AttendanceRecord.ATTENDED),
            absent=sum(tally.get(s, 0) for s in AttendanceRecord.MISSED),
            cancelled=cancelled,
        )
    return result


@dataclass
class ProgramDay:
    program: Program
    day: date
    sessions: list[Session] = field(default_factory=list)
    is_today: bool = True  # False: the program has no session today and ``day`` is its next session day


# How far ahead Today looks for a program's next session day when it has none today (a weekend, a holiday week).
NEXT_DAY_HORIZON_DAYS = 14


def todays_sessions(user: User, now: datetime | None = None) -> list[ProgramDay]:
    """Each of the user's programs with its sessions of the program-local today, and their counts; a program with
    no session today shows its next session day instead (``is_today`` False), so on a weekend the page still says
    what comes next and leads to those rosters.

    One query for the programs, one for every session of every program (each program's own local day), one
    for the facilitators and two for the counts (``roster_counts``), whatever the numbers; when some program has
    no session today, three more (the next session day of each, their sessions, and their facilitators).
    """
    require(user, Cap.VIEW_CENSUS)
    now = now or timezone.now()
    programs = list(
        Program.objects.filter(pk__in=program_ids_for(user), is_active=True)
        .select_related("site")
        .order_by("site__name", "name")
    )
    if not programs:
        return []
    days: dict[int, ProgramDay] = {}
    window = Q()
    for program in programs:
        tz = program.tz()
        today = now.astimezone(tz).date()
        start = datetime.combine(today, time(0), tzinfo=tz)
        end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=tz)
        days[program.pk] = ProgramDay(program, today)
        window |= Q(program_id=program.pk, starts_at__gte=start, starts_at__lt=end)
    _add_sessions(days, window)
    idle = [pk for pk, day in days.items() if not day.sessions]
    if idle:
        _add_next_days(days, idle, now)
    return list(days.values())


def _add_sessions(days: dict[int, ProgramDay], window: Q) -> None:
    sessions = (
        Session.objects.filter(window)
        .select_related("program__site", "session_type", "room", "track", "group")
        .prefetch_related("facilitators")
        .order_by("starts_at", "pk")
    )
    for session in sessions:
        days[session.program_id].sessions.append(session)


def _add_next_days(days: dict[int, ProgramDay], idle: list[int], now: datetime) -> None:
    """Fill the programs without a session today with their next session day (a cancelled session alone does not
    make a day one). Any session after ``now`` of such a program is on a later local day."""
    firsts = (
        Session.objects.filter(
            program_id__in=idle,
            status=Session.Status.SCHEDULED,
            starts_at__gt=now,
            starts_at__lt=now + timedelta(days=NEXT_DAY_HORIZON_DAYS),
        )
        .values("program_id")
        .annotate(first=Min("starts_at"))
        .values_list("program_id", "first")
        .order_by()
    )
    window = Q()
    for program_id, first in firsts:
        day = days[program_id]
        tz = day.program.tz()
        day.day, day.is_today = first.astimezone(tz).date(), False
        start = datetime.combine(day.day, time(0), tzinfo=tz)
        end = datetime.combine(day.day + timedelta(days=1), time(0), tzinfo=tz)
        window |= Q(program_id=program_id, starts_at__gte=start, starts_at__lt=end)
    if not window:
        return
    _add_sessions(days, window)


def records_for_user(user: User, cap: Cap = Cap.VIEW_PATIENTS) -> QuerySet[AttendanceRecord]:
    require(user, cap)
    if user.organization_id is None:
        return AttendanceRecord.objects.none()
    return AttendanceRecord.objects.filter(
        session__program_id__in=program_ids_for(user), patient__organization_id=user.organization_id
    ).select_related("session__program", "session__session_type", "patient", "episode", "recorded_by")


def get_record_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_PATIENTS) -> AttendanceRecord:
    return get_object_or_404(records_for_user(user, cap), public_id=public_id)


def record_history(record: AttendanceRecord) -> list[AttendanceCorrection]:
    """Every earlier version of the record, oldest first, with who replaced it."""
    return list(
        AttendanceCorrection.objects.filter(record=record).select_related("corrected_by").order_by("version", "pk")
    )


def patient_records(user: User, patient: Patient) -> list[AttendanceRecord]:
    """The patient's records in the user's programs, newest session first (one query)."""
    return list(records_for_user(user).filter(patient=patient).order_by("-session__starts_at", "-pk"))
