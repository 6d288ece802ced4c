"""Booking seats, cancelling them, and the waitlists that take a freed seat.

A seat is claimed with one conditional UPDATE (``booked_count < capacity``), so however many requests race for
the last seats, exactly ``capacity`` win and the rest get :class:`SessionFull`. Lock order inside a booking is
always episode row -> booking unique index -> session row -> audit chain head; every action here keeps it, so
two transactions never wait on each other in a cycle (actions that claim several seats write their audit rows
last for the same reason).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.patients.models import EpisodeOfCare
from openiop.scheduling import conflicts
from openiop.scheduling.models import Booking, Group, Session, WaitlistEntry

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.programs.models import Track

NEXT_SESSIONS_SHOWN = 3
IDEMPOTENCY_KEY_MAX = 80  # Booking.idempotency_key max_length
CANCEL_REASON_MAX = 200  # Booking.cancel_reason max_length
DEFAULT_OFFER_HOURS = 24


class SessionFull(Exception):
    """No seat left; carries the next sessions of the same type and track that still have one."""

    def __init__(self, session: Session, next_sessions: list[Session]) -> None:
        super().__init__(f"{session_label(session)} is full.")
        self.session = session
        self.next_sessions = next_sessions


class BookingConflict(Exception):
    """The request contradicts an earlier one (an idempotency key reused for another seat)."""

    def __init__(self, title: str, detail: str) -> None:
        super().__init__(detail)
        self.title = title
        self.detail = detail


def session_label(session: Session) -> str:
    """How an error names a session: its title and program-local start, e.g. "Process group on Mon 7 Dec 09:00"."""
    local = timezone.localtime(session.starts_at, session.program.tz())
    name = session.title or session.session_type.name
    return f"{name} on {local:%a} {local.day} {local:%b %Y %H:%M}"


def offer_hours() -> int:
    return int(getattr(settings, "OPENIOP_WAITLIST_OFFER_HOURS", DEFAULT_OFFER_HOURS))


def next_sessions_with_seats(session: Session, limit: int = NEXT_SESSIONS_SHOWN) -> list[Session]:
    """Later sessions of the same type (and track, or program when it has none) with a free seat."""
    qs = Session.objects.filter(
        program_id=session.program_id,
        session_type_id=session.session_type_id,
        status=Session.Status.SCHEDULED,
        starts_at__gt=max(session.starts_at, timezone.now()),
        booked_count__lt=F("capacity"),
    ).exclude(pk=session.pk)
    qs = qs.filter(track_id=session.track_id) if session.track_id else qs.filter(track__isnull=True)
    return list(qs.select_related("program", "session_type").order_by("starts_at", "pk")[:limit])


# --- Booking ------------------------------------------------------------------------------------------------


class NoSeatLeft(Exception):
    """Raised by :func:`claim_seat` when the session has no seat left (the booking row already rolled back); the
    caller turns this into :class:`SessionFull` or a waitlist entry."""


def check_bookable(session: Session, episode: EpisodeOfCare) -> None:
    """Refuse a session that is cancelled or over, an episode that is not active, another program's session, or a
    day outside the episode's admission and (expected) discharge."""
    if session.status != Session.Status.SCHEDULED:
        raise ValidationError({"session": "This session was cancelled."})
    if session.ends_at <= timezone.now():
        raise ValidationError({"session": "This session is over."})
    if episode.status != EpisodeOfCare.Status.ACTIVE:
        raise ValidationError({"episode": "Only an active episode can book sessions."})
    if session.program_id != episode.program_id:
        raise ValidationError({"session": "This session belongs to another program than the episode."})
    day = timezone.localtime(session.starts_at, session.program.tz()).date()
    last_day = episode.discharged_on or episode.expected_discharge_on
    if episode.admitted_on is None or day < episode.admitted_on or (last_day is not None and day > last_day):
        raise ValidationError({"session": "outside the episode's dates"})


def claim_seat(
    session: Session,
    episode: EpisodeOfCare,
    *,
    acting_user: User | None,
    source: str,
    idempotency_key: str | None,
    held: list[Booking] | None = None,
) -> tuple[Booking, bool]:
    """Insert the booking and take the seat, inside the caller's transaction. Returns (booking, created).

    The booking row goes in first so a concurrent twin with the same key or the same patient loses on the unique
    index and reads the winner's row instead; only then is the seat counted, in the same savepoint, so a claim that
    raises (NoSeatLeft, or ValidationError for an overlap) has written nothing and the caller needs no savepoint.

    ``held`` is for a caller claiming many seats of one person under the episode lock (enrollment): the person's
    booked seats over all of them, read once by :func:`held_seats`, which each claim checks instead of reading
    its own and extends with the seat it takes.
    """
    if idempotency_key:
        # Its own query: OR-ed into the one below, SQLite's planner scans the whole booking table.
        earlier = Booking.objects.filter(idempotency_key=idempotency_key).order_by("pk").first()
        if earlier is not None:
            return _same_request(earlier, session, episode), False
    # One read for the seat already held here and any overlapping one (a seat on this session overlaps it too).
    if held is None:
        near = list(
            conflicts.patient_conflicts(episode.patient_id, session.starts_at, session.ends_at).only(*_NEAR_READ)
        )
    else:
        near = [b for b in held if b.session.starts_at < session.ends_at and b.session.ends_at > session.starts_at]
    found = next((b for b in near if b.session_id == session.pk), None)
    if found is not None:
        found.session = session  # the row being booked, whole: the overlap read joined only what an error names
        if found.episode_id == episode.pk:
            found.episode = episode
        if EpisodeOfCare.patient.is_cached(episode):
            found.patient = episode.patient
        return found, False
    if near:
        clash = near[0].session
        raise ValidationError({"session": f"Already booked in {session_label(clash)}, which overlaps this session."})
    patient = episode.patient if EpisodeOfCare.patient.is_cached(episode) else None
    try:
        with transaction.atomic():
            booking = Booking.objects.create(
                session=session,
                episode=episode,
                patient_id=episode.patient_id,
                source=source,
                idempotency_key=idempotency_key or None,
                booked_by=acting_user,
            )
            if not _take_seat(session):
                raise NoSeatLeft  # rolls the booking back with the savepoint
    except IntegrityError:
        # A concurrent request with the same key, or for the same patient, committed first.
        winner = None
        if idempotency_key:
            winner = Booking.objects.filter(idempotency_key=idempotency_key).order_by("pk").first()
            if winner is not None:
                return _same_request(winner, session, episode), False
        winner = (
            Booking.objects.filter(session=session, patient_id=episode.patient_id, status=Booking.Status.BOOKED)
            .order_by("pk")
            .first()
        )
        if winner is None:
            raise
        if held is not None:
            winner.session = session
            held.append(winner)
        return winner, False
    if patient is not None:
        booking.patient = patient  # the audit row's organization, without reading the patient again
    if held is not None:
        held.append(booking)
    return booking, True


# The overlap read's columns: the whole seat, and of its session what the clash's error names (session_label).
_NEAR_READ = (
    *(field.attname for field in Booking._meta.concrete_fields),
    *("session__public_id", "session__title", "session__starts_at", "session__ends_at"),
    *("session__program__time_zone", "session__session_type__name"),
)


def _take_seat(session: Session) -> bool:
    """Count one more seat if the session is scheduled and has one left; False otherwise. Sets the session's
    ``booked_count`` to the count the update wrote (RETURNING: PostgreSQL, SQLite >= 3.35), so no one reads it again."""
    if not connection.features.can_return_columns_from_insert:
        claimed = Session.objects.filter(
            pk=session.pk, status=Session.Status.SCHEDULED, booked_count__lt=F("capacity")
        ).update(booked_count=F("booked_count") + 1)
        if claimed:
            session.refresh_from_db(fields=["booked_count"])
        return bool(claimed)
    # Raw SQL: compiling the ORM's UPDATE and then a SELECT of the count cost more than the statement itself.
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_SEAT_SQL, [session.pk, Session.Status.SCHEDULED])
        row = cursor.fetchone()
    if row is None:
        return False
    session.booked_count = row[0]
    return True


_TAKE_SEAT_SQL = (
    f"UPDATE {Session._meta.db_table} SET booked_count = booked_count + 1"  # noqa: S608 (names from the model)
    " WHERE id = %s AND status = %s AND booked_count < capacity RETURNING booked_count"
)


def held_seats(episode: EpisodeOfCare, sessions: list[Session]) -> list[Booking]:
    """The person's booked seats on scheduled sessions overlapping any of ``sessions`` (start order), for
    :func:`claim_seat`'s ``held``: one read instead of one a claim."""
    if not sessions:
        return []
    starts_at = min(s.starts_at for s in sessions)
    ends_at = max(s.ends_at for s in sessions)
    return list(conflicts.patient_conflicts(episode.patient_id, starts_at, ends_at))


def _same_request(earlier: Booking, session: Session, episode: EpisodeOfCare) -> Booking:
    if earlier.session_id != session.pk or earlier.patient_id != episode.patient_id:
        raise BookingConflict(
            "Idempotency key reused",
            "This idempotency key was already used for another session or patient; send a new key.",
        )
    return earlier


def audit_booking(booking: Booking, acting_user: User | None) -> None:
    """The audit row of a new booking; actions that claim several seats write these last (see the lock order)."""
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=booking.patient,
        obj=booking,
        changed_fields=["session", "episode", "status", "source"],
    )


def do_book_seat(
    session: Session,
    *,
    episode: EpisodeOfCare,
    acting_user: User | None,
    source: str = Booking.Source.STAFF,
    idempotency_key: str | None = None,
) -> Booking:
    """Book the episode's patient into the session, or return the booking this request (or key) already made.

    Raises ValidationError for a booking that cannot be (naming the field), SessionFull when no seat is left,
    BookingConflict for a reused idempotency key.
    """
    if source not in Booking.Source.values:
        raise ValidationError({"source": "Unknown booking source."})
    if idempotency_key is not None and len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
        raise ValidationError({"idempotency_key": "Use at most 80 characters."})
    refused: Exception | None = None
    # No savepoint of its own: every refusal below is caught inside the block and raised after it, before any
    # write (the claim's writes have their own savepoint), so a caller's transaction goes on usable.
    with transaction.atomic(savepoint=False):
        try:
            locked = _lock_episode(episode)
            current = _session_now(session)
            check_bookable(current, locked)
            booking, created = claim_seat(
                current, locked, acting_user=acting_user, source=source, idempotency_key=idempotency_key
            )
            if created:
                audit_booking(booking, acting_user)
        except NoSeatLeft:
            # The claim's update found no seat, or the session was cancelled since the caller read it: say which.
            fresh = Session.objects.select_related("program", "session_type").get(pk=session.pk)
            refused = _refusal(fresh, locked) or SessionFull(session, next_sessions_with_seats(session))
        except (ValidationError, BookingConflict) as exc:
            refused = exc
    if refused is not None:
        raise refused
    if created:
        session.booked_count = current.booked_count  # as the claim's update returned it
    else:
        session.booked_count = Session.objects.filter(pk=session.pk).values_list("booked_count", flat=True).get()
    return booking


def _refusal(session: Session, episode: EpisodeOfCare) -> ValidationError | None:
    try:
        check_bookable(session, episode)
    except ValidationError as exc:
        return exc
    return None


def _lock_episode(episode: EpisodeOfCare) -> EpisodeOfCare:
    """Lock the episode row (it serializes one patient's bookings, so two overlapping sessions cannot both pass the
    overlap check) and return it as it is now. With its patient already joined, only the few columns the booking
    checks are read, onto the caller's row: the full row with the patient cost a third of the booking's SQL."""
    if not EpisodeOfCare.patient.is_cached(episode):
        return EpisodeOfCare.objects.select_for_update().select_related("patient").get(pk=episode.pk)
    # The patient's column joins the patient's row, so FOR UPDATE locks it too, as every other episode lock here
    # does (select_related("patient")): that row, not the episode's, serializes a person booked through two
    # episodes at once (two programs), whose overlapping seats the overlap check must see one after the other.
    now = (
        EpisodeOfCare.objects.select_for_update()
        .filter(pk=episode.pk)
        .values_list(*_EPISODE_CHECKED, "patient__is_active")
        .get()
    )
    for name, value in zip(_EPISODE_CHECKED, now[: len(_EPISODE_CHECKED)], strict=True):
        setattr(episode, name, value)
    return episode


_EPISODE_CHECKED = ("status", "program_id", "admitted_on", "discharged_on", "expected_discharge_on")


def _session_now(session: Session) -> Session:
    """The session to book: the caller's row when it comes with its program (the seat's update checks the status
    and the seats left again, and a refusal reads the row afresh to name its reason), else read here."""
    if Session.program.is_cached(session):
        return session
    return Session.objects.select_related("program", "session_type").get(pk=session.pk)


# --- Cancelling ---------------------------------------------------------------------------------------------


def release_seat(
    booking: Booking, *, acting_user: User | None, reason: str, now: datetime, record: bool = True
) -> bool:
    """Cancel one booked seat and give it back; False when it was cancelled already (nothing freed).

    ``record=False`` leaves the audit row to the caller (see :func:`audit_release`), for actions that must take every
    session lock before the audit chain lock.
    """
    cancelled = Booking.objects.filter(pk=booking.pk, status=Booking.Status.BOOKED).update(
        status=Booking.Status.CANCELLED, cancelled_at=now, cancel_reason=reason, updated_at=now
    )
    if not cancelled:
        return False
    # Guarded so a count that is already zero is never driven negative.
    Session.objects.filter(pk=booking.session_id, booked_count__gt=0).update(booked_count=F("booked_count") - 1)
    if record:
        audit_release(booking, acting_user)
    return True


def audit_release(booking: Booking, acting_user: User | None) -> None:
    """The audit row of a released seat, for callers of ``release_seat(..., record=False)``."""
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=booking.patient,
        obj=booking,
        changed_fields=["status", "cancelled_at", "cancel_reason"],
    )


@transaction.atomic
def do_cancel_booking(booking: Booking, *, acting_user: User | None, reason: str = "") -> Booking:
    """Cancel a booking and offer the freed seat to the waitlist; cancelling twice frees nothing more."""
    reason = (reason or "").strip()
    if len(reason) > CANCEL_REASON_MAX:
        raise ValidationError({"reason": "Keep the reason under 200 characters."})
    freed = release_seat(booking, acting_user=acting_user, reason=reason, now=timezone.now())
    booking.refresh_from_db()
    if freed:
        session = Session.objects.select_related("program", "track").get(pk=booking.session_id)
        offer_next(session, acting_user=acting_user)
    return booking


@transaction.atomic
def do_cancel_bookings_for_session(session: Session, *, acting_user: User | None, reason: str = "") -> int:
    """Cancel every seat of a (cancelled) session and close its waitlist; returns how many were cancelled."""
    now = timezone.now()
    count = 0
    for booking in Booking.objects.filter(session=session, status=Booking.Status.BOOKED).select_related("patient"):
        count += release_seat(booking, acting_user=acting_user, reason=reason, now=now)
    # Offers made for this session go back to the line for the group or track; session-only entries end.
    for entry in WaitlistEntry.objects.filter(
        session=session, status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED]
    ).select_related("episode__patient"):
        if entry.group_id or entry.track_id:
            set_waitlist_entry(entry, acting_user, status=WaitlistEntry.Status.WAITING, session=None)
        else:
            set_waitlist_entry(entry, acting_user, status=WaitlistEntry.Status.WITHDRAWN)
    session.refresh_from_db(fields=["booked_count"])
    return count


# --- Waitlists ----------------------------------------------------------------------------------------------


def set_waitlist_entry(entry: WaitlistEntry, acting_user: User | None, **fields: object) -> None:
    """Change a waitlist entry's fields (``session`` may be given as a row or None) and audit the change; an entry
    that is no longer offered loses its offer times."""
    changed = []
    for name, value in fields.items():
        current = entry.session_id if name == "session" else getattr(entry, name)
        wanted = getattr(value, "pk", value) if name == "session" else value
        if current != wanted:
            setattr(entry, name, value)
            changed.append(name)
    if entry.status != WaitlistEntry.Status.OFFERED:
        entry.offered_at = None
        entry.offer_expires_at = None
    entry.save()
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=entry.episode.patient,
        obj=entry,
        changed_fields=changed or ["status"],
    )


@transaction.atomic
def do_join_waitlist(
    episode: EpisodeOfCare,
    *,
    acting_user: User | None,
    track: Track | None = None,
    group: Group | None = None,
    session: Session | None = None,
) -> WaitlistEntry:
    """Put the episode on one waitlist (a track, a group or a single session); joining twice returns the entry."""
    targets = [t for t in (track, group, session) if t is not None]
    if len(targets) != 1:
        raise ValidationError("Name exactly one of a track, a group or a session to wait for.")
    if episode.status in (EpisodeOfCare.Status.DISCHARGED, EpisodeOfCare.Status.ON_HOLD):
        raise ValidationError({"episode": "Only an active or waitlisted episode can join a waitlist."})
    program_id = (
        track.program_id if track is not None else group.track.program_id if group is not None else session.program_id  # type: ignore[union-attr]
    )
    if program_id != episode.program_id:
        field = "track" if track is not None else "group" if group is not None else "session"
        raise ValidationError({field: "Pick one of the episode's program."})
    if session is not None and (session.status != Session.Status.SCHEDULED or session.starts_at <= timezone.now()):
        raise ValidationError({"session": "Only an upcoming scheduled session has a waitlist."})
    if (
        session is not None
        and session.bookings.filter(patient_id=episode.patient_id, status=Booking.Status.BOOKED).exists()
    ):
        raise ValidationError({"session": "Already booked in this session."})
    open_entries = WaitlistEntry.objects.filter(
        episode=episode, status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED]
    )
    if track is not None:
        existing = open_entries.filter(track=track, group__isnull=True).first()
    elif group is not None:
        existing = open_entries.filter(group=group).first()
    else:
        existing = open_entries.filter(session=session, group__isnull=True, track__isnull=True).first()
    if existing is not None:
        return existing
    entry = WaitlistEntry.objects.create(episode=episode, track=track, group=group, session=session)
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=episode.patient,
        obj=entry,
        changed_fields=["episode", "track" if track else "group" if group else "session"],
    )
    return entry


@transaction.atomic
def do_withdraw(entry: WaitlistEntry, *, acting_user: User | None) -> WaitlistEntry:
    """Leave the waitlist; an outstanding offer passes to the next person."""
    entry = WaitlistEntry.objects.select_for_update().select_related("episode__patient").get(pk=entry.pk)
    if entry.status not in (WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED):
        return entry
    offered = entry.session if entry.status == WaitlistEntry.Status.OFFERED else None
    set_waitlist_entry(entry, acting_user, status=WaitlistEntry.Status.WITHDRAWN)
    if offered is not None:
        offer_next(offered, acting_user=acting_user)
    return entry


def _candidates(session: Session) -> QuerySet[WaitlistEntry]:
    """Who waits for this session's seat: its own list, then its group's and track's, oldest first."""
    target = Q(session=session, group__isnull=True, track__isnull=True)
    if session.group_id:
        target |= Q(group_id=session.group_id, status=WaitlistEntry.Status.WAITING)
    if session.track_id:
        target |= Q(track_id=session.track_id, group__isnull=True, status=WaitlistEntry.Status.WAITING)
    booked = Booking.objects.filter(session=session, status=Booking.Status.BOOKED).values("patient_id")
    # skip_locked: an entry being withdrawn right now is passed over rather than waited for (PostgreSQL).
    return (
        WaitlistEntry.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(target, status=WaitlistEntry.Status.WAITING, episode__status="active")
        .exclude(episode__patient_id__in=booked)
        .select_related("episode__patient")
        .order_by("created_at", "pk")
    )


@transaction.atomic
def offer_next(session: Session, *, acting_user: User | None, now: datetime | None = None) -> WaitlistEntry | None:
    """Offer a freed seat of an upcoming session to the next person waiting, if anyone; one seat, one offer."""
    now = now or timezone.now()
    if session.status != Session.Status.SCHEDULED or session.starts_at <= now:
        return None
    entry = _candidates(session).first()
    if entry is None:
        return None
    set_waitlist_entry(
        entry,
        acting_user,
        status=WaitlistEntry.Status.OFFERED,
        session=session,
        offered_at=now,
        offer_expires_at=now + timedelta(hours=offer_hours()),
    )
    return entry


def do_accept_offer(entry: WaitlistEntry, *, acting_user: User | None) -> Booking:
    """Book the offered seat; returns its booking. The seat was not held, so this can still raise SessionFull if
    someone was faster. A group's or track's offer also enrolls the person there (``enrollment.accept_offer_into``):
    every upcoming session of it where they fit is booked, full ones put them on that session's waitlist."""
    with transaction.atomic():
        # The entry is locked first (before the episode, session and audit locks of the booking), so a
        # concurrent withdrawal or a double click waits here and then sees the entry is no longer OFFERED.
        locked = WaitlistEntry.objects.select_for_update().select_related("episode").filter(pk=entry.pk).first()
        if locked is None or locked.status != WaitlistEntry.Status.OFFERED or locked.session_id is None:
            raise ValidationError({"entry": "There is no open offer on this waitlist entry."})
        if locked.offer_expires_at is not None and locked.offer_expires_at <= timezone.now():
            raise ValidationError({"entry": "This offer has expired."})
        session = Session.objects.select_related("program").get(pk=locked.session_id)
        if locked.group_id or locked.track_id:
            # Waiting for a group or track is waiting to join it, not for one seat: enroll properly.
            from openiop.scheduling.actions.enrollment import accept_offer_into

            booking, _ = accept_offer_into(locked, session, acting_user=acting_user)
        else:
            booking = do_book_seat(
                session, episode=locked.episode, acting_user=acting_user, source=Booking.Source.WAITLIST
            )
        locked.status = WaitlistEntry.Status.ACCEPTED
        locked.save(update_fields=["status", "updated_at"])
        audit.record(
            action=AuditAction.STATUS_CHANGED,
            acting_user=acting_user,
            patient=booking.patient,
            obj=locked,
            changed_fields=["status"],
        )
    entry.refresh_from_db()
    return booking


def expire_offers(now: datetime | None = None) -> int:
    """Withdraw offers past their deadline and pass each seat to the next person (the periodic job)."""
    now = now or timezone.now()
    expired = 0
    ids = list(
        WaitlistEntry.objects.filter(status=WaitlistEntry.Status.OFFERED, offer_expires_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    for pk in ids:
        with transaction.atomic():
            entry = (
                WaitlistEntry.objects.select_for_update()
                .select_related("episode__patient")
                .filter(pk=pk, status=WaitlistEntry.Status.OFFERED)
                .first()
            )
            if entry is None:
                continue
            session = Session.objects.select_related("program").filter(pk=entry.session_id or 0).first()
            set_waitlist_entry(entry, None, status=WaitlistEntry.Status.WITHDRAWN)
            expired += 1
            if session is not None and session.free_seats > 0:
                offer_next(session, acting_user=None, now=now)
    return expired
