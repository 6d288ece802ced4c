"""Secret, revocable iCalendar feeds for a patient's sessions or a staff member's facilitation.

The token is shown once, at creation; only its SHA-256 is stored, so a database copy cannot be turned into
feed URLs. A fetch hashes the presented token and looks the hash up, so an unknown and a revoked token take the
same path and answer the same 404. By default an event reveals only "Session at <site>" and the time: no
program name (which can reveal substance-use treatment, 42 CFR Part 2), no diagnosis, no room, no description.
The owner may opt in to session names (``detailed``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from icalendar import Calendar, Event

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.patients.models import Patient
from openiop.scheduling.models import Booking, CalendarFeed, Session

# How far back a feed reaches; calendar apps keep what they already have.
HISTORY = timedelta(days=60)
# Fetches refresh last_fetched_at at most this often, so polling calendar apps do not write on every request.
FETCH_RESOLUTION = timedelta(minutes=1)
PRODID = "-//OpenIOP//Calendar feed//EN"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def active_feed_for(*, patient: Patient | None = None, user: User | None = None) -> CalendarFeed | None:
    qs = CalendarFeed.objects.filter(revoked_at__isnull=True)
    qs = qs.filter(patient=patient) if patient is not None else qs.filter(user=user)
    return qs.order_by("-created_at").first()


def do_create_feed(
    *, acting_user: User, patient: Patient | None = None, user: User | None = None, detailed: bool = False
) -> tuple[CalendarFeed, str]:
    """Make a new feed for a patient or a staff member, revoking any earlier one; returns (feed, token)."""
    if (patient is None) == (user is None):
        raise ValueError("A feed belongs to exactly one patient or one staff member.")
    token = new_token()
    now = timezone.now()
    with transaction.atomic():
        for old in CalendarFeed.objects.select_for_update().filter(
            Q(patient=patient) if patient is not None else Q(user=user), revoked_at__isnull=True
        ):
            _revoke(old, acting_user=acting_user, now=now)
        feed = CalendarFeed.objects.create(patient=patient, user=user, token_hash=hash_token(token), detailed=detailed)
        audit.record(
            action=AuditAction.CREATED,
            acting_user=acting_user,
            patient=patient,
            obj=feed,
            changed_fields=["detailed"] if detailed else [],
            organization_id=patient.organization_id if patient is not None else user.organization_id,  # type: ignore[union-attr]
        )
    return feed, token


def _revoke(feed: CalendarFeed, *, acting_user: User, now: datetime) -> None:
    feed.revoked_at = now
    feed.save(update_fields=["revoked_at", "updated_at"])
    audit.record(
        action=AuditAction.DEACTIVATED,
        acting_user=acting_user,
        patient=feed.patient,
        obj=feed,
        changed_fields=["revoked_at"],
    )


def do_revoke_feed(feed: CalendarFeed, *, acting_user: User) -> CalendarFeed:
    with transaction.atomic():
        locked = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
        if locked.revoked_at is None:
            _revoke(locked, acting_user=acting_user, now=timezone.now())
    return locked


def find_feed(token: str) -> CalendarFeed | None:
    """The live feed for a presented token; None for an unknown or revoked one, or an inactive owner."""
    return (
        CalendarFeed.objects.filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .filter(Q(patient__is_active=True) | Q(user__is_active=True))
        .select_related("patient", "user")
        .first()
    )


def record_fetch(feed: CalendarFeed, now: datetime) -> None:
    CalendarFeed.objects.filter(pk=feed.pk).filter(
        Q(last_fetched_at__isnull=True) | Q(last_fetched_at__lte=now - FETCH_RESOLUTION)
    ).update(last_fetched_at=now)


def feed_sessions(feed: CalendarFeed, now: datetime) -> list[Session]:
    since = now - HISTORY
    qs = Session.objects.filter(ends_at__gte=since).select_related("program__site", "session_type")
    if feed.patient_id is not None:
        booked = Booking.objects.filter(patient_id=feed.patient_id, status=Booking.Status.BOOKED)
        qs = qs.filter(pk__in=booked.values("session_id"))
    else:
        qs = qs.filter(facilitators=feed.user)
    return list(qs.order_by("starts_at", "pk"))


def event_summary(session: Session, detailed: bool) -> str:
    if detailed:
        return session.title or session.session_type.name
    return f"Session at {session.program.site.name}"


def build_calendar(feed: CalendarFeed, sessions: list[Session]) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    # A neutral calendar name: it shows in the subscriber's calendar list, so it names nothing clinical.
    cal.add("x-wr-calname", "Sessions")
    for session in sessions:
        event = Event()
        event.add("uid", f"{session.public_id}@openiop")
        event.add("dtstamp", session.updated_at.astimezone(UTC))
        event.add("dtstart", session.starts_at.astimezone(UTC))
        event.add("dtend", session.ends_at.astimezone(UTC))
        event.add("summary", event_summary(session, feed.detailed))
        event.add("location", session.program.site.name)
        cancelled = session.status == Session.Status.CANCELLED
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()
