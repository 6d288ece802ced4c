"""Exactly once across processes: real ``manage.py send_reminders`` subprocesses against the test database and a
real SMTP server. Two senders at once deliver every reminder once; a sender SIGKILLed mid-batch loses nothing, and
the next run delivers the rest, each once."""

from __future__ import annotations

import os
import subprocess
import sys
import time as clock
from collections import Counter
from datetime import time, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from openiop.reminders.models import Reminder
from openiop.reminders.planner import plan_reminders
from openiop.reminders.tests.conftest import opt_in
from openiop.testing.scheduling import make_booking, make_session
from openiop.testing.smtp import Inbox

pytestmark = [pytest.mark.process, pytest.mark.django_db(transaction=True)]
S = Reminder.Status
PROJECT = settings.BASE_DIR.parent


def _sender(inbox: Inbox, lease_seconds: int = 300) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "openiop.reminders.tests.process_settings",
        "REMINDERS_TEST_DB": str(connection.settings_dict["NAME"]),
        "REMINDERS_TEST_LEASE_SECONDS": str(lease_seconds),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": inbox.host,
        "EMAIL_PORT": str(inbox.port),
        "DB_CONN_MAX_AGE": "0",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "send_reminders"],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out + err


def _due_reminders(clinic, patient, count: int) -> list[Reminder]:
    """``count`` sessions starting 90 minutes from now (a minute apart): their 2-hour reminders are due now."""
    opt_in(patient, clinic.clinician, email=True, quiet_start=time(0), quiet_end=time(0))
    base = timezone.now() + timedelta(minutes=90)
    for index in range(count):
        make_booking(make_session(clinic.mh, base + timedelta(minutes=index), minutes=1), patient)
    plan_reminders()
    rows = list(Reminder.objects.filter(status=S.PENDING, send_after__lte=timezone.now()))
    assert len(rows) == count
    return rows


def _expected_ids(rows: list[Reminder]) -> set[str]:
    return {r.message_id for r in rows}


def test_two_senders_at_once_deliver_every_reminder_exactly_once(clinic, patient, smtp_inbox):
    rows = _due_reminders(clinic, patient, 12)
    smtp_inbox.data_delay = 0.05  # each message takes a moment, so the two senders overlap
    first, second = _sender(smtp_inbox), _sender(smtp_inbox)
    results = [_finish(first), _finish(second)]
    assert [code for code, _ in results] == [0, 0], results
    received = Counter(smtp_inbox.message_ids())
    assert set(received) == _expected_ids(rows)
    assert set(received.values()) == {1}
    assert set(Reminder.objects.values_list("status", flat=True)) == {S.SENT}


def test_a_sender_killed_mid_batch_loses_nothing_and_the_next_run_sends_each_once(clinic, patient, smtp_inbox):
    rows = _due_reminders(clinic, patient, 6)
    smtp_inbox.kill_on_mail = 3  # dies as the third message starts, holding its claim
    proc = _sender(smtp_inbox, lease_seconds=2)
    smtp_inbox.kill_pid = proc.pid
    code, output = _finish(proc)
    assert code == -9, output
    assert len(smtp_inbox.messages) == 2
    statuses = Counter(Reminder.objects.values_list("status", flat=True))
    assert statuses == {S.SENT: 2, S.SENDING: 1, S.PENDING: 3}
    held = Reminder.objects.get(status=S.SENDING)
    assert held.lease_until is not None
    # Wait (bounded) until the dead sender's lease has run out; then the next run may take the reminder back.
    deadline = clock.monotonic() + 30
    while timezone.now() <= held.lease_until and clock.monotonic() < deadline:
        clock.sleep(0.2)
    smtp_inbox.kill_on_mail = None
    code, output = _finish(_sender(smtp_inbox, lease_seconds=2))
    assert code == 0, output
    received = Counter(smtp_inbox.message_ids())
    assert set(received) == _expected_ids(rows)
    assert set(received.values()) == {1}
    assert set(Reminder.objects.values_list("status", flat=True)) == {S.SENT}
    held.refresh_from_db()
    assert held.attempts == 2
