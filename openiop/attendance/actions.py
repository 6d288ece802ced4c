"""Writes of attendance: check-in on the roster, corrections after the fact, and "cancelled by program" for a
whole cancelled session.

Check-in or correction? Check-in opens ``attendance_checkin_opens_minutes_before`` minutes before the session
starts and closes at the end of the session's program-local day or ``attendance_checkin_grace_minutes`` after
it ends, whichever is later (both in ``settings.OPENIOP_DEFAULTS``). Until it closes, staff change a record by
tapping again, no reason needed; afterwards a change is a correction and needs a reason. A first record may be
entered late (back-entry from a paper roster loses nothing, so it needs no reason). Either way every change of
an existing record copies the whole previous version into ``AttendanceCorrection`` and bumps ``version``, so
nothing recorded is ever lost; repeating the same values changes nothing (no version, no audit row).

The race: two staff tapping the same person at once make one record. The insert runs in a savepoint; the
loser hits the (session, patient) unique constraint, reads the winner's row under a row lock and applies its
own tap to it as an ordinary change (so the later tap wins and the earlier one is kept as a version), exactly
as if the two taps had come one after the other.

Lock order in every action here: attendance row -> whatever ``attendance_recorded`` handlers lock (the episode, the
absence policy's worklist tasks, billing's pending-day row) -> the audit chain head, last, as the booking
actions do. The billable day's own decision comes after the commit, in that order too (billing/days.py).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from openiop.attendance.hooks import AttendanceRecorded, attendance_recorded
from openiop.attendance.minutes import minutes_after, minutes_attended
from openiop.attendance.models import AttendanceCorrection, AttendanceRecord
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.scheduling.models import Booking, Session

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.patients.models import Patient

Status = AttendanceRecord.Status

# What staff set; minutes_attended is derived from these and the session window.
EDITABLE_FIELDS = (
    "status",
    "late_minutes",
    "left_early_minutes",
    "arrived_at",
    "departed_at",
    "participation",
    "remark",
)
TIME_FIELDS = ("late_minutes", "left_early_minutes", "arrived_at", "departed_at")
SNAPSHOT_FIELDS = (*EDITABLE_FIELDS, "minutes_attended", "recorded_by", "version", "updated_at")
REMARK_MAX = 200  # AttendanceRecord.remark max_length
REASON_MAX = 300  # AttendanceCorrection.reason max_length
# Stored as the reason of a version replaced during check-in, when staff gave none (none is needed then).
CHECKIN_CHANGE_REASON = "Changed during check-in"


# --- The check-in window ----------------------------------------------------------------------------------------


def _setting(name: str) -> int:
    return int(settings.OPENIOP_DEFAULTS[name])


def checkin_opens_at(session: Session) -> datetime:
    return session.starts_at - timedelta(minutes=_setting("attendance_checkin_opens_minutes_before"))


def checkin_closes_at(session: Session) -> datetime:
    """The end of the session's program-local day, or the grace after its end, whichever is later."""
    tz = session.program.tz()
    day = session.starts_at.astimezone(tz).date()
    # Built in the zone each time, so a 23- or 25-hour day (DST) still ends at local midnight.
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return max(midnight, session.ends_at + timedelta(minutes=_setting("attendance_checkin_grace_minutes")))


def checkin_is_open(session: Session, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return checkin_opens_at(session) <= now < checkin_closes_at(session)


# --- Snapshots --------------------------------------------------------------------------------------------------


def snapshot(record: AttendanceRecord) -> dict[str, Any]:
    """The record's fields as JSON-safe values: what a correction keeps, and the hook event's ``previous``.

    Keys: status, late_minutes, left_early_minutes, arrived_at and departed_at (ISO 8601 or None),
    participation, remark, minutes_attended, recorded_by (the user's public id), version, updated_at (ISO).
    """
    data: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        if name == "recorded_by":
            data[name] = str(record.recorded_by.public_id) if record.recorded_by_id else None
            continue
        value = getattr(record, name)
        data[name] = value.isoformat() if isinstance(value, datetime) else value
    return data


# --- Validation -------------------------------------------------------------------------------------------------


def _merge(current: AttendanceRecord | None, status: str, given: dict[str, Any]) -> dict[str, Any]:
    """The values to save: what was given, else what the record had, else the defaults.

    A new status drops the old lateness and times (a Late person marked Present again is not still late), and an
    absence drops participation too, unless the caller gave them again.
    """
    values: dict[str, Any] = {
        "late_minutes": 0,
        "left_early_minutes": 0,
        "arrived_at": None,
        "departed_at": None,
        "participation": "",
        "remark": "",
    }
    if current is not None:
        kept = [name for name in EDITABLE_FIELDS if name != "status"]
        if current.status != status:
            kept = [name for name in kept if name not in TIME_FIELDS]
            if status not in AttendanceRecord.ATTENDED:
                kept = [name for name in kept if name != "participation"]
        values.update({name: getattr(current, name) for name in kept})
    values.update(given)
    values["status"] = status
    return values


def _as_int(errors: dict[str, str], values: dict[str, Any], name: str, limit: int) -> int:
    raw: Any = values.get(name)
    if raw in (None, ""):
        return 0
    try:
        number = int(raw)
    except (TypeError, ValueError):
        errors[name] = "Enter a whole number of minutes."
        return 0
    if number < 0 or number > limit:
        errors[name] = f"Enter 0 to {limit} minutes (the session is {limit} minutes long)."
        return 0
    return number


def _clean(session: Session, values: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Check the values against the session and derive lateness and minutes; ValidationError names each field."""
    errors: dict[str, str] = {}
    status = values["status"]
    length = int(session.duration.total_seconds() // 60)
    if status not in Status.values:
        raise ValidationError({"status": f"Use one of: {', '.join(Status.values)}."})
    cancelled = session.status == Session.Status.CANCELLED
    if cancelled and status != Status.CANCELLED:
        errors["status"] = "The program cancelled this session: record it as cancelled by program."
    elif status == Status.CANCELLED and not cancelled:
        errors["status"] = "Only a session the program cancelled can be recorded as cancelled by program."
    elif not cancelled and now < checkin_opens_at(session):
        local = timezone.localtime(checkin_opens_at(session), session.program.tz())
        errors["status"] = f"This session has not started yet; check-in opens at {local:%H:%M}."
    late = _as_int(errors, values, "late_minutes", length)
    left = _as_int(errors, values, "left_early_minutes", length)
    arrived, departed = values.get("arrived_at"), values.get("departed_at")
    for name, moment in (("arrived_at", arrived), ("departed_at", departed)):
        if moment is None:
            continue
        if not isinstance(moment, datetime) or timezone.is_naive(moment):
            errors[name] = "Give a date and time with its time zone."
        elif moment > now + timedelta(minutes=1):
            errors[name] = "This time is still in the future."
    if (
        "arrived_at" not in errors
        and arrived is not None
        and (arrived < checkin_opens_at(session) or arrived >= session.ends_at)
    ):
        errors["arrived_at"] = "The arrival (or join) time must fall within the session."
    if "departed_at" not in errors and departed is not None:
        if departed <= session.starts_at or departed > checkin_closes_at(session):
            errors["departed_at"] = "The departure (or leave) time must fall within the session."
        elif arrived is not None and "arrived_at" not in errors and departed <= arrived:
            errors["departed_at"] = "The departure must come after the arrival."
    participation = values.get("participation") or ""
    if participation not in ("", *AttendanceRecord.Participation.values):
        errors["participation"] = "Pick one of the listed kinds of participation."
    remark = (values.get("remark") or "").strip()
    if len(remark) > REMARK_MAX:
        errors["remark"] = f"Keep the remark to {REMARK_MAX} characters; the note holds the rest."

    if status in AttendanceRecord.ATTENDED:
        # Times say it more precisely than counts: derive the counts from them when they are missing.
        if status == Status.LATE and not late and arrived is not None and "arrived_at" not in errors:
            late = minutes_after(session.starts_at, arrived)
        if status == Status.LEFT_EARLY and not left and departed is not None and "departed_at" not in errors:
            left = minutes_after(departed, session.ends_at)
        if status == Status.PRESENT and late and "late_minutes" not in errors:
            errors["late_minutes"] = "Someone who came late is recorded as Late."
        if status == Status.PRESENT and left and "left_early_minutes" not in errors:
            errors["left_early_minutes"] = "Someone who left early is recorded as Left early."
        if status == Status.LATE and not late and "late_minutes" not in errors:
            errors["late_minutes"] = "Say how many minutes late (or the arrival time)."
        if status == Status.LEFT_EARLY and not left and "left_early_minutes" not in errors:
            errors["left_early_minutes"] = "Say how many minutes early (or the departure time)."
        if late + left >= length and not errors.keys() & {"late_minutes", "left_early_minutes"}:
            errors["late_minutes"] = "That leaves no time in the session; record an absence instead."
    else:
        for name in TIME_FIELDS:
            if values.get(name) not in (None, "", 0):
                errors[name] = "Only someone who attended has lateness or arrival and departure times."
        if participation:
            errors["participation"] = "Only someone who attended has a participation."
    if errors:
        raise ValidationError(errors)
    cleaned = {
        "status": status,
        "late_minutes": late,
        "left_early_minutes": left,
        "arrived_at": arrived,
        "departed_at": departed,
        "participation": participation,
        "remark": remark,
    }
    cleaned["minutes_attended"] = minutes_attended(
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        status=status,
        late_minutes=late,
        left_early_minutes=left,
        arrived_at=arrived,
        departed_at=departed,
    )
    if status in AttendanceRecord.ATTENDED and cleaned["minutes_attended"] == 0:
        raise ValidationError({"arrived_at": "These times leave no minute inside the session."})
    return cleaned


def _from_tap(session: Session, status: str, given: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A one-tap Late or Left early while the session runs means "just now": take the tap's time."""
    given = dict(given)
    if not session.starts_at <= now < session.ends_at:
        return given
    if status == Status.LATE and not given.get("late_minutes") and given.get("arrived_at") is None:
        given["arrived_at"] = now
    if status == Status.LEFT_EARLY and not given.get("left_early_minutes") and given.get("departed_at") is None:
        given["departed_at"] = now
    return given


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown attendance fields: {', '.join(sorted(unknown))}")


def _clean_reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationError({"reason": "Say why the record is corrected."})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"Keep the reason to {REASON_MAX} characters."})
    return reason


# --- Writing ----------------------------------------------------------------------------------------------------


def _create(
    session: Session, booking: Booking, values: dict[str, Any], acting_user: User, now: datetime
) -> AttendanceRecord:
    with transaction.atomic():  # the savepoint the race's loser rolls back to
        record = AttendanceRecord.objects.create(
            session=session,
            booking=booking,
            episode_id=booking.episode_id,
            patient_id=booking.patient_id,
            recorded_by=acting_user,
            **values,
        )
    record.session = session
    attendance_recorded.emit(AttendanceRecorded(record=record, previous=None, acting_user=acting_user))
    filled = [name for name in EDITABLE_FIELDS if values[name] not in (None, "", 0)]
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=booking.patient,
        obj=record,
        changed_fields=["session", "patient", "episode", "minutes_attended", *filled],
    )
    return record


def _change(
    record: AttendanceRecord, values: dict[str, Any], *, acting_user: User, reason: str, now: datetime
) -> list[str]:
    """Apply the values to a locked record; keep the old version. Returns the changed field names."""
    changed = [name for name, value in values.items() if getattr(record, name) != value]
    if not changed:
        return []
    previous = snapshot(record)
    AttendanceCorrection.objects.create(
        record=record,
        version=record.version,
        previous=previous,
        reason=reason or CHECKIN_CHANGE_REASON,
        corrected_by=acting_user,
        corrected_at=now,
    )
    for name in changed:
        setattr(record, name, values[name])
    record.version += 1
    record.recorded_by = acting_user
    record.save(update_fields=[*changed, "version", "recorded_by", "updated_at"])
    attendance_recorded.emit(AttendanceRecorded(record=record, previous=previous, acting_user=acting_user))
    audit.record(
        action=AuditAction.UPDATED,
        acting_user=acting_user,
        patient=record.patient,
        obj=record,
        changed_fields=[*changed, "version"],
    )
    return changed


def _locked_record(session: Session, patient: Patient) -> AttendanceRecord | None:
    # No join on recorded_by: PostgreSQL re-checks a locked row's joins against the old joined row after waiting
    # for a concurrent change, and would drop the row whose recorded_by that change replaced. Nor on the patient:
    # the caller holds it.
    record = (
        AttendanceRecord.objects.select_for_update(of=("self",))
        .filter(session=session, patient_id=patient.pk)
        .order_by("pk")
        .first()
    )
    if record is not None:
        record.patient = patient
    return record


def _session_and_seat(session: Session, patient: Patient) -> tuple[Session, Booking | None]:
    """The session as it is now and the patient's seat on it, in one query: the seat, with its session joined.

    The seat is the booked one, or, on a session the program cancelled, the one released with it (the same reason).
    Only a person with no such seat costs a second read, of the session alone.
    """
    cancelled = Q(session__status=Session.Status.CANCELLED)
    booked = Q(status=Booking.Status.BOOKED) & ~cancelled
    released = Q(status=Booking.Status.CANCELLED, cancel_reason=F("session__cancel_reason")) & cancelled
    seat = (
        Booking.objects.filter(booked | released, session_id=session.pk, patient_id=patient.pk)
        .select_related("session__program")
        .order_by("-created_at", "-pk")
        .first()
    )
    if seat is None:
        return Session.objects.select_related("program").get(pk=session.pk), None
    seat.patient = patient
    return seat.session, seat


@transaction.atomic
def do_check_in(
    session: Session,
    patient: Patient,
    *,
    acting_user: User,
    status: str,
    reason: str = "",
    seat: Booking | None = None,
    **fields: Any,
) -> AttendanceRecord:
    """Record how the patient attended the session, or change what check-in recorded (idempotent on the pair).

    ``fields`` are any of late_minutes, left_early_minutes, arrived_at, departed_at (aware; telehealth: join
    and leave), participation and remark; those not given keep the record's value (see ``_merge``). After
    check-in has closed a change needs ``reason`` (it is then a correction). Raises ValidationError by field.
    The session and the patient's seat are read again here, in one query, unless the caller hands over ``seat``:
    the seat it read of the patient on this session in this request (the roster tap, with the session and its
    program), which is as fresh, since neither read locks anything (only the record below is locked).
    """
    _check_fields(fields)
    now = timezone.now()
    if seat is not None and Session.program.is_cached(session):
        if seat.session_id != session.pk or seat.patient_id != patient.pk:
            raise ValueError("the seat handed over is not the patient's seat on this session")
        seat.session = session
        seat.patient = patient
        booking: Booking | None = seat
    else:
        session, booking = _session_and_seat(session, patient)
    given = _from_tap(session, status, fields, now)
    current = _locked_record(session, patient)
    if current is None:
        if booking is None:
            raise ValidationError({"patient": "This person is not booked on this session; book them first."})
        values = _clean(session, _merge(None, status, given), now)
        try:
            return _create(session, booking, values, acting_user, now)
        except IntegrityError:
            # Someone else checked this person in a moment ago: apply this tap to their record instead.
            current = _locked_record(session, patient)
            if current is None:
                raise
    current.session = session  # as read in this transaction: the receivers need not read it again
    values = _clean(session, _merge(current, status, given), now)
    open_now = checkin_is_open(session, now)
    reason = _clean_reason(reason, required=False)
    if not open_now and not reason and any(getattr(current, k) != v for k, v in values.items()):
        raise ValidationError({"reason": "Check-in for this session has closed: say why the record is corrected."})
    _change(current, values, acting_user=acting_user, reason=reason, now=now)
    return current


@transaction.atomic
def do_correct_attendance(
    record: AttendanceRecord,
    *,
    acting_user: User,
    reason: str,
    expected_version: int | None = None,
    **changes: Any,
) -> AttendanceRecord:
    """Correct a record after the fact: a reason is required, the previous version is kept and the change audited.

    ``changes`` are any of the editable fields (status included). ``expected_version`` (the version the form
    showed) refuses a correction made over someone else's newer one instead of silently replacing it.
    """
    _check_fields(changes)
    reason = _clean_reason(reason, required=True)
    now = timezone.now()
    current = AttendanceRecord.objects.select_for_update(of=("self",)).select_related("patient").get(pk=record.pk)
    if expected_version is not None and current.version != expected_version:
        raise ValidationError(
            {"version": "Someone changed this record since you opened it; review the latest version and try again."}
        )
    status = changes.pop("status", current.status)
    session = Session.objects.select_related("program").get(pk=current.session_id)
    current.session = session
    values = _clean(session, _merge(current, status, changes), now)
    changed = _change(current, values, acting_user=acting_user, reason=reason, now=now)
    if not changed:
        raise ValidationError({"__all__": "Nothing to correct: these are the values already recorded."})
    return current


@transaction.atomic
def do_record_session_cancelled(session: Session, *, acting_user: User) -> list[AttendanceRecord]:
    """Record "cancelled by program" for everyone whose seat went with a cancelled session (not yet recorded)."""
    session = Session.objects.select_related("program").get(pk=session.pk)
    if session.status != Session.Status.CANCELLED:
        raise ValidationError({"status": "Only a session the program cancelled can be recorded as cancelled."})
    now = timezone.now()
    done = set(AttendanceRecord.objects.filter(session=session).values_list("patient_id", flat=True))
    released = (
        Booking.objects.filter(session=session, status=Booking.Status.CANCELLED, cancel_reason=session.cancel_reason)
        .exclude(patient_id__in=done)
        .select_related("patient", "episode")
        .order_by("patient_id", "-created_at")
    )
    values = _clean(session, _merge(None, Status.CANCELLED, {}), now)
    created: list[AttendanceRecord] = []
    seen: set[int] = set()
    for booking in released:
        if booking.patient_id in seen:
            continue
        seen.add(booking.patient_id)
        created.append(_create(session, booking, values, acting_user, now))
    return created
