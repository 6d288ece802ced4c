"""Calendar configuration: session types, rooms, staff availability and time off, and closures (holidays), which
cancel or move the future sessions already on the calendar that day.

Every write is atomic and audited. Past sessions (ended before now) are never changed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openiop.core.actions import apply_changes
from openiop.core.models import AuditAction
from openiop.lib import recurrence
from openiop.programs.models import Organization, Program, Site
from openiop.scheduling.actions.clashes import Planned, find_clashes, merge_errors, patient_clashes, users_by_id
from openiop.scheduling.actions.common import check_positive_minutes, full_clean, organization_id_of, record_change
from openiop.scheduling.actions.series import apply_to_session, book_enrollees, do_cancel_session
from openiop.scheduling.models import Closure, Room, Session, SessionType, StaffAvailability, StaffTimeOff

if TYPE_CHECKING:
    from openiop.accounts.models import User

SESSION_TYPE_FIELDS = (
    "name",
    "kind",
    "service_kind",
    "default_duration_minutes",
    "required_credentials",
    "capacity",
    "mode",
    "counts_toward_dose",
    "procedure_code",
    "revenue_code",
    "is_active",
)
ROOM_FIELDS = ("name", "capacity", "is_active")


# --- Session types, rooms, availability, time off, closures ------------------------------------------------


def _check_session_type(st: SessionType) -> None:
    check_positive_minutes("default_duration_minutes", st.default_duration_minutes)
    if st.capacity is not None and st.capacity <= 0:
        raise ValidationError({"capacity": "Capacity must be at least 1, or empty for the default."})
    errors: dict[str, list[str]] = {}
    try:
        full_clean(st)
    except ValidationError as exc:
        errors = exc.message_dict
    dup = SessionType.objects.filter(program_id=st.program_id, name__iexact=st.name).exclude(pk=st.pk)
    if st.name and "name" not in errors and dup.exists():
        errors["name"] = ["The program already has a session type with this name."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_create_session_type(program: Program, *, acting_user: User | None, **fields: Any) -> SessionType:
    """Capacity left empty means the program's group cap for groups and 1 for individual visits."""
    st = SessionType(program=program)
    apply_changes(st, fields, SESSION_TYPE_FIELDS)
    if not st.default_duration_minutes and "default_duration_minutes" not in fields:
        st.default_duration_minutes = 55
    _check_session_type(st)
    st.save()
    record_change(AuditAction.CREATED, acting_user, st, organization_id_of(program))
    return st


@transaction.atomic
def do_update_session_type(st: SessionType, *, acting_user: User | None, **fields: Any) -> SessionType:
    st = SessionType.objects.select_for_update().get(pk=st.pk)
    changed = apply_changes(st, fields, SESSION_TYPE_FIELDS)
    if changed:
        _check_session_type(st)
        st.save()
        record_change(AuditAction.UPDATED, acting_user, st, organization_id_of(st.program), changed)
    return st


def _check_room(room: Room) -> None:
    if room.capacity is not None and room.capacity <= 0:
        raise ValidationError({"capacity": "A room holds at least one person."})
    errors: dict[str, list[str]] = {}
    try:
        full_clean(room)
    except ValidationError as exc:
        errors = exc.message_dict
    dup = Room.objects.filter(site_id=room.site_id, name__iexact=room.name).exclude(pk=room.pk)
    if room.name and "name" not in errors and dup.exists():
        errors["name"] = ["The site already has a room with this name."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_create_room(site: Site, *, acting_user: User | None, **fields: Any) -> Room:
    room = Room(site=site)
    apply_changes(room, fields, ROOM_FIELDS)
    _check_room(room)
    room.save()
    record_change(AuditAction.CREATED, acting_user, room, site.organization_id)
    return room


@transaction.atomic
def do_update_room(room: Room, *, acting_user: User | None, **fields: Any) -> Room:
    room = Room.objects.select_for_update(of=("self",)).select_related("site").get(pk=room.pk)
    changed = apply_changes(room, fields, ROOM_FIELDS)
    if changed:
        _check_room(room)
        room.save()
        record_change(AuditAction.UPDATED, acting_user, room, room.site.organization_id, changed)
    return room


@transaction.atomic
def do_add_availability(
    user: User, *, acting_user: User | None, site: Site, weekday: int, start_time: time, end_time: time
) -> StaffAvailability:
    if user.organization_id != site.organization_id:
        raise ValidationError({"user": "This person does not work for the site's organization."})
    if end_time <= start_time:
        raise ValidationError({"end_time": "The window must end after it starts."})
    window = StaffAvailability(user=user, site=site, weekday=weekday, start_time=start_time, end_time=end_time)
    full_clean(window)
    window.save()
    record_change(AuditAction.CREATED, acting_user, window, site.organization_id)
    return window


@transaction.atomic
def do_remove_availability(window: StaffAvailability, *, acting_user: User | None) -> None:
    # A weekly window is a preference, not a clinical record, so it may be removed outright.
    org_id = window.site.organization_id
    record_change(AuditAction.DEACTIVATED, acting_user, window, org_id)
    window.delete()


@transaction.atomic
def do_add_time_off(
    user: User, *, acting_user: User | None, starts_at: datetime, ends_at: datetime, reason: str = ""
) -> StaffTimeOff:
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "Time off must end after it starts."})
    off = StaffTimeOff(user=user, starts_at=starts_at, ends_at=ends_at, reason=reason)
    full_clean(off)
    off.save()
    record_change(AuditAction.CREATED, acting_user, off, user.organization_id)
    return off


@transaction.atomic
def do_add_closure(
    organization: Organization,
    *,
    acting_user: User | None,
    date: date,
    name: str,
    site: Site | None = None,
    action: str = Closure.Action.SKIP,
    move_to: date | None = None,
) -> Closure:
    """A holiday or closure. Series expanded from now on skip or move that day, and the future sessions already
    on the calendar that day are cancelled (their bookings released) or moved to ``move_to`` at the same wall
    time, keeping their bookings. A move that would double-book a room or facilitator refuses the closure."""
    if site is not None and site.organization_id != organization.pk:
        raise ValidationError({"site": "This site belongs to another organization."})
    if action == Closure.Action.MOVE:
        if move_to is None:
            raise ValidationError({"move_to": "Pick the day the sessions move to."})
        if move_to == date:
            raise ValidationError({"move_to": "Pick a different day from the closure itself."})
    else:
        move_to = None
    closure = Closure(organization=organization, site=site, date=date, name=name, action=action, move_to=move_to)
    full_clean(closure)
    clash = Closure.objects.filter(organization=organization, date=date)
    if site is not None:
        clash = clash.filter(Q(site=site) | Q(site__isnull=True))
    if clash.exists():
        raise ValidationError({"date": f"{date:%Y-%m-%d} is already a closure ({clash.first()})."})
    closure.save()
    record_change(AuditAction.CREATED, acting_user, closure, organization.pk)
    _apply_closure(closure, acting_user=acting_user)
    return closure


@transaction.atomic
def do_remove_time_off(off: StaffTimeOff, *, acting_user: User | None) -> None:
    """Time off is a scheduling note, not a clinical record, so it is removed outright; sessions it kept free stay
    as they are (nothing was cancelled for it: sessions are refused when they would land in it)."""
    off = StaffTimeOff.objects.select_for_update(of=("self",)).select_related("user").get(pk=off.pk)
    record_change(AuditAction.DEACTIVATED, acting_user, off, off.user.organization_id)
    off.delete()


def _closure_reason(closure: Closure) -> str:
    return f"Closed: {closure.name}"[:200]


def _cancelled_by(closure: Closure) -> list[Session]:
    """Future sessions this (skip) closure cancelled: that local day, at its site(s), with its cancel reason, in
    a series that still runs and still has that day."""
    sites = Q(program__site__organization_id=closure.organization_id)
    if closure.site_id is not None:
        sites &= Q(program__site_id=closure.site_id)
    lo = datetime.combine(closure.date - timedelta(days=1), time.min, tzinfo=UTC)
    hi = datetime.combine(closure.date + timedelta(days=2), time.min, tzinfo=UTC)
    candidates = (
        Session.objects.filter(
            sites,
            status=Session.Status.CANCELLED,
            cancel_reason=_closure_reason(closure),
            starts_at__gte=lo,
            starts_at__lt=hi,
            starts_at__gt=timezone.now(),
            series__is_active=True,
        )
        .select_related("program__site", "session_type", "series")
        .prefetch_related("facilitators")
        .order_by("starts_at")
    )
    found = []
    for s in candidates:
        zone = recurrence.get_zone(s.program.time_zone)
        if s.starts_at.astimezone(zone).date() != closure.date:
            continue
        if s.series is not None and s.series.until is not None and s.series.until < closure.date:
            continue
        found.append(s)
    return found


def do_remove_closure(closure: Closure, *, acting_user: User | None, restore: bool = False) -> list[Session]:
    """Remove a closure. Sessions it moved stay where they are (their bookings went with them); sessions it
    cancelled stay cancelled unless ``restore``: then the future ones of still-running series are scheduled again,
    empty (their old bookings stay cancelled, as the patients were told), and current enrollments are booked into
    them. A restore that would double-book a room or facilitator is refused as a whole; nothing is removed.

    Returns the restored sessions."""
    with transaction.atomic():
        closure = Closure.objects.select_for_update(of=("self",)).get(pk=closure.pk)
        restored: list[Session] = []
        if restore and closure.action == Closure.Action.SKIP:
            restored = _cancelled_by(closure)
            plans = [
                Planned(s.starts_at, s.ends_at, s.room_id, [u.pk for u in s.facilitators.all()], session=s)
                for s in restored
            ]
            if plans:
                tz = restored[0].program.time_zone
                errors = find_clashes(plans, tz, users_by_id(u for p in plans for u in p.facilitator_ids))
                if errors:
                    raise ValidationError(
                        {"restore": [f"Cannot restore the sessions: {m}" for v in errors.values() for m in v]}
                    )
            for session in restored:
                session.status = Session.Status.SCHEDULED
                session.cancel_reason = ""
                session.detached = False
                session.save(update_fields=["status", "cancel_reason", "detached", "updated_at"])
                record_change(
                    AuditAction.STATUS_CHANGED,
                    acting_user,
                    session,
                    session.program.site.organization_id,
                    ["status", "cancel_reason"],
                )
        record_change(AuditAction.DEACTIVATED, acting_user, closure, closure.organization_id)
        closure.delete()
    # Seats are booked after the calendar change commits, each enrollment in its own transaction, so the booking
    # lock order (episode first) is kept.
    book_enrollees({s.track_id for s in restored if s.track_id}, acting_user=acting_user)
    return restored


def _sessions_on(closure: Closure) -> list[Session]:
    """Future scheduled sessions whose program-local date is the closure's, at the closed site(s)."""
    sites = Q(program__site__organization_id=closure.organization_id)
    if closure.site_id is not None:
        sites &= Q(program__site_id=closure.site_id)
    # A day either side in UTC covers every zone; the exact local date is checked below.
    lo = datetime.combine(closure.date - timedelta(days=1), time.min, tzinfo=UTC)
    hi = datetime.combine(closure.date + timedelta(days=2), time.min, tzinfo=UTC)
    now = timezone.now()
    candidates = (
        Session.objects.filter(sites, status=Session.Status.SCHEDULED, starts_at__gte=lo, starts_at__lt=hi)
        .filter(starts_at__gt=now)
        .select_related("program__site", "session_type")
        .prefetch_related("facilitators")
        .order_by("starts_at")
    )
    return [
        s for s in candidates if s.starts_at.astimezone(recurrence.get_zone(s.program.time_zone)).date() == closure.date
    ]


def _apply_closure(closure: Closure, *, acting_user: User | None) -> None:
    sessions = _sessions_on(closure)
    if not sessions:
        return
    if closure.action == Closure.Action.SKIP or closure.move_to is None:
        for session in sessions:
            do_cancel_session(session, acting_user=acting_user, reason=f"Closed: {closure.name}")
        return
    plans: list[Planned] = []
    for session in sessions:
        tz = session.program.time_zone
        wall = session.starts_at.astimezone(recurrence.get_zone(tz)).time().replace(tzinfo=None)
        begin = recurrence.wall_clock(closure.move_to, wall, tz)
        people = [u.pk for u in session.facilitators.all()]
        plans.append(Planned(begin, begin + session.duration, session.room_id, people, session=session))
    tz = sessions[0].program.time_zone
    errors = find_clashes(plans, tz, users_by_id(u for p in plans for u in p.facilitator_ids))
    merge_errors(errors, patient_clashes(plans, tz, "move_to"))
    if errors:
        raise ValidationError(
            {
                "move_to": [
                    f"Cannot move the sessions to {closure.move_to:%Y-%m-%d}: {m}" for v in errors.values() for m in v
                ]
            }
        )
    for session, plan in zip(sessions, plans, strict=True):
        apply_to_session(session, plan, {}, detach=True, acting_user=acting_user)
