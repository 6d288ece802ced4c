"""Fixtures for the reminders tests: opted-in patients, a real SMTP server that can kill a sender, an SMS stub."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from openiop.patients.models import Patient
from openiop.reminders.actions import do_set_reminder_preferences
from openiop.testing.fixtures import Clinic


def opt_in(patient: Patient, user: Any, *, email: bool = True, sms: bool = False, **quiet: Any) -> None:
    do_set_reminder_preferences(patient, acting_user=user, email_opt_in=email, sms_opt_in=sms, **quiet)


@pytest.fixture
def su_patient(clinic: Clinic) -> Patient:
    """A patient of the substance-use program (42 CFR Part 2)."""
    from openiop.testing.fixtures import make_patient

    return make_patient(clinic, clinic.su, legal_first_name="Casey", legal_last_name="Morrow")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Inbox:
    """What a real local SMTP server (aiosmtpd) received. ``kill_on_mail`` SIGKILLs ``kill_pid`` when the Nth
    MAIL FROM arrives, before that message's DATA, so the sender dies holding a claimed reminder."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    mail_count: int = 0
    kill_on_mail: int | None = None
    kill_pid: int | None = None
    data_delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]


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
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.inbox.lock:
            self.inbox.messages.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_inbox(settings) -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller

    inbox = Inbox(host="127.0.0.1", port=_free_port())
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


@dataclass
class SmsStub:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def sms_stub(settings) -> Iterator[SmsStub]:
    """A local HTTP server standing in for the SMS provider; the sender is configured to post to it."""
    stub = SmsStub(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            stub.requests.append({"path": self.path, "headers": headers, "json": json.loads(body or b"{}")})
            self.send_response(stub.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            if stub.status < 300:
                self.wfile.write(json.dumps({"id": f"msg-{len(stub.requests)}"}).encode())

        def log_message(self, *args: Any) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/v1/messages"
    settings.SMS_PROVIDER = "http"
    settings.SMS_API_URL = stub.url
    settings.SMS_API_KEY = "test-key-123"
    settings.SMS_API_KEY_HEADER = "X-API-Key"
    settings.SMS_FROM = "+15550100"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
