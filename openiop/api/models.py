from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from openiop.core.models import BaseModel

TOKEN_PREFIX = "oiop_"  # noqa: S105 (a public marker, not a secret)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(BaseModel):
    """A bearer token for another system acting as a staff user. Only its hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses it, e.g. 'data warehouse'.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False, help_text="First characters, to tell tokens apart.")
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Empty: a system of the clinic itself (its own warehouse, scripts). Otherwise the outside party the token's
    # reads go to, in the consent check's spelling (treating_provider, payer, provider:<organization>[|<name>]):
    # every patient record such a token reads must be covered by a consent and goes on the patient's accounting of
    # disclosures (api/disclosures.py).
    recipient = models.CharField(max_length=250, blank=True)
    recipient_name = models.CharField(max_length=250, blank=True, help_text="Name and address, as the patient is told.")
    purpose = models.CharField(max_length=20, blank=True, default="treatment")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @staticmethod
    def generate() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)

    @property
    def is_external(self) -> bool:
        return bool(self.recipient)

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None or not self.user.is_active:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
