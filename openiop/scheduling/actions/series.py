"""Recurring series: creation and expansion into sessions, a new rule or last day, ending a series, and edits to one
session, this-and-following or the whole series; cancelling one session.

Every write is atomic and audited. Past sessions (ended before now) are never changed or deleted, and future
sessions that hold bookings are updated in place so their bookings stay attached.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openiop.core.actions import apply_changes
from openiop.core.models import AuditAction
from openiop.lib import recurrence
from openiop.programs.models import Program, Track
from openiop.scheduling.actions.clashes import Planned, find_clashes, merge_errors, patient_clashes, users_by_id
from openiop.scheduling.actions.common import (
    check_credentials,
    check_positive_minutes,
    full_clean,
    local_label,
    organization_id_of,
    record_change,
    session_label,
)
from openiop.scheduling.models import Closure, CurriculumTopic, Group, Room, Session, SessionSeries, SessionType

if TYPE_CHECKING:
    from openiop.accounts.models import User

DEFAULT_HORIZON_WEEKS = 12
# How far two templates are compared for overlap: a year covers every weekly and monthly pattern.
_OVERLAP_CHECK_DAYS = 366

EDITABLE = {"start_time", "duration_minutes", "room", "facilitators", "capacity", "mode", "video_link", "title"}
SCOPES = ("this", "following", "all")


def _closures(program: Program, first: date, last: date) -> dict[date, Closure]:
    rows = Closure.objects.filter(
        Q(site__isnull=True) | Q(site_id=program.site_id),
        organization_id=organization_id_of(program),
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
        errors = find_clashes(planned, tz, users_by_id(planned[0].facilitator_ids))
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
        record_change(AuditAction.UPDATED, acting_user, series, organization_id_of(series.program), ["sessions"])
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
    check_positive_minutes("duration_minutes", series.duration_minutes)
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
        if user.organization_id != organization_id_of(program):
            raise ValidationError({"facilitators": "Facilitators must work for this organization."})
    check_credentials(series.session_type, facilitators)
    full_clean(series, exclude=["facilitators", "previous"])
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
        record_change(AuditAction.CREATED, acting_user, series, organization_id_of(program))
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
    record_change(AuditAction.UPDATED, acting_user, series, organization_id_of(series.program), ["until"])
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
        record_change(AuditAction.UPDATED, acting_user, series, organization_id_of(series.program), changed)
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
        change.booked = book_enrollees([series.track_id], acting_user=acting_user)
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


def apply_to_session(
    session: Session,
    plan: Planned,
    changes: dict[str, Any],
    *,
    detach: bool,
    acting_user: User | None,
    series: SessionSeries | None = None,
) -> None:
    """Give one session its planned time and the changed fields, in place so its bookings stay attached; ``detach``
    marks it as no longer following its series' rule, ``series`` hands it to another series. Audited if changed."""
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
        record_change(AuditAction.UPDATED, acting_user, session, session.program.site.organization_id, fields)


def _validate_changes(changes: dict[str, Any]) -> None:
    unknown = set(changes) - EDITABLE
    if unknown:
        raise TypeError(f"Sessions do not accept {sorted(unknown)}")
    if "duration_minutes" in changes:
        check_positive_minutes("duration_minutes", changes["duration_minutes"])
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
        errors = find_clashes(plans, tz, users_by_id(people))
        moved_by = "start_time" if "start_time" in changes else "duration_minutes"
        merge_errors(errors, patient_clashes(plans, tz, moved_by))
        if errors:
            raise ValidationError(errors)
        new_series = None
        if scope == "this":
            apply_to_session(session, plans[0], changes, detach=True, acting_user=acting_user)
        elif scope == "all":
            assert session.series is not None
            _update_series(session.series, changes, acting_user=acting_user)
            for target, plan in zip(targets, plans, strict=True):
                apply_to_session(target, plan, changes, detach=False, acting_user=acting_user)
        else:
            assert session.series is not None
            new_series = _split_series(session, changes, acting_user=acting_user)
            moving = session.series.sessions.filter(occurrence__gte=session.occurrence, starts_at__gt=now)
            # Detached sessions travel with the new series unchanged, so the old one ends cleanly at the split.
            moving.filter(detached=True).update(series=new_series)
            for target, plan in zip(targets, plans, strict=True):
                apply_to_session(target, plan, changes, detach=False, acting_user=acting_user, series=new_series)
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
        record_change(AuditAction.UPDATED, acting_user, series, organization_id_of(series.program), changed)


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
    record_change(AuditAction.UPDATED, acting_user, old, organization_id_of(old.program), ["until", "is_active"])
    if new.room is not None and new.room.capacity < new.capacity:
        raise ValidationError({"room": f"{new.room.name} holds {new.room.capacity}; the series needs {new.capacity}."})
    _refuse_overlap(new, "start_time")
    new.save()
    new.facilitators.set(facilitators)
    record_change(AuditAction.CREATED, acting_user, new, organization_id_of(old.program))
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
    record_change(
        AuditAction.STATUS_CHANGED,
        acting_user,
        session,
        session.program.site.organization_id,
        ["status", "cancel_reason"],
    )
    try:
        from openiop.scheduling.actions import booking
    except ImportError:
        booking = None  # type: ignore[assignment]
    release = getattr(booking, "do_cancel_bookings_for_session", None)
    if release is not None:
        release(session, acting_user=acting_user, reason=session.cancel_reason)
    return session


def book_enrollees(track_ids: Iterable[int], *, acting_user: User | None) -> int:
    """Book the current enrollments of these tracks into their sessions that are new on the calendar; returns the
    number of seats booked. Call it after the calendar change commits (see ``do_remove_closure``)."""
    from openiop.scheduling.actions.enrollment import do_book_new_sessions
    from openiop.scheduling.models import Enrollment

    ids = set(track_ids)
    if not ids:
        return 0
    booked = 0
    for enrollment in Enrollment.objects.filter(track_id__in=ids, ends_on__isnull=True).order_by("pk"):
        booked += len(do_book_new_sessions(enrollment, acting_user=acting_user))
    return booked
