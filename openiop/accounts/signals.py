"""Sign-in events into the audit trail, from Django's auth signals and django-axes' lockout signal.

A failed attempt is recorded without an actor (nobody is signed in, and it may not be the account owner)
and names the account by its public id only when it exists; the typed username is never stored, since a
password typed into the wrong box would land in the audit trail.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from openiop.accounts.middleware import EXPIRED_ATTR, start_session_clock
from openiop.core import audit
from openiop.core.models import AuditAction


def _existing_user(username: object) -> Any:
    if not isinstance(username, str) or not username:
        return None
    model = get_user_model()
    return model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()


def _record_attempt(action: AuditAction, username: object) -> None:
    user = _existing_user(username)
    audit.record(
        action=action,
        acting_user=None,
        obj=user,
        object_type="user",
        organization_id=user.organization_id if user is not None else None,
    )


@receiver(user_logged_in, dispatch_uid="openiop_accounts_logged_in")
def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        start_session_clock(request)
    audit.record(action=AuditAction.LOGIN, acting_user=user, obj=user)


@receiver(user_logged_out, dispatch_uid="openiop_accounts_logged_out")
def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None or getattr(request, EXPIRED_ATTR, False):
        return
    audit.record(action=AuditAction.LOGOUT, acting_user=user, obj=user)


@receiver(user_login_failed, dispatch_uid="openiop_accounts_login_failed")
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    _record_attempt(AuditAction.LOGIN_FAILED, credentials.get(get_user_model().USERNAME_FIELD))


@receiver(user_locked_out, dispatch_uid="openiop_accounts_locked_out")
def on_locked_out(sender: Any, request: HttpRequest | None = None, username: str | None = None, **kwargs: Any) -> None:
    _record_attempt(AuditAction.LOCKED_OUT, username)
