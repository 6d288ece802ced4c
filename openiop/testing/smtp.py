"""The one SMTP server for tests: a real aiosmtpd server on a local port, with Django's SMTP backend pointed at it.

Mail then goes through the same code path as in production (template, headers, the SMTP conversation), and tests
read the messages as a mail client would parse them. The reminders' process tests also make it SIGKILL a sender
in the middle of a batch (``kill_on_mail``) or answer slowly (``data_delay``).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest

HOST = "127.0.0.1"


@dataclass
class Inbox:
    """What the server received. ``kill_on_mail`` SIGKILLs ``kill_pid`` when the Nth MAIL FROM arrives, before that
    message's DATA, so the sender dies holding a claimed reminder; ``data_delay`` holds each DATA for that long."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[dict[str, Any]] = field(default_factory=list)
    mail_count: int = 0
    kill_on_mail: int | None = None
    kill_pid: int | None = None
    data_delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Notified on each message, so wait_for wakes when the message arrives instead of polling.
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages once there are at least ``count``; fails after ``timeout`` seconds."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout):
                raise AssertionError(f"expected {count} message(s), got {len(self.messages)}")
            return list(self.messages)


class _Handler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, mail_options: list) -> str:
        inbox = self.inbox
        with inbox.lock:
            inbox.mail_count += 1
            kill = inbox.kill_on_mail is not None and inbox.mail_count == inbox.kill_on_mail
        if kill and inbox.kill_pid:
            os.kill(inbox.kill_pid, signal.SIGKILL)
            return "421 Shutting down"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.inbox.data_delay:
            await asyncio.sleep(self.inbox.data_delay)
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self.inbox.arrived:
            self.inbox.envelopes.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos)})
            self.inbox.messages.append(message)
            self.inbox.arrived.notify_all()
        return "250 Message accepted for delivery"


def free_port() -> int:
    # aiosmtpd checks readiness by connecting to the port it was given, so it needs a real one, not 0.
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_inbox(settings) -> Iterator[Inbox]:
    """A real SMTP server on a free local port, with Django's SMTP backend pointed at it; stopped after the test."""
    from aiosmtpd.controller import Controller

    inbox = Inbox(host=HOST, port=free_port())
    controller = Controller(_Handler(inbox), hostname=inbox.host, port=inbox.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = inbox.host
    settings.EMAIL_PORT = inbox.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()
