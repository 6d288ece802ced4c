"""Planning sessions and finding clashes: a :class:`Planned` session (new or moved) checked against the calendar and
against the other sessions of its batch for room and facilitator double bookings, facilitator time off and
booked patients; and weekly-availability warnings. ``conflicts.py`` holds the per-session queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from openiop.lib import recurrence
from openiop.scheduling import conflicts
from openiop.scheduling.actions.common import local_label, session_label
from openiop.scheduling.models import Booking, CurriculumTopic, Session, StaffTimeOff

if TYPE_CHECKING:
    pass


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


def merge_errors(errors: dict[str, list[str]], more: dict[str, list[str]]) -> dict[str, list[str]]:
    """Add the field errors of ``more`` to ``errors`` (clash and patient checks report together); returns ``errors``."""
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


def users_by_id(ids: Iterable[int]) -> dict[int, Any]:
    """The facilitators a plan names, by id, in one query, so clash errors can name them."""
    from openiop.accounts.models import User

    return {u.pk: u for u in User.objects.filter(pk__in=set(ids))}
