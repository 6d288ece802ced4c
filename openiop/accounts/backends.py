"""The password backend, loading the signed-in user with what the second-factor gate asks of every request."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts import mfa
from openiop.accounts.models import User


class UserBackend(ModelBackend):
    """Django's ModelBackend, but the session's user comes with "has a confirmed authenticator app" read in the same
    statement (an EXISTS subquery), so the MFA gate of a user who has not passed the second step costs no query of
    its own. Read on every request, never cached, so adding or removing a device takes effect on the next one."""

    def get_user(self, user_id: Any) -> User | None:
        confirmed = TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True)
        try:
            user = User._default_manager.annotate(**{mfa.HAS_TOTP_ATTR: Exists(confirmed)}).get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
