"""Real `openiop worker` processes against the test database (SQLite file or PostgreSQL, whichever the suite runs
on) and the real Redis: two schedulers at once, a worker SIGKILLed in the middle of a job and a new one started,
a SIGTERM that lets the running task finish. Every execution is a row in the probe table, which has no unique
key, so a slot run twice would show twice.

The workers get the test database's name in JOBS_TEST_DB_NAME (worker_settings.py); the tests commit for real
(transaction=True) so the processes see each other's rows. Waits are bounded loops on what the probe shows;
nothing asserts on time taken.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tasks import TaskResultStatus

from openiop.jobs.models import PeriodicRun
from openiop.jobs.tests import testjobs
from openiop.jobs.tests.conftest import REDIS_URL

pytestmark = [pytest.mark.process, pytest.mark.django_db(transaction=True)]

WAIT = 180.0  # seconds: the ceiling of every wait (a worker process takes a few seconds to start on a busy machine)


class Workers:
    def __init__(self, tmp: Path, extra_env: dict[str, str]) -> None:
        self.tmp = tmp
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "openiop.jobs.tests.worker_settings",
            "JOBS_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
            "JOBS_TEST_BLOCK_FILE": str(tmp / "block"),
            "DB_CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        self.procs: list[subprocess.Popen] = []

    def start(self, name: str, *args: str) -> subprocess.Popen:
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
            [*command, *args],
            cwd=settings.PROJECT_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text()

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


@pytest.fixture
def workers(tmp_path) -> Iterator[Callable[..., Workers]]:
    testjobs.create_probe()
    made: list[Workers] = []

    def make(**env: str) -> Workers:
        made.append(Workers(tmp_path, env))
        return made[-1]

    yield make
    for w in made:
        w.stop_all()
    testjobs.drop_probe()


def wait_for(what: str, condition: Callable[[], bool], procs: list[subprocess.Popen], w: Workers) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():
            return
        for proc in procs:
            if proc.poll() is not None:
                names = " ".join(p.name for p in w.tmp.glob("*.log"))
                pytest.fail(f"a worker exited ({proc.returncode}) waiting for {what}; logs: {names}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def rows(phase: str) -> list[tuple[str, str, int, str]]:
    return [r for r in testjobs.probe_rows() if r[3] == phase]


def slots_of(job: str, phase: str = "end") -> Counter[str]:
    return Counter(r[1] for r in rows(phase) if r[0] == job)


def contiguous(counter: Counter[str]) -> list[str]:
    """Every one-second slot from the first to the last seen, as ISO strings."""
    from datetime import datetime, timedelta

    seen = sorted(datetime.fromisoformat(s) for s in counter)
    span = int((seen[-1] - seen[0]).total_seconds())
    return [(seen[0] + timedelta(seconds=i)).isoformat() for i in range(span + 1)]


def test_two_workers_run_every_slot_of_every_job_exactly_once(workers):
    w = workers(JOBS_TEST_REGISTRY="openiop.jobs.tests.testjobs.PROCESS_JOBS", JOBS_TEST_JOB_SECONDS="0.2")
    procs = [w.start("worker-a"), w.start("worker-b")]
    wanted = 8
    wait_for(
        f"{wanted} slots of each job",
        lambda: all(len(slots_of(j)) >= wanted for j in ("tick_a", "tick_b", "tick_c")),
        procs,
        w,
    )
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    assert [proc.wait(timeout=60) for proc in procs] == [0, 0]
    ran_by: Counter[int] = Counter()
    for job in ("tick_a", "tick_b", "tick_c"):
        ends = slots_of(job)
        assert set(ends) == set(contiguous(ends)), f"{job}: a slot was skipped"
        assert max(ends.values()) == 1, f"{job}: a slot ran twice: {[s for s, n in ends.items() if n > 1]}"
        assert slots_of(job, "start") == ends  # and none was started twice either
        ran_by.update(r[2] for r in rows("end") if r[0] == job)
    assert PeriodicRun.objects.exclude(status=PeriodicRun.Status.DONE).filter(attempts__gt=0).count() == 0
    slots = len(slots_of("tick_a"))
    print(f"two workers: {sum(ran_by.values())} executions over {slots} slots x 3 jobs, by pid {dict(ran_by)}")


def test_a_worker_killed_mid_job_loses_no_slot_and_reruns_no_finished_one(workers):
    w = workers(JOBS_TEST_REGISTRY="openiop.jobs.tests.testjobs.KILL_JOBS")
    block = w.tmp / "block"
    first = w.start("first")
    wait_for("3 slots done by the first worker", lambda: len(slots_of("tick")) >= 3, [first], w)
    block.touch()
    wait_for("a run to block", lambda: bool(rows("blocked")), [first], w)
    interrupted = rows("blocked")[0][1]
    done_before = set(slots_of("tick"))
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    block.unlink()
    second = w.start("second")
    wait_for(
        "the interrupted slot and 3 more done by the second worker",
        lambda: interrupted in slots_of("tick") and len([s for s in slots_of("tick") if s > interrupted]) >= 3,
        [second],
        w,
    )
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=60) == 0

    ends = slots_of("tick")
    starts = slots_of("tick", "start")
    assert set(ends) == set(contiguous(ends)), "a slot was skipped"
    assert max(ends.values()) == 1, "a slot ran to the end twice"
    assert starts[interrupted] == 2  # started by the killed worker, run again by the new one
    assert {r[2] for r in rows("end") if r[1] == interrupted} == {second.pid}
    assert all(starts[s] == 1 for s in done_before), "a slot the killed worker finished was run again"
    run = PeriodicRun.objects.get(job="tick", slot=interrupted)
    assert (run.status, run.attempts) == (PeriodicRun.Status.DONE, 2)
    assert "stopped renewing" in w.log("second")
    print(f"kill: {len(ends)} slots, {len(done_before)} done before the kill, slot {interrupted} interrupted")


def test_redis_delivers_a_killed_workers_task_again_and_sigterm_lets_a_task_finish(workers, redis_tasks, redis_prefix):
    w = workers(
        TASKS_BACKEND="redis",
        REDIS_URL=REDIS_URL,
        REDIS_TASKS_PREFIX=redis_prefix,
        TASKS_VISIBILITY_TIMEOUT="2",
        JOBS_TEST_REGISTRY="openiop.jobs.tests.testjobs.KILL_JOBS",
    )
    block = w.tmp / "block"
    block.touch()
    token = uuid.uuid4().hex
    result = testjobs.blocking_task.enqueue(token)
    first = w.start("first", "--no-scheduler")
    wait_for("the task to block", lambda: bool(rows("blocked")), [first], w)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    # The second worker takes it again once the killed one's deadline (2 s, never renewed) has passed; this time
    # it blocks too, and SIGTERM must let it finish before the worker exits.
    second = w.start("second", "--no-scheduler")
    wait_for("the task to be delivered again", lambda: len(rows("blocked")) == 2, [second], w)
    second.send_signal(signal.SIGTERM)
    time.sleep(0.5)  # the signal arrives while the task runs; the worker must wait for it, not leave
    assert second.poll() is None
    block.unlink()
    assert second.wait(timeout=60) == 0
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL and result.return_value == token
    assert result.worker_ids == ["first", "second"]
    assert [r[2] for r in rows("end")] == [second.pid]
    assert "stopping after the current task" in w.log("second")
