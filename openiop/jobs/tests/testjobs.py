"""Jobs and tasks for the jobs app's own tests, importable by the worker subprocesses too.

Every execution is a row in ``jobs_test_probe`` (a plain table the tests create and drop, with no unique key, so
a slot run twice shows twice). A job blocks while the file named by ``JOBS_TEST_BLOCK_FILE`` exists, so a test
can kill its worker in the middle of a run.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from django.db import connection
from django_tasks import task

from openiop.jobs.periodic import PeriodicJob, current_run

PROBE = "jobs_test_probe"
SECOND = timedelta(seconds=1)


def create_probe() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PROBE}")
        cursor.execute(f"CREATE TABLE {PROBE} (job varchar(80), slot varchar(40), pid integer, phase varchar(10))")


def drop_probe() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PROBE}")


def probe_rows() -> list[tuple[str, str, int, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT job, slot, pid, phase FROM {PROBE}")
        return [tuple(row) for row in cursor.fetchall()]


def _probe(job: str, slot: str, phase: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PROBE} (job, slot, pid, phase) VALUES (%s, %s, %s, %s)",
            [job, slot, os.getpid(), phase],
        )


def _block(job: str, slot: str) -> None:
    flag = os.environ.get("JOBS_TEST_BLOCK_FILE")
    if flag and Path(flag).exists():
        _probe(job, slot, "blocked")
        deadline = time.monotonic() + 120  # bounded: never outlive a forgotten test
        while Path(flag).exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def record() -> dict[str, int]:
    """A periodic job: start, maybe block, end; each a probe row."""
    run = current_run()
    assert run is not None
    slot = run.slot.isoformat()
    _probe(run.job, slot, "start")
    _block(run.job, slot)
    time.sleep(float(os.environ.get("JOBS_TEST_JOB_SECONDS", "0")))
    _probe(run.job, slot, "end")
    return {"recorded": 1}


def reminders_stand_in() -> dict[str, int]:
    """Stands for openiop.reminders.jobs.run_reminders (another app's), which these tests never call."""
    return {"sent": 0}


PATIENT = ("Jordan", "Rivera")


def boom() -> None:
    # A message with a name in it (built at run time, so only the message could carry it into a traceback): it
    # must be neither stored nor logged.
    raise ValueError(" ".join(PATIENT) + " missed group")


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
def fail() -> None:
    boom()


@task()
def blocking_task(token: str) -> str:
    _probe("task", token, "start")
    _block("task", token)
    _probe("task", token, "end")
    return token


# What the worker subprocesses schedule: three one-second jobs (so two workers contend for every slot).
PROCESS_JOBS = tuple(
    PeriodicJob(name, "openiop.jobs.tests.testjobs.record", "test", every=SECOND, lease=2 * SECOND, catch_up=1000)
    for name in ("tick_a", "tick_b", "tick_c")
)
KILL_JOBS = (
    PeriodicJob("tick", "openiop.jobs.tests.testjobs.record", "test", every=SECOND, lease=2 * SECOND, catch_up=1000),
)
