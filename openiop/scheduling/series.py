"""Calendar configuration and recurring series: session types, rooms, staff availability and time off, closures,
series creation and expansion into sessions, and edits to one session, this-and-following or the whole series.

Every write is atomic and audited. Past sessions (ended before now) are never changed or deleted, and future
sessions that hold bookings are updated in place so their bookings stay attached.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openiop.core import audit
from openiop.core.actions import apply_changes
from openiop.core.models import AuditAction
from openiop.lib import recurrence
from openiop.programs.models import Organization, Program, Site, Track
from openiop.scheduling import conflicts
from openiop.scheduling.models import (
    Booking,
    Closure,
    CurriculumTopic,
    Group,
    Room,
    Session,
    SessionSeries,
    SessionType,
    StaffAvailability,
    StaffTimeOff,
)

if TYPE_CHECKING:
    from openiop.accounts.models import User

DEFAULT_HORIZON_WEEKS = 12
# How far two templates are compared for overlap: a year covers every weekly and monthly pattern.
_OVERLAP_CHECK_DAYS = 366

SESSION_TYPE_FIELDS = (
    "name",
    "kind",
    "service_kind",
    "default_duration_minutes",
    "required_credentials",
    "capacity",
    "mode",
    "counts_toward_dose",
    "is_active",
)
ROOM_FIELDS = ("name", "capacity", "is_active")
EDITABLE = {"start_time", "duration_minutes", "room", "facilitators", "capacity", "mode", "video_link", "title"}
SCOPES = ("this", "following", "all")


# --- Small helpers ------------------------------------------------------------------------------------------


def _org_id(program: Program) -> int:
    return program.site.organization_id


def _record(
    action: AuditAction, acting_user: User | None, obj: Any, organization_id: int | None, changed: Iterable[str] = ()
) -> None:
    audit.record(
        action=action, acting_user=acting_user, obj=obj, changed_fields=changed, organization_id=organization_id
    )


def _full_clean(obj: Any, exclude: Sequence[str] = ()) -> None:
    obj.full_clean(exclude=list(exclude), validate_constraints=False)


def _positive_minutes(name: str, value: Any) -> None:
    if value is None or int(value) <= 0:
        raise ValidationError({name: "The duration must be more than zero minutes."})


def local_label(when: datetime, tz: str) -> str:
    return f"{when.astimezone(recurrence.get_zone(tz)):%a %Y-%m-%d %H:%M}"


def session_label(session: Session, tz: str) -> str:
    name = session.title or session.session_type.name
    return f"“{name}” on {local_label(session.starts_at, tz)}"


def _credentials_of(user: User) -> set[str]:
    return {c.upper() for c in re.split(r"[\s,;/]+", user.credentials or "") if c}


def check_credentials(session_type: SessionType, facilitators: Iterable[User]) -> None:
    required = {c.upper() for c in session_type.required_credentials or []}
    if not required:
        return
    missing = [u for u in facilitators if not (_credentials_of(u) & required)]
    if missing:
        names = ", ".join(str(u) for u in missing)
        raise ValidationError(
            {"facilitators": f"{names} must hold one of {', '.join(sorted(required))} to lead {session_type.name}."}
        )


# --- Session types, rooms, availability, time off, closures ------------------------------------------------


def _check_session_type(st: SessionType) -> None:
    _positive_minutes("default_duration_minutes", st.default_duration_minutes)
    if st.capacity is not None and st.capacity <= 0:
        raise ValidationError({"capacity": "Capacity must be at least 1, or empty for the default."})
    errors: dict[str, list[str]] = {}
    try:
        _full_clean(st)
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
    _record(AuditAction.CREATED, acting_user, st, _org_id(program))
    return st


@transaction.atomic
def do_update_session_type(st: SessionType, *, acting_user: User | None, **fields: Any) -> SessionType:
    st = SessionType.objects.select_for_update().get(pk=st.pk)
    changed = apply_changes(st, fields, SESSION_TYPE_FIELDS)
    if changed:
        _check_session_type(st)
        st.save()
        _record(AuditAction.UPDATED, acting_user, st, _org_id(st.program), changed)
    return st


def _check_room(room: Room) -> None:
    if room.capacity is not None and room.capacity <= 0:
        raise ValidationError({"capacity": "A room holds at least one person."})
    errors: dict[str, list[str]] = {}
    try:
        _full_clean(room)
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
    _record(AuditAction.CREATED, acting_user, room, site.organization_id)
    return room


@transaction.atomic
def do_update_room(room: Room, *, acting_user: User | None, **fields: Any) -> Room:
    room = Room.objects.select_for_update(of=("self",)).select_related("site").get(pk=room.pk)
    changed = apply_changes(room, fields, ROOM_FIELDS)
    if changed:
        _check_room(room)
        room.save()
        _record(AuditAction.UPDATED, acting_user, room, room.site.organization_id, changed)
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
    _full_clean(window)
    window.save()
    _record(AuditAction.CREATED, acting_user, window, site.organization_id)
    return window


@transaction.atomic
def do_remove_availability(window: StaffAvailability, *, acting_user: User | None) -> None:
    # A weekly window is a preference, not a clinical record, so it may be removed outright.
    org_id = window.site.organization_id
    _record(AuditAction.DEACTIVATED, acting_user, window, org_id)
    window.delete()


@transaction.atomic
def do_add_time_off(
    user: User, *, acting_user: User | None, starts_at: datetime, ends_at: datetime, reason: str = ""
) -> StaffTimeOff:
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "Time off must end after it starts."})
    off = StaffTimeOff(user=user, starts_at=starts_at, ends_at=ends_at, reason=reason)
    _full_clean(off)
    off.save()
    _record(AuditAction.CREATED, acting_user, off, user.organization_id)
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
    _full_clean(closure)
    clash = Closure.objects.filter(organization=organization, date=date)
    if site is not None:
        clash = clash.filter(Q(site=site) | Q(site__isnull=True))
    if clash.exists():
        raise ValidationError({"date": f"{date:%Y-%m-%d} is already a closure ({clash.first()})."})
    closure.save()
    _record(AuditAction.CREATED, acting_user, closure, organization.pk)
    _apply_closure(closure, acting_user=acting_user)
    return closure


@transaction.atomic
def do_remove_time_off(off: StaffTimeOff, *, acting_user: User | None) -> None:
    """Time off is a scheduling note, not a clinical record, so it is removed outright; sessions it kept free stay
    as they are (nothing was cancelled for it: sessions are refused when they would land in it)."""
    off = StaffTimeOff.objects.select_for_update(of=("self",)).select_related("user").get(pk=off.pk)
    _record(AuditAction.DEACTIVATED, acting_user, off, off.user.organization_id)
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
                errors = find_clashes(plans, tz, _users(u for p in plans for u in p.facilitator_ids))
                if errors:
                    raise ValidationError(
                        {"restore": [f"Cannot restore the sessions: {m}" for v in errors.values() for m in v]}
                    )
            for session in restored:
                session.status = Session.Status.SCHEDULED
                session.cancel_reason = ""
                session.detached = False
                session.save(update_fields=["status", "cancel_reason", "detached", "updated_at"])
                _record(
                    AuditAction.STATUS_CHANGED,
                    acting_user,
                    session,
                    session.program.site.organization_id,
                    ["status", "cancel_reason"],
                )
        _record(AuditAction.DEACTIVATED, acting_user, closure, closure.organization_id)
        closure.delete()
    # Seats are booked after the calendar change commits, each enrollment in its own transaction, so the booking
    # lock order (episode first) is kept.
    _book_enrollees({s.track_id for s in restored if s.track_id}, acting_user=acting_user)
    return restored


def _book_enrollees(track_ids: Iterable[int], *, acting_user: User | None) -> int:
    from openiop.scheduling.enrollment import do_book_new_sessions
    from openiop.scheduling.models import Enrollment

    ids = set(track_ids)
    if not ids:
        return 0
    booked = 0
    for enrollment in Enrollment.objects.filter(track_id__in=ids, ends_on__isnull=True).order_by("pk"):
        booked += len(do_book_new_sessions(enrollment, acting_user=acting_user))
    return booked


# --- Planning sessions and finding clashes -----------------------------------------------------------------


@dataclass
class Planned:
    """A session to be created or moved: its new time, room and facilitators."""

    starts_at: datetime
    ends_at: datetime
    room_id: int | None
    facilitator_ids: list[int]
    session: Session | None = None  # the row being changed, excluded from its own clash check
    occurrence: datetime | None = None
    topic: CurriculumTopic | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    name: str = ""  # how errors name a session that does not exist yet (the series' title or type)

    def label(self, tz: str) -> str:
        name = self.name
        if not name and self.session is not None:
            name = self.session.title or self.session.session_type.name
        text = f"“{name or 'Session'}” on {local_label(self.starts_at, tz)}"
        zone = recurrence.get_zone(tz)
        if (
            self.occurrence is not None
            and self.occurrence.astimezone(zone).date() != self.starts_at.astimezone(zone).date()
        ):
            text += f" (moved from {self.occurrence.astimezone(zone):%a %Y-%m-%d})"
        return text

    @property
    def moves(self) -> bool:
        """Whether the plan changes an existing session's time (a new session has no bookings to re-check)."""
        s = self.session
        return s is not None and bool(s.pk) and (s.starts_at, s.ends_at) != (self.starts_at, self.ends_at)


def _overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def _batch_clashes(planned: Sequence[Planned], tz: str, users: dict[int, Any], add: Any) -> None:
    """Clashes between the planned sessions themselves: two new (or moved) sessions of one batch in the same room,
    or led by the same person, at overlapping times. The database query cannot see them, as neither is saved yet."""
    ordered = sorted(planned, key=lambda p: p.starts_at)
    for i, p in enumerate(ordered):
        for q in ordered[i + 1 :]:
            if q.starts_at >= p.ends_at:
                break  # sorted by start: nothing later can overlap p
            both = f"{p.label(tz)} and {q.label(tz)}"
            if p.room_id and p.room_id == q.room_id:
                add("room", f"The room would be booked twice: {both} overlap.")
            for uid in sorted(set(p.facilitator_ids) & set(q.facilitator_ids)):
                add("facilitators", f"{users[uid]} would facilitate two sessions at once: {both} overlap.")


def find_clashes(planned: Sequence[Planned], tz: str, users: dict[int, Any]) -> dict[str, list[str]]:
    """Room and facilitator double bookings and facilitator time off, as field errors naming each conflict.

    One query each for sessions and time off across the whole span, then compared here, so a year-long
    series costs two queries rather than two per occurrence.
    """
    if not planned:
        return {}
    lo = min(p.starts_at for p in planned)
    hi = max(p.ends_at for p in planned)
    rooms = {p.room_id for p in planned if p.room_id}
    people = {uid for p in planned for uid in p.facilitator_ids}
    own = {p.session.pk for p in planned if p.session is not None and p.session.pk}
    existing = (
        Session.objects.filter(status=Session.Status.SCHEDULED, starts_at__lt=hi, ends_at__gt=lo)
        .filter(Q(room_id__in=rooms) | Q(facilitators__id__in=people))
        .exclude(pk__in=own)
        .select_related("session_type")
        .prefetch_related("facilitators")
        .distinct()
    )
    existing_list = list(existing)
    offs = list(StaffTimeOff.objects.filter(user_id__in=people, starts_at__lt=hi, ends_at__gt=lo))
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()

    def add(key: str, message: str) -> None:
        if message not in seen:
            seen.add(message)
            errors.setdefault(key, []).append(message)

    for p in planned:
        when = local_label(p.starts_at, tz)
        for other in existing_list:
            if not (other.starts_at < p.ends_at and other.ends_at > p.starts_at):
                continue
            if p.room_id and other.room_id == p.room_id:
                add("room", f"The room is already booked on {when} by {session_label(other, tz)}.")
            for uid in p.facilitator_ids:
                if any(f.pk == uid for f in other.facilitators.all()):
                    add(
                        "facilitators",
                        f"{users[uid]} is already facilitating {session_label(other, tz)} (clashes with {when}).",
                    )
        for off in offs:
            if off.user_id in p.facilitator_ids and off.starts_at < p.ends_at and off.ends_at > p.starts_at:
                add(
                    "facilitators",
                    f"{users[off.user_id]} is on time off on {when}{f' ({off.reason})' if off.reason else ''}.",
                )
    _batch_clashes(planned, tz, users, add)
    return errors


def patient_clashes(planned: Sequence[Planned], tz: str, field_name: str) -> dict[str, list[str]]:
    """Booked patients a move would double-book: each moved session's patients against their other bookings (and
    against the other moved sessions they are booked in), as errors under ``field_name``.

    Errors name the patient (staff see the roster anyway) and the patient's own other session by its label, never
    anyone else. Three queries, whatever the number of sessions moved.
    """
    changed = [p for p in planned if p.session is not None and p.session.pk]
    if not any(p.moves for p in changed):
        return {}
    ids = [p.session.pk for p in changed if p.session is not None]
    seats: dict[int, list[Any]] = {}
    patients: dict[int, Any] = {}
    for booking in Booking.objects.filter(session_id__in=ids, status=Booking.Status.BOOKED).select_related("patient"):
        seats.setdefault(booking.session_id, []).append(booking.patient_id)
        patients[booking.patient_id] = booking.patient
    if not patients:
        return {}
    lo = min(p.starts_at for p in changed)
    hi = max(p.ends_at for p in changed)
    elsewhere: dict[int, list[Session]] = {}
    for booking in (
        Booking.objects.filter(
            patient_id__in=list(patients),
            status=Booking.Status.BOOKED,
            session__status=Session.Status.SCHEDULED,
            session__starts_at__lt=hi,
            session__ends_at__gt=lo,
        )
        .exclude(session_id__in=ids)
        .select_related("session__session_type", "session__program")
    ):
        elsewhere.setdefault(booking.patient_id, []).append(booking.session)
    messages: list[str] = []
    for i, p in enumerate(changed):
        assert p.session is not None
        for patient_id in seats.get(p.session.pk, []):
            name = patients[patient_id].display_name
            if p.moves:
                for other in elsewhere.get(patient_id, []):
                    if _overlap(p.starts_at, p.ends_at, other.starts_at, other.ends_at):
                        messages.append(
                            f"{name} is booked in {session_label(other, other.program.time_zone)}, "
                            f"which would overlap {p.label(tz)}."
                        )
            for q in changed[i + 1 :]:
                assert q.session is not None
                together = (p.moves or q.moves) and patient_id in seats.get(q.session.pk, [])
                if together and _overlap(p.starts_at, p.ends_at, q.starts_at, q.ends_at):
                    messages.append(f"{name} is booked in both {p.label(tz)} and {q.label(tz)}, which would overlap.")
    return {field_name: list(dict.fromkeys(messages))} if messages else {}


def _merge(errors: dict[str, list[str]], more: dict[str, list[str]]) -> dict[str, list[str]]:
    for key, values in more.items():
        errors.setdefault(key, []).extend(values)
    return errors


def availability_warnings(sessions: Iterable[Session]) -> list[str]:
    """Sessions led outside a facilitator's weekly availability: a warning for the scheduler, not a refusal."""
    warnings: list[str] = []
    for s in sessions:
        program = s.program
        for user in s.facilitators.all():
            if conflicts.outside_availability(user.pk, program.site_id, s.starts_at, s.ends_at, program.time_zone):
                warnings.append(f"{user} is not usually available on {local_label(s.starts_at, program.time_zone)}.")
    return warnings


def _closures(program: Program, first: date, last: date) -> dict[date, Closure]:
    rows = Closure.objects.filter(
        Q(site__isnull=True) | Q(site_id=program.site_id),
        organization_id=_org_id(program),
        date__gte=first,
        date__lte=last,
    )
    return {c.date: c for c in rows}


def _topic_rotation(series: SessionSeries, before: datetime | None) -> tuple[list[CurriculumTopic], int]:
    """The program's active topics and where the rotation stands: just after the last topic this series (or the
    series it continues) covered before ``before``."""
    topics = list(
        CurriculumTopic.objects.filter(program_id=series.program_id, is_active=True).order_by("sequence", "name")
    )
    if not topics:
        return [], 0
    chain = [series.pk]
    prev = series.previous_id
    while prev is not None:
        chain.append(prev)
        prev = SessionSeries.objects.filter(pk=prev).values_list("previous_id", flat=True).first()
    done = Session.objects.filter(series_id__in=chain, topic__isnull=False)
    if before is not None:
        done = done.filter(occurrence__lt=before)
    last = done.order_by("-occurrence").select_related("topic").first()
    if last is None or last.topic is None:
        return topics, 0
    ids = [t.pk for t in topics]
    if last.topic_id in ids:
        return topics, (ids.index(last.topic_id) + 1) % len(topics)
    later = [i for i, t in enumerate(topics) if t.sequence > last.topic.sequence]
    return topics, later[0] if later else 0


def horizon_for(series: SessionSeries) -> date:
    today = timezone.now().astimezone(recurrence.get_zone(series.program.time_zone)).date()
    return max(today, series.starts_on) + timedelta(weeks=DEFAULT_HORIZON_WEEKS)


def plan_series(series: SessionSeries, *, first: date, horizon: date) -> list[Planned]:
    """The occurrences from ``first`` to ``horizon`` that have no session yet, placed on the calendar."""
    program = series.program
    tz = program.time_zone
    starts = recurrence.expand(series.rrule, series.starts_on, series.start_time, tz, (first, horizon), series.until)
    if not starts:
        return []
    # Occurrences are matched by local day (a series repeats at most daily): after a start-time edit the
    # existing sessions keep their original occurrence, which no longer equals the rule's new start.
    zone = recurrence.get_zone(tz)
    have = {
        o.astimezone(zone).date()
        for o in Session.objects.filter(series=series).values_list("occurrence", flat=True)
        if o
    }
    closures = _closures(program, starts[0].date(), starts[-1].date())
    facilitator_ids = list(series.facilitators.values_list("pk", flat=True)) if series.pk else []
    length = timedelta(minutes=series.duration_minutes)
    name = series.title or series.session_type.name
    planned: list[Planned] = []
    for start in starts:
        if start.date() in have:
            continue
        closure = closures.get(start.date())
        begin = start
        if closure is not None:
            if closure.action == Closure.Action.SKIP or closure.move_to is None:
                continue
            begin = recurrence.wall_clock(closure.move_to, series.start_time, tz)
        planned.append(Planned(begin, begin + length, series.room_id, facilitator_ids, occurrence=start, name=name))
    if series.rotates_curriculum and planned:
        topics, position = _topic_rotation(series, planned[0].occurrence)
        for p in planned:
            if topics:
                p.topic = topics[position % len(topics)]
                position += 1
    return planned


def _users(ids: Iterable[int]) -> dict[int, Any]:
    from openiop.accounts.models import User

    return {u.pk: u for u in User.objects.filter(pk__in=set(ids))}


def expand_series(
    series: SessionSeries, *, acting_user: User | None, horizon: date | None = None, first: date | None = None
) -> list[Session]:
    """Create the missing sessions up to ``horizon``; refuses (nothing created) if any would double-book a room or
    facilitator or fall in a facilitator's time off. Safe to run again: existing occurrences are skipped."""
    with transaction.atomic():
        series = SessionSeries.objects.select_for_update(of=("self",)).select_related("program__site").get(pk=series.pk)
        horizon = horizon or horizon_for(series)
        planned = plan_series(series, first=first or series.starts_on, horizon=horizon)
        if not planned:
            return []
        tz = series.program.time_zone
        errors = find_clashes(planned, tz, _users(planned[0].facilitator_ids))
        if errors:
            raise ValidationError(errors)
        sessions = [
            Session(
                program_id=series.program_id,
                track_id=series.track_id,
                group_id=series.group_id,
                series=series,
                occurrence=p.occurrence,
                session_type_id=series.session_type_id,
                title=series.title,
                starts_at=p.starts_at,
                ends_at=p.ends_at,
                room_id=series.room_id,
                capacity=series.capacity,
                mode=series.mode,
                video_link=series.video_link,
                topic=p.topic,
            )
            for p in planned
        ]
        created = Session.objects.bulk_create(sessions)
        if created and created[0].pk is None:
            # Backends without RETURNING: read the rows back by their unique occurrence.
            created = list(Session.objects.filter(series=series, occurrence__in=[p.occurrence for p in planned]))
        through = Session.facilitators.through
        through.objects.bulk_create(
            [through(session_id=s.pk, user_id=uid) for s in created for uid in planned[0].facilitator_ids]
        )
        _record(AuditAction.UPDATED, acting_user, series, _org_id(series.program), ["sessions"])
        return created


def _overlapping_series(series: SessionSeries) -> tuple[SessionSeries, datetime] | None:
    """Another active series of the same group (or, when either has no group, the same track) whose occurrences
    overlap this one's; returns it and the first clash."""
    if series.track_id is None and series.group_id is None:
        return None
    scope = Q()
    if series.group_id is not None:
        scope |= Q(group_id=series.group_id)
    if series.track_id is not None:
        scope |= Q(track_id=series.track_id, group__isnull=True)
        if series.group_id is None:
            scope |= Q(track_id=series.track_id)
    others = SessionSeries.objects.filter(scope, is_active=True, program_id=series.program_id)
    if series.pk:
        others = others.exclude(pk=series.pk)
    tz = series.program.time_zone
    mine_len = timedelta(minutes=series.duration_minutes)
    for other in others.select_related("session_type"):
        first = max(series.starts_on, other.starts_on)
        last = first + timedelta(days=_OVERLAP_CHECK_DAYS)
        for bound in (series.until, other.until):
            if bound is not None:
                last = min(last, bound)
        if last < first:
            continue
        mine = recurrence.expand(series.rrule, series.starts_on, series.start_time, tz, (first, last), series.until)
        theirs = recurrence.expand(other.rrule, other.starts_on, other.start_time, tz, (first, last), other.until)
        their_len = timedelta(minutes=other.duration_minutes)
        by_day: dict[date, list[datetime]] = {}
        for t in theirs:
            by_day.setdefault(t.date(), []).append(t)
        for m in mine:
            for t in by_day.get(m.date(), []):
                if m < t + their_len and t < m + mine_len:
                    return other, m
    return None


def _schedule_text(series: SessionSeries) -> str:
    return f"{series.rrule} at {series.start_time:%H:%M} for {series.duration_minutes} min"


def _refuse_overlap(series: SessionSeries, field_name: str) -> None:
    overlap = _overlapping_series(series)
    if overlap is not None:
        other, when = overlap
        when_text = local_label(when, series.program.time_zone)
        raise ValidationError({field_name: f"Overlaps the series “{other}” ({_schedule_text(other)}) on {when_text}."})


def _check_series(series: SessionSeries, facilitators: Sequence[User]) -> None:
    program = series.program
    try:
        recurrence.get_zone(program.time_zone)
    except recurrence.RecurrenceError as exc:
        raise ValidationError({"time_zone": str(exc)}) from exc
    try:
        series.rrule = recurrence.validate(series.rrule)
    except recurrence.RecurrenceError as exc:
        raise ValidationError({"rrule": str(exc)}) from exc
    _positive_minutes("duration_minutes", series.duration_minutes)
    if series.capacity is not None and series.capacity <= 0:
        raise ValidationError({"capacity": "Capacity must be at least 1."})
    if series.until is not None and series.until < series.starts_on:
        raise ValidationError({"until": "The series must end on or after its first day."})
    if series.session_type.program_id != program.pk:
        raise ValidationError({"session_type": "This session type belongs to another program."})
    if series.track is not None and series.track.program_id != program.pk:
        raise ValidationError({"track": "This track belongs to another program."})
    if series.group is not None:
        if series.group.track.program_id != program.pk:
            raise ValidationError({"group": "This group belongs to another program."})
        if series.track is None:
            series.track = series.group.track
        elif series.group.track_id != series.track_id:
            raise ValidationError({"group": "This group belongs to another track."})
    if series.room is not None:
        if series.room.site_id != program.site_id:
            raise ValidationError({"room": "This room is at another site."})
        if series.room.capacity < series.capacity:
            raise ValidationError(
                {"room": f"{series.room.name} holds {series.room.capacity}; the series needs {series.capacity}."}
            )
    if series.mode in (SessionType.Mode.TELEHEALTH, SessionType.Mode.HYBRID) and not series.video_link:
        raise ValidationError({"video_link": "A telehealth or hybrid session needs a video link."})
    if series.mode == SessionType.Mode.IN_PERSON:
        series.video_link = ""
    for user in facilitators:
        if user.organization_id != _org_id(program):
            raise ValidationError({"facilitators": "Facilitators must work for this organization."})
    check_credentials(series.session_type, facilitators)
    _full_clean(series, exclude=["facilitators", "previous"])
    _refuse_overlap(series, "rrule")


def do_create_series(
    program: Program,
    *,
    acting_user: User | None,
    session_type: SessionType,
    rrule: str,
    starts_on: date,
    start_time: time,
    track: Track | None = None,
    group: Group | None = None,
    until: date | None = None,
    duration_minutes: int | None = None,
    room: Room | None = None,
    facilitators: Sequence[User] = (),
    capacity: int | None = None,
    mode: str | None = None,
    video_link: str = "",
    rotates_curriculum: bool = False,
    title: str = "",
    horizon: date | None = None,
    previous: SessionSeries | None = None,
) -> SessionSeries:
    """Create a series and its sessions up to the horizon; nothing is created if any occurrence clashes."""
    with transaction.atomic():
        series = SessionSeries(
            program=program,
            track=track,
            group=group,
            session_type=session_type,
            title=title,
            rrule=rrule,
            starts_on=starts_on,
            until=until,
            start_time=start_time,
            duration_minutes=session_type.default_duration_minutes if duration_minutes is None else duration_minutes,
            room=room,
            capacity=capacity
            if capacity is not None
            else (group.capacity if group is not None else session_type.effective_capacity()),
            mode=mode or session_type.mode,
            video_link=video_link,
            rotates_curriculum=rotates_curriculum,
            previous=previous,
        )
        _check_series(series, facilitators)
        series.save()
        series.facilitators.set(facilitators)
        _record(AuditAction.CREATED, acting_user, series, _org_id(program))
        expand_series(series, acting_user=acting_user, horizon=horizon)
    return series


@transaction.atomic
def do_end_series(series: SessionSeries, *, acting_user: User | None, last_day: date) -> SessionSeries:
    """Stop a series after ``last_day``: its later future sessions are cancelled (past ones stay as they were)."""
    series = SessionSeries.objects.select_for_update(of=("self",)).select_related("program").get(pk=series.pk)
    if last_day < series.starts_on:
        raise ValidationError({"until": "The series cannot end before its first day."})
    series.until = last_day
    series.save(update_fields=["until", "updated_at"])
    _record(AuditAction.UPDATED, acting_user, series, _org_id(series.program), ["until"])
    tz = recurrence.get_zone(series.program.time_zone)
    cutoff = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=tz)
    for session in series.sessions.filter(
        status=Session.Status.SCHEDULED, occurrence__gte=cutoff, starts_at__gt=timezone.now()
    ):
        do_cancel_session(session, acting_user=acting_user, reason="The series ended.")
    return series


@dataclass
class RecurrenceChange:
    series: SessionSeries
    cancelled: list[Session]
    created: list[Session]
    booked: int = 0


def do_change_recurrence(
    series: SessionSeries, *, acting_user: User | None, rrule: str, until: date | None
) -> RecurrenceChange:
    """Give a series a new rule (and last day). Future sessions whose day the rule no longer has are cancelled
    through ``do_cancel_session`` (bookings released, waitlists as on any cancellation); the rule's new days are
    expanded up to the horizon with the usual all-or-nothing clash refusal; past and in-progress sessions are not
    touched. Current enrollments of the track are then booked into the new sessions."""
    now = timezone.now()
    with transaction.atomic():
        series = (
            SessionSeries.objects.select_for_update(of=("self",))
            .select_related("program__site", "session_type")
            .get(pk=series.pk)
        )
        try:
            rrule = recurrence.validate(rrule)
        except recurrence.RecurrenceError as exc:
            raise ValidationError({"rrule": str(exc)}) from exc
        if until is not None and until < series.starts_on:
            raise ValidationError({"until": "The series must end on or after its first day."})
        changed = [name for name, value in (("rrule", rrule), ("until", until)) if getattr(series, name) != value]
        if not changed:
            raise ValidationError({"rrule": "This is already the series' schedule."})
        series.rrule, series.until = rrule, until
        _refuse_overlap(series, "rrule")
        series.save(update_fields=["rrule", "until", "updated_at"])
        _record(AuditAction.UPDATED, acting_user, series, _org_id(series.program), changed)
        tz = series.program.time_zone
        zone = recurrence.get_zone(tz)
        today = timezone.localdate(now, zone)
        future = list(series.sessions.filter(status=Session.Status.SCHEDULED, starts_at__gt=now).order_by("starts_at"))
        last = max([horizon_for(series), *(s.starts_at.astimezone(zone).date() for s in future)])
        days = {
            d.date() for d in recurrence.expand(rrule, series.starts_on, series.start_time, tz, (today, last), until)
        }
        cancelled = []
        for session in future:
            occurrence = session.occurrence or session.starts_at
            if occurrence.astimezone(zone).date() not in days:
                cancelled.append(
                    do_cancel_session(session, acting_user=acting_user, reason="The series' schedule changed.")
                )
        created = expand_series(series, acting_user=acting_user, first=today)
    change = RecurrenceChange(series=series, cancelled=cancelled, created=created)
    if created and series.track_id:
        change.booked = _book_enrollees([series.track_id], acting_user=acting_user)
    return change


# --- Editing sessions and series ---------------------------------------------------------------------------


def _is_past(session: Session, now: datetime) -> bool:
    return session.ends_at <= now


def _planned_edit(session: Session, changes: dict[str, Any], tz: str) -> Planned:
    zone = recurrence.get_zone(tz)
    local = session.starts_at.astimezone(zone)
    at = changes.get("start_time", local.time().replace(tzinfo=None))
    day = local.date()
    begin = recurrence.wall_clock(day, at, tz) if "start_time" in changes else session.starts_at
    minutes = changes.get("duration_minutes", int(session.duration.total_seconds() // 60))
    room = changes.get("room", session.room)
    if "facilitators" in changes:
        people = [u.pk for u in changes["facilitators"]]
    else:
        people = [u.pk for u in session.facilitators.all()]
    return Planned(begin, begin + timedelta(minutes=minutes), room.pk if room else None, people, session=session)


def _check_capacity(session: Session, capacity: int, tz: str) -> None:
    if capacity < session.booked_count:
        seats = "seat" if session.booked_count == 1 else "seats"
        raise ValidationError(
            {"capacity": f"capacity: {session.booked_count} {seats} already booked for {session_label(session, tz)}."}
        )


def _apply_to_session(
    session: Session,
    plan: Planned,
    changes: dict[str, Any],
    *,
    detach: bool,
    acting_user: User | None,
    series: SessionSeries | None = None,
) -> None:
    values: dict[str, Any] = {"starts_at": plan.starts_at, "ends_at": plan.ends_at}
    for name in ("room", "capacity", "mode", "video_link", "title"):
        if name in changes:
            values[name] = changes[name]
    if detach:
        values["detached"] = True
    if series is not None:
        values["series"] = series
    changed = apply_changes(session, values, set(values))
    people_changed = False
    if "facilitators" in changes:
        new_ids = {u.pk for u in changes["facilitators"]}
        if new_ids != {u.pk for u in session.facilitators.all()}:
            session.facilitators.set(changes["facilitators"])
            people_changed = True
    if changed:
        session.save()
    if changed or people_changed:
        fields = changed + (["facilitators"] if people_changed else [])
        _record(AuditAction.UPDATED, acting_user, session, session.program.site.organization_id, fields)


def _validate_changes(changes: dict[str, Any]) -> None:
    unknown = set(changes) - EDITABLE
    if unknown:
        raise TypeError(f"Sessions do not accept {sorted(unknown)}")
    if "duration_minutes" in changes:
        _positive_minutes("duration_minutes", changes["duration_minutes"])
        if int(changes["duration_minutes"]) > 480:
            raise ValidationError({"duration_minutes": "A session lasts at most 480 minutes."})
    if "capacity" in changes and (changes["capacity"] is None or changes["capacity"] <= 0):
        raise ValidationError({"capacity": "Capacity must be at least 1."})
    mode = changes.get("mode")
    if mode in (SessionType.Mode.TELEHEALTH, SessionType.Mode.HYBRID) and not changes.get("video_link"):
        raise ValidationError({"video_link": "A telehealth or hybrid session needs a video link."})


def do_edit_session(
    session: Session, scope: str = "this", *, acting_user: User | None, **changes: Any
) -> list[Session]:
    """Change one session ("this"), this and the later ones ("following"), or the whole series ("all").

    Returns the sessions that were changed. Past sessions are never touched; future sessions keep their
    bookings (they are updated in place, never deleted and recreated). Any clash refuses the whole edit.
    """
    if scope not in SCOPES:
        raise ValidationError({"scope": "Choose this session, this and following, or all sessions."})
    _validate_changes(changes)
    now = timezone.now()
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("program__site", "series", "room", "session_type")
            .get(pk=session.pk)
        )
        tz = session.program.time_zone
        if _is_past(session, now):
            raise ValidationError(f"{session_label(session, tz)} is in the past; past sessions are not changed.")
        if session.status != Session.Status.SCHEDULED:
            raise ValidationError(f"{session_label(session, tz)} is cancelled; it cannot be edited.")
        if scope != "this" and session.series is None:
            raise ValidationError({"scope": "This session is not part of a series; edit it on its own."})
        if "room" in changes and changes["room"] is not None:
            room = changes["room"]
            if room.site_id != session.program.site_id:
                raise ValidationError({"room": "This room is at another site."})
            needed = changes.get("capacity", session.capacity)
            if room.capacity < needed:
                raise ValidationError({"room": f"{room.name} holds {room.capacity}; the session needs {needed}."})
        if "facilitators" in changes:
            check_credentials(session.session_type, changes["facilitators"])
        if scope == "this":
            targets = [session]
        else:
            assert session.series is not None
            targets = list(
                session.series.sessions.filter(status=Session.Status.SCHEDULED, detached=False, starts_at__gt=now)
                .filter(Q(occurrence__gte=session.occurrence) if scope == "following" else Q())
                .select_related("program__site", "session_type", "room")
                .prefetch_related("facilitators")
            )
            if session not in targets:
                targets.append(session)
        if "capacity" in changes:
            for target in targets:
                _check_capacity(target, changes["capacity"], tz)
        plans = [_planned_edit(t, changes, tz) for t in targets]
        people = {uid for p in plans for uid in p.facilitator_ids}
        errors = find_clashes(plans, tz, _users(people))
        moved_by = "start_time" if "start_time" in changes else "duration_minutes"
        _merge(errors, patient_clashes(plans, tz, moved_by))
        if errors:
            raise ValidationError(errors)
        new_series = None
        if scope == "this":
            _apply_to_session(session, plans[0], changes, detach=True, acting_user=acting_user)
        elif scope == "all":
            assert session.series is not None
            _update_series(session.series, changes, acting_user=acting_user)
            for target, plan in zip(targets, plans, strict=True):
                _apply_to_session(target, plan, changes, detach=False, acting_user=acting_user)
        else:
            assert session.series is not None
            new_series = _split_series(session, changes, acting_user=acting_user)
            moving = session.series.sessions.filter(occurrence__gte=session.occurrence, starts_at__gt=now)
            # Detached sessions travel with the new series unchanged, so the old one ends cleanly at the split.
            moving.filter(detached=True).update(series=new_series)
            for target, plan in zip(targets, plans, strict=True):
                _apply_to_session(target, plan, changes, detach=False, acting_user=acting_user, series=new_series)
        if new_series is not None:
            expand_series(new_series, acting_user=acting_user)
        elif scope == "all":
            assert session.series is not None
            expand_series(
                session.series, acting_user=acting_user, first=timezone.localdate(now, recurrence.get_zone(tz))
            )
        return targets


def _series_changes(series: SessionSeries, changes: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in changes.items() if k != "facilitators"}
    return values


def _update_series(series: SessionSeries, changes: dict[str, Any], *, acting_user: User | None) -> None:
    series = SessionSeries.objects.select_for_update().get(pk=series.pk)
    changed = apply_changes(series, _series_changes(series, changes), EDITABLE)
    new_people = {u.pk for u in changes.get("facilitators", ())}
    if "facilitators" in changes and new_people != set(series.facilitators.values_list("pk", flat=True)):
        series.facilitators.set(changes["facilitators"])
        changed.append("facilitators")
    if series.room is not None and series.room.capacity < series.capacity:
        raise ValidationError(
            {"room": f"{series.room.name} holds {series.room.capacity}; the series needs {series.capacity}."}
        )
    if {"start_time", "duration_minutes"} & set(changed):
        _refuse_overlap(series, "start_time")
    if changed:
        series.save()
        _record(AuditAction.UPDATED, acting_user, series, _org_id(series.program), changed)


def _split_series(session: Session, changes: dict[str, Any], *, acting_user: User | None) -> SessionSeries:
    assert session.series_id is not None
    old = SessionSeries.objects.select_for_update(of=("self",)).select_related("program").get(pk=session.series_id)
    tz = old.program.time_zone
    assert session.occurrence is not None
    split_day = session.occurrence.astimezone(recurrence.get_zone(tz)).date()
    facilitators = changes.get("facilitators", list(old.facilitators.all()))
    new = SessionSeries(
        program=old.program,
        track=old.track,
        group=old.group,
        session_type=old.session_type,
        title=old.title,
        rrule=old.rrule,
        starts_on=split_day,
        until=old.until,
        start_time=old.start_time,
        duration_minutes=old.duration_minutes,
        room=old.room,
        capacity=old.capacity,
        mode=old.mode,
        video_link=old.video_link,
        rotates_curriculum=old.rotates_curriculum,
        previous=old,
    )
    apply_changes(new, _series_changes(new, changes), EDITABLE)
    if split_day <= old.starts_on:
        # Splitting at the very first occurrence would leave an empty old series: end it the same day instead.
        old.until = old.starts_on
    else:
        old.until = split_day - timedelta(days=1)
    old.is_active = split_day > old.starts_on
    old.save(update_fields=["until", "is_active", "updated_at"])
    _record(AuditAction.UPDATED, acting_user, old, _org_id(old.program), ["until", "is_active"])
    if new.room is not None and new.room.capacity < new.capacity:
        raise ValidationError({"room": f"{new.room.name} holds {new.room.capacity}; the series needs {new.capacity}."})
    _refuse_overlap(new, "start_time")
    new.save()
    new.facilitators.set(facilitators)
    _record(AuditAction.CREATED, acting_user, new, _org_id(old.program))
    return new


@transaction.atomic
def do_cancel_session(session: Session, *, acting_user: User | None, reason: str) -> Session:
    """Cancel one future session. Its bookings are released by the booking engine when it offers
    ``do_cancel_bookings_for_session``; otherwise they stay on the cancelled session for staff to follow up."""
    session = Session.objects.select_for_update(of=("self",)).select_related("program__site").get(pk=session.pk)
    tz = session.program.time_zone
    if not reason.strip():
        raise ValidationError({"reason": "Say why the session is cancelled."})
    if _is_past(session, timezone.now()):
        raise ValidationError(f"{session_label(session, tz)} is in the past; past sessions are not changed.")
    if session.status == Session.Status.CANCELLED:
        return session
    session.status = Session.Status.CANCELLED
    session.cancel_reason = reason.strip()[:200]
    session.detached = True
    session.save(update_fields=["status", "cancel_reason", "detached", "updated_at"])
    _record(
        AuditAction.STATUS_CHANGED,
        acting_user,
        session,
        session.program.site.organization_id,
        ["status", "cancel_reason"],
    )
    try:
        from openiop.scheduling import booking
    except ImportError:
        booking = None  # type: ignore[assignment]
    release = getattr(booking, "do_cancel_bookings_for_session", None)
    if release is not None:
        release(session, acting_user=acting_user, reason=session.cancel_reason)
    return session


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
    errors = find_clashes(plans, tz, _users(u for p in plans for u in p.facilitator_ids))
    _merge(errors, patient_clashes(plans, tz, "move_to"))
    if errors:
        raise ValidationError(
            {
                "move_to": [
                    f"Cannot move the sessions to {closure.move_to:%Y-%m-%d}: {m}" for v in errors.values() for m in v
                ]
            }
        )
    for session, plan in zip(sessions, plans, strict=True):
        _apply_to_session(session, plan, {}, detach=True, acting_user=acting_user)


# --- Groups and the education curriculum ---------------------------------------------------------------------

GROUP_FIELDS = ("name", "capacity", "is_open", "is_active")
TOPIC_FIELDS = ("name", "description", "sequence", "is_active")


@transaction.atomic
def do_create_group(track: Track, *, acting_user: User | None, **fields: Any) -> Group:
    """A cohort inside a track; capacity defaults to the program's group cap."""
    group = Group(track=track)
    apply_changes(group, fields, GROUP_FIELDS)
    if not group.capacity:
        group.capacity = track.program.group_size_cap
    _full_clean(group)
    if Group.objects.filter(track=track, name__iexact=group.name).exclude(pk=group.pk).exists():
        raise ValidationError({"name": "This track already has a group with that name."})
    group.save()
    _record(AuditAction.CREATED, acting_user, group, _org_id(track.program), fields)
    return group


@transaction.atomic
def do_update_group(group: Group, *, acting_user: User | None, **fields: Any) -> list[str]:
    changed = apply_changes(group, fields, GROUP_FIELDS)
    if changed:
        _full_clean(group)
        if Group.objects.filter(track=group.track, name__iexact=group.name).exclude(pk=group.pk).exists():
            raise ValidationError({"name": "This track already has a group with that name."})
        group.save()
        _record(AuditAction.UPDATED, acting_user, group, _org_id(group.track.program), changed)
    return changed


@transaction.atomic
def do_create_topic(program: Program, *, acting_user: User | None, **fields: Any) -> CurriculumTopic:
    """An education topic; rotating workshops cycle through active topics in ``sequence`` order."""
    topic = CurriculumTopic(program=program)
    apply_changes(topic, fields, TOPIC_FIELDS)
    if "sequence" not in fields:
        last = CurriculumTopic.objects.filter(program=program).order_by("-sequence").first()
        topic.sequence = (last.sequence + 1) if last else 1
    _full_clean(topic)
    if CurriculumTopic.objects.filter(program=program, name__iexact=topic.name).exclude(pk=topic.pk).exists():
        raise ValidationError({"name": "This program already has a topic with that name."})
    topic.save()
    _record(AuditAction.CREATED, acting_user, topic, _org_id(program), fields)
    return topic


@transaction.atomic
def do_update_topic(topic: CurriculumTopic, *, acting_user: User | None, **fields: Any) -> list[str]:
    changed = apply_changes(topic, fields, TOPIC_FIELDS)
    if changed:
        _full_clean(topic)
        if CurriculumTopic.objects.filter(program=topic.program, name__iexact=topic.name).exclude(pk=topic.pk).exists():
            raise ValidationError({"name": "This program already has a topic with that name."})
        topic.save()
        _record(AuditAction.UPDATED, acting_user, topic, _org_id(topic.program), changed)
    return changed
