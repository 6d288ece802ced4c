"""Reads for the signed-in user's own account pages."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core.models import AuditAction, AuditEvent

SIGN_IN_ACTIONS = (
    AuditAction.LOGIN,
    AuditAction.LOGIN_FAILED,
    AuditAction.LOGOUT,
    AuditAction.LOCKED_OUT,
    AuditAction.SESSION_EXPIRED,
    AuditAction.MFA_ENROLLED,
    AuditAction.MFA_VERIFIED,
    AuditAction.MFA_FAILED,
    AuditAction.MFA_RESET,
    AuditAction.PASSWORD_CHANGED,
)
SIGN_IN_HISTORY_DAYS = 90


def recent_sign_in_events(user: User, limit: int = 20) -> QuerySet[AuditEvent]:
    """The user's own sign-in and account-security events, newest first.

    Matched on the account the event is about (failed attempts have no actor), never on other people's
    rows; the date bound lets the database use the occurred_at index on a large trail.
    """
    since = timezone.now() - timedelta(days=SIGN_IN_HISTORY_DAYS)
    return AuditEvent.objects.filter(
        object_type="user",
        object_id=str(user.public_id),
        action__in=SIGN_IN_ACTIONS,
        occurred_at__gte=since,
    ).order_by("-occurred_at", "-chain_index")[:limit]
