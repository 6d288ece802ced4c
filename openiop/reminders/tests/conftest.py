"""Fixtures for the reminders tests: opted-in patients, a real SMTP server that can kill a sender, an SMS stub."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
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
