"""Attendance API: a session's roster with its records, check-in (PUT, idempotent on session + patient),
corrections (reason required) and a patient's records. Same actions and access rules as the roster page:
reading needs VIEW_PATIENTS (403), writing RECORD_ATTENDANCE (403), and anything outside the user's programs
is 404. Reads of names are audited (PATIENTS_LISTED for a roster, RECORD_VIEWED for a patient's records)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.api.schemas import ApiIn, Int32
from openiop.attendance import actions
from openiop.attendance import queries as attendance_queries
from openiop.attendance.models import AttendanceRecord
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.roles import Cap
from openiop.patients.queries import get_patient_for_user
from openiop.scheduling.queries import get_session_for_user

router = Router(tags=["attendance"])


class AttendanceOut(Schema):
    id: UUID = Field(alias="public_id")
    session: UUID = Field(alias="session.public_id")
    patient: UUID = Field(alias="patient.public_id")
    episode: UUID = Field(alias="episode.public_id")
    status: str
    late_minutes: int
    left_early_minutes: int
    arrived_at: datetime | None
    departed_at: datetime | None
    minutes_attended: int
    participation: str
    remark: str
    version: int
    recorded_by: UUID = Field(alias="recorded_by.public_id")
    updated_at: datetime


class RosterEntryOut(Schema):
    patient: UUID
    name: str
    episode: UUID
    booking: UUID | None
    record: AttendanceOut | None


class SessionAttendanceOut(Schema):
    session: UUID
    status: str
    checkin_open: bool
    checkin_closes_at: datetime
    roster: list[RosterEntryOut]


class CheckInIn(ApiIn):
    """The person's whole check-in: fields left out take their defaults (PUT replaces, it does not merge)."""

    status: str
    late_minutes: Int32 = 0
    left_early_minutes: Int32 = 0
    arrived_at: datetime | None = None
    departed_at: datetime | None = None
    participation: str = ""
    remark: str = Field("", max_length=200)
    reason: str = Field("", max_length=300, description="Needed to change a record after check-in has closed.")


class CorrectionIn(ApiIn):
    """A correction: only the fields given change; ``expected_version`` refuses a correction over a newer one."""

    reason: str
    expected_version: Int32 | None = None
    status: str | None = None
    late_minutes: Int32 | None = None
    left_early_minutes: Int32 | None = None
    arrived_at: datetime | None = None
    departed_at: datetime | None = None
    participation: str | None = None
    remark: str | None = Field(None, max_length=200)


def _record_out(record: AttendanceRecord) -> AttendanceRecord:
    return AttendanceRecord.objects.select_related("session", "patient", "episode", "recorded_by").get(pk=record.pk)


@router.get("/sessions/{session_id}/attendance", response=SessionAttendanceOut)
def session_attendance(request: HttpRequest, session_id: UUID) -> dict[str, Any]:
    user = request_user(request)
    session = get_session_for_user(user, session_id, Cap.VIEW_PATIENTS)
    rows = attendance_queries.session_roster(session)
    records = {
        r.pk: r
        for r in AttendanceRecord.objects.filter(pk__in=[row.record.pk for row in rows if row.record]).select_related(
            "session", "patient", "episode", "recorded_by"
        )
    }
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, obj=session)
    return {
        "session": session.public_id,
        "status": session.status,
        "checkin_open": actions.checkin_is_open(session),
        "checkin_closes_at": actions.checkin_closes_at(session),
        "roster": [
            {
                "patient": row.patient.public_id,
                "name": row.patient.display_name,
                "episode": row.episode.public_id,
                "booking": row.booking.public_id if row.booking else None,
                "record": records[row.record.pk] if row.record else None,
            }
            for row in rows
        ],
    }


@router.put("/sessions/{session_id}/attendance/{patient_id}", response=AttendanceOut)
def check_in(request: HttpRequest, session_id: UUID, patient_id: UUID, payload: CheckInIn) -> Any:
    """Record (or, while check-in is open, replace) the person's attendance; sending it twice changes nothing."""
    user = request_user(request)
    session = get_session_for_user(user, session_id, Cap.RECORD_ATTENDANCE)
    row = attendance_queries.roster_row(session, patient_id)
    data = payload.dict()
    reason = data.pop("reason")
    status = data.pop("status")
    record = actions.do_check_in(session, row.patient, acting_user=user, status=status, reason=reason, **data)
    return _record_out(record)


@router.post("/attendance/{record_id}/corrections", response={201: AttendanceOut})
def correct(request: HttpRequest, record_id: UUID, payload: CorrectionIn) -> Any:
    user = request_user(request)
    record = attendance_queries.get_record_for_user(user, record_id, Cap.RECORD_ATTENDANCE)
    changes = payload.dict(exclude_unset=True, exclude={"reason", "expected_version"})
    changes = {k: v for k, v in changes.items() if v is not None or k in ("arrived_at", "departed_at")}
    record = actions.do_correct_attendance(
        record, acting_user=user, reason=payload.reason, expected_version=payload.expected_version, **changes
    )
    return Status(201, _record_out(record))


@router.get("/patients/{patient_id}/attendance", response=list[AttendanceOut])
def patient_attendance(request: HttpRequest, patient_id: UUID) -> Any:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id)
    records = attendance_queries.patient_records(user, patient)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="attendancerecord")
    return records


# --- Dose weeks and the program attendance report (read only; openiop/attendance/dose.py and reports.py) ----------

# Imported here so this block stays one append; the definitions above do not depend on it.
from datetime import date  # noqa: E402

from django.core.exceptions import ValidationError  # noqa: E402
from django.utils import timezone  # noqa: E402
from ninja import Query  # noqa: E402

from openiop.attendance import reports as dose_reports  # noqa: E402
from openiop.attendance.dose import WeekDose, episode_doses  # noqa: E402
from openiop.patients.queries import get_episode_for_user  # noqa: E402
from openiop.programs.queries import get_program_for_user  # noqa: E402

REPORT_MAX_DAYS = 366


class DoseWeekOut(Schema):
    """One patient-week; minutes are credited clinical minutes (policy rounding), hours the same as decimals."""

    start: date
    end: date
    closed: bool
    status: str
    reachable: bool
    at_risk: bool
    minimum_minutes: int
    full_minimum_minutes: int
    minimum_source: str
    scheduled_minutes: int
    attended_minutes: int
    remaining_minutes: int
    unrecorded_minutes: int
    shortfall_minutes: int


def _week_out(week: WeekDose) -> dict[str, Any]:
    return {
        "start": week.start,
        "end": week.end,
        "closed": week.closed,
        "status": week.status.value,
        "reachable": week.reachable,
        "at_risk": week.at_risk,
        "minimum_minutes": week.minimum,
        "full_minimum_minutes": week.full_minimum,
        "minimum_source": week.minimum_source,
        "scheduled_minutes": week.scheduled,
        "attended_minutes": week.attended,
        "remaining_minutes": week.remaining,
        "unrecorded_minutes": week.unrecorded,
        "shortfall_minutes": week.shortfall,
    }


@router.get("/episodes/{episode_id}/dose-weeks", response=list[DoseWeekOut])
def dose_weeks(request: HttpRequest, episode_id: UUID) -> Any:
    """Every week of the episode, oldest first, with this week's reachability live."""
    user = request_user(request)
    episode = get_episode_for_user(user, episode_id)
    doses = episode_doses([episode], now=timezone.now())
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=episode.patient, obj=episode,
                 object_type="dose")  # fmt: skip
    return [_week_out(w) for d in doses for w in d.weeks]


class ReportFilter(ApiIn):
    start: date
    end: date


class ReportRowOut(Schema):
    track: UUID | None
    name: str
    patients: int
    scheduled_sessions: int
    attended: int
    absent_unexcused: int
    absent_excused: int
    not_recorded: int
    attendance_rate_percent: float | None
    no_show_rate_percent: float | None
    patient_weeks_due: int
    patient_weeks_met: int
    dose_met_percent: float | None


class ReportOut(Schema):
    program: UUID
    start: date
    end: date
    tracks: list[ReportRowOut]
    total: ReportRowOut


def _row_out(row: dose_reports.TrackRow) -> dict[str, Any]:
    def pct(value: Any) -> float | None:
        return None if value is None else float(value)

    return {
        "track": row.track.public_id if row.track else None,
        "name": row.name,
        "patients": row.patient_count,
        "scheduled_sessions": row.scheduled,
        "attended": row.attended,
        "absent_unexcused": row.unexcused,
        "absent_excused": row.excused,
        "not_recorded": row.unrecorded,
        "attendance_rate_percent": pct(row.attendance_rate),
        "no_show_rate_percent": pct(row.no_show_rate),
        "patient_weeks_due": row.weeks_due,
        "patient_weeks_met": row.weeks_met,
        "dose_met_percent": pct(row.dose_share),
    }


@router.get("/programs/{program_id}/attendance-report", response=ReportOut)
def attendance_report(request: HttpRequest, program_id: UUID, filters: Query[ReportFilter]) -> Any:
    """Aggregates by track over [start, end] (program-local days); no patient data, so not audited."""
    program = get_program_for_user(request_user(request), program_id, Cap.VIEW_CENSUS)
    if filters.end < filters.start:
        raise ValidationError({"end": "End on or after the start."})
    if (filters.end - filters.start).days >= REPORT_MAX_DAYS:
        raise ValidationError({"end": f"Ask for at most {REPORT_MAX_DAYS} days at a time."})
    report = dose_reports.program_report(program, start=filters.start, end=filters.end, now=timezone.now())
    return {
        "program": program.public_id,
        "start": report.start,
        "end": report.end,
        "tracks": [_row_out(r) for r in report.rows],
        "total": _row_out(report.total),
    }
