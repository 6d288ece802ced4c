"""End to end through the real worker: `openiop worker` subprocesses run the periodic reminders job against the
test database and a real SMTP server. Two workers at once, or a worker SIGKILLed in the middle of a batch and a new
one started, deliver every reminder exactly once and skip none.

test_processes proves the same of the sender called directly; this proves it of the scheduler, the task queue and
the worker an operator actually runs. Waits are bounded loops on what the inbox shows, never timing assertions.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time as clock
from collections import Counter
from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path

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
WAIT = 180.0  # the ceiling of every wait: a worker takes a few seconds to start on a busy machine


class Workers:
    def __init__(self, tmp: Path, inbox: Inbox) -> None:
        self.tmp = tmp
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "openiop.reminders.tests.worker_settings",
            "JOBS_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
            "REMINDERS_TEST_LEASE_SECONDS": "2",
            "TASKS_BACKEND": "database",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": inbox.host,
            "EMAIL_PORT": str(inbox.port),
            "DB_CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
        }
        self.procs: list[subprocess.Popen] = []

    def start(self, name: str) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("w")
        command = [
            sys.executable,
            "manage.py",
            "worker",
            "--worker-id",
            name,
            "--poll",
            "0.1",
            "--scheduler-every",
            "0.2",
        ]
        proc = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py, fixed arguments)
            command, cwd=settings.PROJECT_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.tmp.glob("*.log")))

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


@pytest.fixture
def workers(tmp_path, smtp_inbox) -> Iterator[Workers]:
    w = Workers(tmp_path, smtp_inbox)
    yield w
    w.stop_all()


def _due_reminders(clinic, patient, count: int) -> set[str]:
    """``count`` sessions starting 90 minutes from now: their 2-hour reminders are due at once."""
    opt_in(patient, clinic.clinician, email=True, quiet_start=time(0), quiet_end=time(0))
    base = timezone.now() + timedelta(minutes=90)
    for index in range(count):
        make_booking(make_session(clinic.mh, base + timedelta(minutes=index), minutes=1), patient)
    plan_reminders()
    rows = list(Reminder.objects.filter(status=S.PENDING, send_after__lte=timezone.now()))
    assert len(rows) == count
    return {r.message_id for r in rows}


def _wait_for(what: str, condition, procs: list[subprocess.Popen], w: Workers) -> None:
    deadline = clock.monotonic() + WAIT
    while clock.monotonic() < deadline:
        if condition():
            return
        if procs and all(p.poll() is not None for p in procs):
            pytest.fail(f"every worker exited waiting for {what}\n{w.logs()}")
        clock.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}\n{w.logs()}")


def _stop(procs: list[subprocess.Popen]) -> list[int]:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    return [proc.wait(timeout=60) for proc in procs]


def test_two_workers_at_once_deliver_every_reminder_exactly_once(clinic, patient, smtp_inbox, workers):
    expected = _due_reminders(clinic, patient, 12)
    smtp_inbox.data_delay = 0.3  # a batch outlasts its one-second slot, so the two workers' runs overlap
    procs = [workers.start("worker-a"), workers.start("worker-b")]
    _wait_for("every reminder", lambda: set(smtp_inbox.message_ids()) >= expected, procs, workers)
    _wait_for("the outbox to settle", lambda: not Reminder.objects.exclude(status=S.SENT).exists(), procs, workers)
    assert _stop(procs) == [0, 0], workers.logs()
    received = Counter(smtp_inbox.message_ids())
    assert set(received) == expected
    assert set(received.values()) == {1}, [m for m, n in received.items() if n > 1]


def test_a_worker_killed_mid_batch_and_a_new_one_deliver_every_reminder_exactly_once(
    clinic, patient, smtp_inbox, workers
):
    expected = _due_reminders(clinic, patient, 6)
    smtp_inbox.kill_on_mail = 3  # the first worker dies as the third message starts, holding its claim
    first = workers.start("first")
    smtp_inbox.kill_pid = first.pid
    assert first.wait(timeout=WAIT) == -signal.SIGKILL, workers.logs()
    assert len(smtp_inbox.messages) == 2
    assert Reminder.objects.filter(status=S.SENDING).count() == 1
    smtp_inbox.kill_on_mail = None
    second = workers.start("second")
    _wait_for("every reminder", lambda: set(smtp_inbox.message_ids()) >= expected, [second], workers)
    _wait_for("the outbox to settle", lambda: not Reminder.objects.exclude(status=S.SENT).exists(), [second], workers)
    assert _stop([second]) == [0], workers.logs()
    received = Counter(smtp_inbox.message_ids())
    assert set(received) == expected
    assert set(received.values()) == {1}, [m for m, n in received.items() if n > 1]
