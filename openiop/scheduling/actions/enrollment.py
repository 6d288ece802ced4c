"""Enrollment: an episode joins a track (and open groups in it) and is booked into their upcoming sessions.

The personal schedule is the bookings this makes; moving tracks ends the enrollment and cancels only future
bookings of the old track, so attendance and notes on past sessions keep their booking.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.patients import actions as patient_actions
from openiop.patients.models import EpisodeOfCare
from openiop.scheduling.actions import booking as booking_actions
from openiop.scheduling.models import Booking, Enrollment, Group, Session, WaitlistEntry

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.programs.models import Track


@dataclass
class EnrollmentResult:
    """What enrolling did: the enrollment, the seats booked, and the full sessions that went to a waitlist."""

    enrollment: Enrollment
    booked: list[Booking] = field(default_factory=list)
    full: list[Session] = field(default_factory=list)
    overlapping: list[Session] = field(default_factory=list)
    waitlisted: list[WaitlistEntry] = field(default_factory=list)


def _local_start(day: date, track: Track) -> datetime:
    return datetime.combine(day, time.min, tzinfo=track.program.tz())


def _check_enrollment(
    episode: EpisodeOfCare, track: Track, groups: list[Group], starts_on: date, kept: Iterable[int] = ()
) -> None:
    """``kept``: groups the person is already in, who may stay in them after the group stops taking new members."""
    kept = set(kept)
    errors: dict[str, str] = {}
    if episode.status != EpisodeOfCare.Status.ACTIVE:
        errors["episode"] = "Only an active episode can join a track."
    if track.program_id != episode.program_id:
        errors["track"] = "Pick a track of the episode's program."
    elif not track.is_active:
        errors["track"] = "This track is no longer running; pick another."
    if any(g.track_id != track.pk for g in groups):
        errors["groups"] = "Every group must belong to the chosen track."
    elif any((not g.is_open or not g.is_active) and g.pk not in kept for g in groups):
        closed = ", ".join(g.name for g in groups if (not g.is_open or not g.is_active) and g.pk not in kept)
        errors["groups"] = f"Not taking new members: {closed}."
    if episode.admitted_on is None or starts_on < episode.admitted_on:
        errors["starts_on"] = "Start on or after the admission date."
    elif episode.expected_discharge_on is not None and starts_on > episode.expected_discharge_on:
        errors["starts_on"] = "Start before the expected discharge date."
    if errors:
        raise ValidationError(errors)


def _sessions_to_book(episode: EpisodeOfCare, track: Track, groups: list[Group], starts_on: date) -> list[Session]:
    last_day = episode.expected_discharge_on or starts_on + timedelta(weeks=track.program.max_length_weeks)
    start = max(_local_start(starts_on, track), timezone.now())
    end = _local_start(last_day + timedelta(days=1), track)
    scope = Q(group__isnull=True)
    if groups:
        scope |= Q(group__in=groups)
    # Start order is also lock order: two enrollments never take the same session rows in opposite orders.
    return list(
        Session.objects.filter(
            scope, track=track, status=Session.Status.SCHEDULED, starts_at__gte=start, starts_at__lt=end
        )
        .select_related("program", "session_type", "group")
        .order_by("starts_at", "pk")
    )


SESSION_WAITLIST = "session"
GROUP_WAITLIST = "group"


def _book_into(
    result: EnrollmentResult,
    episode: EpisodeOfCare,
    *,
    acting_user: User | None,
    track: Track,
    groups: list[Group],
    starts_on: date,
    full_to: str,
) -> dict[tuple[str, int], Session]:
    """Claim a seat in every upcoming session of the groups and the whole track (seats already held are kept).
    Returns the waitlists the full sessions point to; the caller joins them after writing its audit rows."""
    booked, full, overlapping = _claim_seats(episode, track, groups, starts_on, acting_user=acting_user)
    result.booked.extend(booked)
    result.full.extend(full)
    result.overlapping.extend(overlapping)
    full_targets: dict[tuple[str, int], Session] = {}
    for session in full:
        if full_to == SESSION_WAITLIST:
            key = ("session", session.pk)
        else:
            key = ("group", session.group_id) if session.group_id else ("track", track.pk)
        full_targets.setdefault(key, session)
    return full_targets


def _claim_seats(
    episode: EpisodeOfCare, track: Track, groups: list[Group], starts_on: date, *, acting_user: User | None
) -> tuple[list[Booking], list[Session], list[Session]]:
    """Claim a seat in every session to book from ``starts_on``, in start order (the booking lock order): the
    bookings made now (seats already held are kept, not returned), the sessions that were full, and those that clash
    with another booking of the person. No audit rows: the caller writes them last."""
    booked: list[Booking] = []
    full: list[Session] = []
    overlapping: list[Session] = []
    sessions = _sessions_to_book(episode, track, groups, starts_on)
    # The person's seats read once for all the claims (the caller holds the episode lock: no other booking of this
    # episode can come in between).
    held = booking_actions.held_seats(episode, sessions)
    for session in sessions:
        try:
            # No savepoint here: a claim that raises has written nothing (see ``claim_seat``).
            booking, created = booking_actions.claim_seat(
                session,
                episode,
                acting_user=acting_user,
                source=Booking.Source.ENROLLMENT,
                idempotency_key=None,
                held=held,
            )
        except booking_actions.NoSeatLeft:
            full.append(session)
            continue
        except ValidationError:
            overlapping.append(session)
            continue
        if created:
            booked.append(booking)
    return booked, full, overlapping


def _join_waitlists(
    result: EnrollmentResult,
    episode: EpisodeOfCare,
    targets: dict[tuple[str, int], Session],
    *,
    acting_user: User | None,
    track: Track,
) -> None:
    for (kind, _pk), session in targets.items():
        entry = booking_actions.do_join_waitlist(
            episode,
            acting_user=acting_user,
            group=session.group if kind == "group" else None,
            track=track if kind == "track" else None,
            session=session if kind == "session" else None,
        )
        result.waitlisted.append(entry)


def _enroll(
    episode: EpisodeOfCare,
    *,
    acting_user: User | None,
    track: Track,
    groups: list[Group],
    starts_on: date,
    kept: Iterable[int] = (),
    full_to: str = GROUP_WAITLIST,
) -> EnrollmentResult:
    _check_enrollment(episode, track, groups, starts_on, kept)
    if Enrollment.objects.filter(episode=episode, ends_on__isnull=True).exists():
        raise ValidationError({"track": "This episode is already enrolled in a track; move it instead."})
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(episode=episode, track=track, starts_on=starts_on)
    except IntegrityError as exc:  # a concurrent enrollment won the one-current constraint
        raise ValidationError({"track": "This episode is already enrolled in a track; move it instead."}) from exc
    enrollment.groups.set(groups)
    result = EnrollmentResult(enrollment=enrollment)
    full_targets = _book_into(
        result, episode, acting_user=acting_user, track=track, groups=groups, starts_on=starts_on, full_to=full_to
    )
    # Audit rows last: the chain head lock is taken after every seat, keeping the booking lock order.
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=episode.patient,
        obj=enrollment,
        changed_fields=["episode", "track", "starts_on", *(["groups"] if groups else [])],
    )
    for booking in result.booked:
        booking_actions.audit_booking(booking, acting_user)
    _join_waitlists(result, episode, full_targets, acting_user=acting_user, track=track)
    if episode.track_id != track.pk:
        patient_actions.do_update_episode(episode, acting_user=acting_user, track=track)  # type: ignore[arg-type]
    return result


def track_label(track: Track) -> str:
    return track.name if track.name.lower().endswith("track") else f"{track.name} track"


def group_with_a_seat(track: Track, prefer: Collection[int] = ()) -> tuple[list[Group], bool]:
    """The group an admission joins: the track's open group with the most free seats (capacity minus current
    members; the name breaks ties, so the choice is stable), a group in ``prefer`` (those fitting the person's
    hours, see ``placement.groups_for_admission``) first whenever one of them has a seat.

    Returns ``([group], True)``; ``([], True)`` when the track has no open groups (its whole-track sessions are all
    there is); ``([], False)`` when every open group is full. The rows are locked, so two admissions in the same
    instant cannot both take the last seat."""
    groups = list(
        Group.objects.select_for_update().filter(track=track, is_active=True, is_open=True).order_by("name", "pk")
    )
    if not groups:
        return [], True
    # Counted apart from the locking query: PostgreSQL refuses FOR UPDATE with GROUP BY.
    members = dict(
        Group.objects.filter(pk__in=[g.pk for g in groups])
        .annotate(n=Count("enrollments", filter=Q(enrollments__ends_on__isnull=True), distinct=True))
        .values_list("pk", "n")
    )
    free = [(g.capacity - members.get(g.pk, 0), g) for g in groups]
    best = max((f for f in free if f[0] > 0), key=lambda f: (f[1].pk in prefer, f[0]), default=None)
    return ([best[1]], True) if best is not None else ([], False)


@transaction.atomic
def do_enroll(
    episode: EpisodeOfCare,
    *,
    acting_user: User | None,
    track: Track,
    groups: Iterable[Group] = (),
    starts_on: date,
) -> EnrollmentResult:
    """Join a track from ``starts_on`` and book every upcoming session of its groups and whole-track sessions.

    Full sessions put the person on that group's (or the track's) waitlist; the result says which.
    """
    episode = EpisodeOfCare.objects.select_for_update().select_related("patient", "program").get(pk=episode.pk)
    return _enroll(episode, acting_user=acting_user, track=track, groups=list(groups), starts_on=starts_on)


def _release_future(
    episode: EpisodeOfCare, scope: Q, cutoff: datetime, *, acting_user: User | None, reason: str
) -> list[Booking]:
    """Cancel the episode's booked seats in sessions matching ``scope`` from ``cutoff`` on, in start order (lock
    order); audit rows are left to the caller (``audit_release``), to be written after every seat."""
    now = timezone.now()
    freed: list[Booking] = []
    for booking in (
        Booking.objects.filter(scope, episode=episode, status=Booking.Status.BOOKED, session__starts_at__gte=cutoff)
        .select_related("patient")
        .order_by("session__starts_at", "session_id")
    ):
        if booking_actions.release_seat(booking, acting_user=acting_user, reason=reason, now=now, record=False):
            freed.append(booking)
    return freed


def _after_release(
    episode: EpisodeOfCare, freed: list[Booking], waitlists: Q | None, *, acting_user: User | None
) -> tuple[int, int]:
    """What follows freeing seats, after the audit rows of the new seats: the releases' audit rows, the episode's
    waitlist entries for what it left withdrawn, and each freed seat offered to the next person waiting.
    Returns (waitlist entries withdrawn, seats offered)."""
    for booking in freed:
        booking_actions.audit_release(booking, acting_user)
    withdrawn = offered = 0
    if waitlists is not None:
        for entry in WaitlistEntry.objects.filter(
            waitlists,
            episode=episode,
            status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED],
        ).select_related("episode__patient"):
            booking_actions.set_waitlist_entry(entry, acting_user, status=WaitlistEntry.Status.WITHDRAWN)
            withdrawn += 1
    for booking in freed:
        session = Session.objects.select_related("program").get(pk=booking.session_id)
        offered += booking_actions.offer_next(session, acting_user=acting_user) is not None
    return withdrawn, offered


def _move(
    episode: EpisodeOfCare,
    current: Enrollment,
    *,
    acting_user: User | None,
    track: Track,
    groups: list[Group],
    on: date,
    full_to: str = GROUP_WAITLIST,
) -> EnrollmentResult:
    if on <= current.starts_on:
        raise ValidationError({"starts_on": "Move on a later day than the current enrollment started."})
    old_track = current.track
    if old_track.pk == track.pk:
        raise ValidationError({"track": "The episode is already in this track."})
    cutoff = max(_local_start(on, old_track), timezone.now())
    freed = _release_future(
        episode, Q(session__track=old_track), cutoff, acting_user=acting_user, reason="Moved to another track"
    )
    Enrollment.objects.filter(pk=current.pk).update(ends_on=on - timedelta(days=1), updated_at=timezone.now())
    result = _enroll(episode, acting_user=acting_user, track=track, groups=groups, starts_on=on, full_to=full_to)
    _audit_ended(current, episode, acting_user)
    _after_release(episode, freed, Q(track=old_track) | Q(group__track=old_track), acting_user=acting_user)
    return result


LEVEL_CHANGE_REASON = "Level of care changed"


@dataclass
class LevelMove:
    """What moving an episode to the track of its new level did (``move_to_level``)."""

    result: EnrollmentResult
    cancelled: int
    withdrawn: int
    offered: int
    ended: bool


def move_to_level(
    episode: EpisodeOfCare,
    *,
    acting_user: User | None,
    old_program_id: int,
    track: Track,
    groups: list[Group],
    on: date,
) -> LevelMove:
    """Scheduling's part of a step down or up (``episode.program`` is already the new program): every booking of
    the old program from ``on`` is cancelled (sessions already started keep theirs), the current enrollment ends
    the day before, the episode joins ``track`` and ``groups`` and is booked to its horizon, its old program's
    waitlist entries are withdrawn and every freed seat is offered on. Refuses, naming the reason, when nothing
    could be booked (the caller rolls the whole change back)."""
    label = track_label(track)
    current = Enrollment.objects.filter(episode=episode, ends_on__isnull=True).select_related("track").first()
    if current is not None and on <= current.starts_on:
        raise ValidationError(
            {"effective_on": f"Change on a later day than the current enrollment started ({current.starts_on:%b %-d})."}
        )
    old_program = Q(session__program_id=old_program_id)
    cutoff = max(_local_start(on, track), timezone.now())
    freed = _release_future(episode, old_program, cutoff, acting_user=acting_user, reason=LEVEL_CHANGE_REASON)
    if current is not None:
        Enrollment.objects.filter(pk=current.pk).update(ends_on=on - timedelta(days=1), updated_at=timezone.now())
    result = _enroll(episode, acting_user=acting_user, track=track, groups=groups, starts_on=on)
    if not result.booked:
        why = (
            f"Every upcoming session of the {label} is full"
            if result.full
            else f"The {label} has no sessions scheduled before the expected discharge"
        )
        raise ValidationError({"track": f"{why}: pick another track or group, or schedule sessions."})
    if current is not None:
        _audit_ended(current, episode, acting_user)
    waitlists = Q(track__program_id=old_program_id) | Q(group__track__program_id=old_program_id)
    withdrawn, offered = _after_release(
        episode, freed, waitlists | Q(session__program_id=old_program_id), acting_user=acting_user
    )
    return LevelMove(result, cancelled=len(freed), withdrawn=withdrawn, offered=offered, ended=current is not None)


def _audit_ended(enrollment: Enrollment, episode: EpisodeOfCare, acting_user: User | None) -> None:
    audit.record(
        action=AuditAction.UPDATED,
        acting_user=acting_user,
        patient=episode.patient,
        obj=enrollment,
        changed_fields=["ends_on"],
    )


@transaction.atomic
def do_move_track(
    episode: EpisodeOfCare,
    *,
    acting_user: User | None,
    track: Track,
    groups: Iterable[Group] = (),
    on: date,
) -> EnrollmentResult:
    """End the current enrollment the day before ``on``, cancel the old track's bookings from then, and enroll."""
    episode = EpisodeOfCare.objects.select_for_update().select_related("patient", "program").get(pk=episode.pk)
    groups = list(groups)
    _check_enrollment(episode, track, groups, on)
    current = Enrollment.objects.filter(episode=episode, ends_on__isnull=True).select_related("track").first()
    if current is None:
        raise ValidationError({"track": "This episode is not enrolled in a track yet; enroll it first."})
    return _move(episode, current, acting_user=acting_user, track=track, groups=groups, on=on)


def _change_groups(
    episode: EpisodeOfCare,
    current: Enrollment,
    groups: list[Group],
    *,
    acting_user: User | None,
    effective_on: date,
    full_to: str = GROUP_WAITLIST,
) -> EnrollmentResult:
    track = current.track
    old = {g.pk: g for g in current.groups.all()}
    new = {g.pk: g for g in groups}
    if set(old) == set(new):
        raise ValidationError({"groups": "These are already the enrollment's groups."})
    if effective_on < current.starts_on:
        raise ValidationError({"effective_on": "Change on or after the day the enrollment started."})
    _check_enrollment(episode, track, groups, effective_on, kept=old)
    left = [g for pk, g in old.items() if pk not in new]
    cutoff = max(_local_start(effective_on, track), timezone.now())
    freed = _release_future(
        episode, Q(session__group__in=left), cutoff, acting_user=acting_user, reason="Left the group"
    )
    if effective_on == current.starts_on:
        # The enrollment starts that very day: no earlier day ran under the old groups, so there is no history to
        # keep and the groups are replaced in place.
        current.groups.set(groups)
        result = EnrollmentResult(enrollment=current)
        full_targets = _book_into(
            result,
            episode,
            acting_user=acting_user,
            track=track,
            groups=groups,
            starts_on=effective_on,
            full_to=full_to,
        )
        audit.record(
            action=AuditAction.UPDATED,
            acting_user=acting_user,
            patient=episode.patient,
            obj=current,
            changed_fields=["groups"],
        )
        for booking in result.booked:
            booking_actions.audit_booking(booking, acting_user)
        _join_waitlists(result, episode, full_targets, acting_user=acting_user, track=track)
    else:
        # Group membership has no history of its own, so a change ends the enrollment the day before and starts a
        # new one in the same track from ``effective_on``: the chart then shows which groups ran when.
        Enrollment.objects.filter(pk=current.pk).update(
            ends_on=effective_on - timedelta(days=1), updated_at=timezone.now()
        )
        result = _enroll(
            episode,
            acting_user=acting_user,
            track=track,
            groups=groups,
            starts_on=effective_on,
            kept=old,
            full_to=full_to,
        )
        _audit_ended(current, episode, acting_user)
    _after_release(episode, freed, Q(group__in=left) if left else None, acting_user=acting_user)
    return result


@transaction.atomic
def do_change_groups(
    enrollment: Enrollment,
    groups: Iterable[Group],
    *,
    acting_user: User | None,
    effective_on: date,
) -> EnrollmentResult:
    """Change the groups of a current enrollment inside its track from ``effective_on``.

    Future bookings of the groups left are cancelled from that day (their seats offered to the waitlist), the new
    groups' upcoming sessions are booked (full ones put the person on the group's waitlist), whole-track sessions
    keep their seats. The old enrollment ends the day before and a new one starts, so history shows the change.
    """
    episode = (
        EpisodeOfCare.objects.select_for_update().select_related("patient", "program").get(pk=enrollment.episode_id)
    )
    current = (
        Enrollment.objects.filter(pk=enrollment.pk, ends_on__isnull=True)
        .select_related("track__program")
        .prefetch_related("groups")
        .first()
    )
    if current is None:
        raise ValidationError({"groups": "This enrollment has ended; change the current one."})
    if episode.status != EpisodeOfCare.Status.ACTIVE:
        raise ValidationError({"episode": "Only an active episode can change groups."})
    return _change_groups(episode, current, list(groups), acting_user=acting_user, effective_on=effective_on)


def accept_offer_into(
    entry: WaitlistEntry, session: Session, *, acting_user: User | None
) -> tuple[Booking, EnrollmentResult]:
    """Accept a group's or track's waitlist offer: the person joins the group (or track) properly.

    The offered seat is claimed first (SessionFull if someone was faster; nothing is changed). Then, as enrollment
    does, every upcoming session of the group or track where they fit is booked and full ones go to that session's
    waitlist: a new enrollment if there is none, the group added (from today) if enrolled in the same track, a
    track move (from today) if enrolled in another. Called by ``booking.do_accept_offer`` with the entry locked.
    """
    episode = EpisodeOfCare.objects.select_for_update().select_related("patient", "program").get(pk=entry.episode_id)
    group = entry.group
    track = entry.track if entry.track is not None else group.track if group is not None else None
    if track is None:
        raise ValidationError({"entry": "This entry waits for one session, not a group or track."})
    session = Session.objects.select_related("program", "session_type").get(pk=session.pk)
    booking_actions.check_bookable(session, episode)
    try:
        booking, _ = booking_actions.claim_seat(
            session, episode, acting_user=acting_user, source=Booking.Source.WAITLIST, idempotency_key=None
        )
    except booking_actions.NoSeatLeft:
        raise booking_actions.SessionFull(session, booking_actions.next_sessions_with_seats(session)) from None
    today = timezone.localdate(timezone=track.program.tz())
    starts_on = max(today, episode.admitted_on or today)
    current = (
        Enrollment.objects.filter(episode=episode, ends_on__isnull=True)
        .select_related("track__program")
        .prefetch_related("groups")
        .first()
    )
    wanted = [group] if group is not None else []
    if current is None:
        result = _enroll(
            episode, acting_user=acting_user, track=track, groups=wanted, starts_on=starts_on, full_to=SESSION_WAITLIST
        )
    elif current.track_id != track.pk:
        result = _move(
            episode,
            current,
            acting_user=acting_user,
            track=track,
            groups=wanted,
            on=starts_on,
            full_to=SESSION_WAITLIST,
        )
    elif group is not None and group not in current.groups.all():
        result = _change_groups(
            episode,
            current,
            [*current.groups.all(), group],
            acting_user=acting_user,
            effective_on=max(starts_on, current.starts_on),
            full_to=SESSION_WAITLIST,
        )
    else:
        # Already a member: book what is missing (sessions created since, seats freed meanwhile).
        result = EnrollmentResult(enrollment=current)
        targets = _book_into(
            result,
            episode,
            acting_user=acting_user,
            track=track,
            groups=list(current.groups.all()),
            starts_on=max(starts_on, current.starts_on),
            full_to=SESSION_WAITLIST,
        )
        for made in result.booked:
            booking_actions.audit_booking(made, acting_user)
        _join_waitlists(result, episode, targets, acting_user=acting_user, track=track)
    booking_actions.audit_booking(booking, acting_user)
    return booking, result


def current_enrollment(episode: EpisodeOfCare) -> Enrollment | None:
    return (
        Enrollment.objects.filter(episode=episode, ends_on__isnull=True)
        .select_related("track")
        .prefetch_related("groups")
        .first()
    )


def do_book_new_sessions(enrollment: Enrollment, *, acting_user: User | None) -> list[Booking]:
    """Book a current enrollment into sessions created since it started (a series extended past the old horizon).

    Safe to repeat: seats already held are left alone; full or clashing sessions are skipped (the person stays on
    the waitlists that enrollment created).
    """
    with transaction.atomic():
        episode = (
            EpisodeOfCare.objects.select_for_update().select_related("patient", "program").get(pk=enrollment.episode_id)
        )
        if enrollment.ends_on is not None or episode.status != EpisodeOfCare.Status.ACTIVE:
            return []
        track = enrollment.track
        groups = list(enrollment.groups.all())
        starts_on = max(enrollment.starts_on, timezone.localdate())
        booked, _, _ = _claim_seats(episode, track, groups, starts_on, acting_user=acting_user)
        for booking in booked:
            booking_actions.audit_booking(booking, acting_user)
        return booked
