"""Text messages behind one interface: ``get_provider()`` returns the configured ``SmsProvider``.

``SMS_PROVIDER=http`` posts JSON ``{"to", "from", "body", "reference"}`` to ``SMS_API_URL`` with the API key in the
``SMS_API_KEY_HEADER`` header and the reminder's public id as ``Idempotency-Key``, so a provider that honours it
drops a repeat of the same reminder. ``SMS_PROVIDER=disabled`` (the default) sends nothing and logs nothing: the
sender drops SMS reminders with a recorded reason instead. Settings are read at call time.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings


class SmsError(Exception):
    """The provider refused or could not be reached; the message says how, never what was sent."""


class SmsDisabled(SmsError):
    pass


class SmsProvider(Protocol):
    enabled: bool

    def send(self, *, to: str, body: str, reference: str) -> str:
        """Send one message; returns the provider's message id ("" when it gives none)."""
        ...


class DisabledSmsProvider:
    enabled = False

    def send(self, *, to: str, body: str, reference: str) -> str:
        raise SmsDisabled("SMS is not configured")


class HttpSmsProvider:
    enabled = True

    def __init__(self, *, url: str, api_key: str, key_header: str, sender: str, timeout: float) -> None:
        if not url.startswith(("https://", "http://")):
            raise SmsError("SMS_API_URL must be an http(s) URL")
        self.url = url
        self.api_key = api_key
        self.key_header = key_header
        self.sender = sender
        self.timeout = timeout

    def send(self, *, to: str, body: str, reference: str) -> str:
        payload = json.dumps({"to": to, "from": self.sender, "body": body, "reference": reference}).encode()
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            self.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Idempotency-Key": reference,
                self.key_header: self.api_key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise SmsError(f"HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(type(exc).__name__) from None
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return ""
        if not isinstance(data, dict):
            return ""
        return str(data.get("id") or data.get("message_id") or "")[:200]


def get_provider() -> SmsProvider:
    kind = getattr(settings, "SMS_PROVIDER", "disabled")
    if kind == "http":
        return HttpSmsProvider(
            url=settings.SMS_API_URL,
            api_key=settings.SMS_API_KEY,
            key_header=settings.SMS_API_KEY_HEADER,
            sender=settings.SMS_FROM,
            timeout=float(settings.SMS_TIMEOUT),
        )
    if kind != "disabled":
        raise SmsError(f"Unknown SMS_PROVIDER {kind!r}: use 'http' or 'disabled'")
    return DisabledSmsProvider()
