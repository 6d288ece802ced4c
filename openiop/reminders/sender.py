"""The sender: claims one due reminder at a time, sends it, and marks it sent, each step its own short transaction.

**Claim.** A conditional UPDATE moves one row from pending (due) to sending with a fresh ``claim_token`` and a
lease; on PostgreSQL the candidate is picked with ``SELECT ... FOR UPDATE SKIP LOCKED`` so two senders take
different rows instead of queueing on the same one, and on SQLite the write lock (``BEGIN IMMEDIATE``) serializes
the pick and the claim. Only the process whose UPDATE changed the row sends it.

**Send, then mark.** The message goes out outside any transaction; right after the provider accepts it (the SMTP
server's 250 reply to DATA, or the SMS API's 2xx) a single UPDATE, conditional on the claim token, marks it sent.

**Crashes.** A sender killed before the provider accepted the message leaves the row in ``sending``; once its
lease expires (``reminder_lease_seconds``) the next run claims it again, so nothing is skipped. This is
at-least-once delivery with one narrow window: killed between the provider's acceptance and the mark's commit (one
UPDATE, a few milliseconds), the reminder is sent again after the lease. The email's Message-ID is derived from
the reminder's public id (and the SMS request carries it as ``Idempotency-Key``), so such a duplicate is
recognisable and droppable downstream. A sender that outlives its own lease (a hung SMTP server) could race a
second sender; the lease is kept far longer than ``EMAIL_TIMEOUT`` / ``SMS_TIMEOUT`` for that reason.

Nothing here logs content or addresses: only the reminder's public id and the error's kind.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr
from typing import Literal

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from openiop.reminders import content, policy, sms, targets
from openiop.reminders.models import Channel, Kind, Reminder
from openiop.reminders.planner import channel_problem

logger = logging.getLogger(__name__)

R = Reminder.DropReason
S = Reminder.Status


def _due(now: datetime) -> Q:
    return Q(status=S.PENDING, send_after__lte=now) | Q(status=S.SENDING, lease_until__lt=now)


def claim_next(now: datetime) -> tuple[Reminder, uuid.UUID] | Literal[False] | None:
    """Claim the next due reminder: (reminder, token); None when nothing is due; False when another sender won
    the row this time (try again)."""
    token = uuid.uuid4()
    with transaction.atomic():
        candidates = Reminder.objects.filter(_due(now)).order_by("send_after", "pk")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        pk = candidates.values_list("pk", flat=True).first()
        if pk is None:
            return None
        claimed = Reminder.objects.filter(_due(now), pk=pk).update(
            status=S.SENDING,
            claim_token=token,
            claimed_at=now,
            lease_until=now + policy.lease(),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    if not claimed:
        return False
    reminder = Reminder.objects.select_related("patient", "patient__reminder_preference", "program__site").get(pk=pk)
    return reminder, token


def _mine(reminder: Reminder, token: uuid.UUID) -> Q:
    return Q(pk=reminder.pk, status=S.SENDING, claim_token=token)


def _finish(reminder: Reminder, token: uuid.UUID, **fields: object) -> bool:
    done = Reminder.objects.filter(_mine(reminder, token)).update(
        claim_token=None, lease_until=None, updated_at=timezone.now(), **fields
    )
    if not done:
        # Our lease ran out and another sender took the row over; it decides now.
        logger.warning("reminder %s: claim lost before it was marked", reminder.public_id)
    return bool(done)


def _drop(reminder: Reminder, token: uuid.UUID, reason: str) -> str:
    _finish(reminder, token, status=S.DROPPED, drop_reason=reason)
    return "dropped"


def _release(reminder: Reminder, token: uuid.UUID, send_after: datetime, **fields: object) -> str:
    # Not an attempt: the claim's increment is given back.
    _finish(reminder, token, status=S.PENDING, send_after=send_after, attempts=F("attempts") - 1, **fields)
    return "deferred"


def email_message(reminder: Reminder, rendered: content.Rendered) -> EmailMessage:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@localhost"
    # The sender's display name is the site, never "OpenIOP" or the program.
    sender = formataddr((reminder.program.site.name, address))
    return EmailMessage(
        subject=rendered.subject,
        body=rendered.text,
        from_email=sender,
        to=[reminder.patient.email],
        headers={"Message-ID": reminder.message_id, "Auto-Submitted": "auto-generated"},
    )


def _deliver(reminder: Reminder, rendered: content.Rendered) -> str:
    """Hand the message to the provider; returns the provider's message id."""
    if reminder.channel == Channel.EMAIL:
        message = email_message(reminder, rendered)
        with get_connection() as smtp:
            smtp.send_messages([message])
        return reminder.message_id
    provider = sms.get_provider()
    return provider.send(to=reminder.patient.phone_mobile, body=rendered.sms, reference=str(reminder.public_id))


def process(reminder: Reminder, token: uuid.UUID, now: datetime) -> str:
    """Decide, send and mark one claimed reminder; returns "sent", "dropped", "deferred" or "failed"."""
    reason = targets.drop_reasons([reminder], now).get(reminder.pk) or channel_problem(reminder)
    if reason:
        return _drop(reminder, token, reason)
    pref = getattr(reminder.patient, "reminder_preference", None)
    quiet = policy.quiet_hours_for(pref, policy.policy_for(reminder.program))
    tz = reminder.program.tz()
    # The session may have moved since the planner ran: follow it before anything is said about it.
    event_at = targets.current_event_at(reminder)
    if reminder.kind == Kind.SESSION and event_at is not None and event_at != reminder.event_at:
        send_after = policy.deferred(event_at - timedelta(minutes=reminder.offset_minutes), quiet, tz)
        if send_after >= event_at:
            return _drop(reminder, token, R.QUIET_HOURS)
        if send_after > now:
            return _release(reminder, token, send_after, event_at=event_at)
        Reminder.objects.filter(_mine(reminder, token)).update(event_at=event_at)
        reminder.event_at = event_at
    quiet_end = policy.quiet_until(now, quiet, tz)
    if quiet_end is not None:
        if reminder.event_at is not None and quiet_end >= reminder.event_at:
            return _drop(reminder, token, R.QUIET_HOURS)
        return _release(reminder, token, quiet_end)
    if reminder.channel == Channel.SMS and not sms.get_provider().enabled:
        return _drop(reminder, token, R.SMS_DISABLED)
    rendered = content.render(targets.facts_for(reminder), now)
    try:
        message_id = _deliver(reminder, rendered)
    except Exception as exc:  # any provider failure: retry later, give up after max attempts
        logger.warning("reminder %s: send failed (%s)", reminder.public_id, type(exc).__name__)
        error = type(exc).__name__[:200]
        if reminder.attempts >= policy.max_attempts():
            _finish(reminder, token, status=S.FAILED, last_error=error)
            return "failed"
        _finish(reminder, token, status=S.PENDING, send_after=now + policy.retry_after(reminder.attempts),
                last_error=error)  # fmt: skip
        return "retry"
    # The at-least-once window is from the provider's acceptance to this commit: nothing else runs in between.
    _finish(reminder, token, status=S.SENT, sent_at=timezone.now(), provider_message_id=message_id[:200])
    return "sent"


def send_due(now: datetime | None = None, limit: int = 1000) -> dict[str, int]:
    """Send every reminder due now, one claim at a time; returns counts by outcome."""
    counts = {"sent": 0, "dropped": 0, "deferred": 0, "retry": 0, "failed": 0}
    handled = 0
    lost = 0
    while handled < limit and lost < limit:
        current = now or timezone.now()
        claim = claim_next(current)
        if claim is None:
            break
        if claim is False:
            lost += 1
            continue
        reminder, token = claim
        counts[process(reminder, token, current)] += 1
        handled += 1
    return counts
