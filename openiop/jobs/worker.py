"""The worker loop behind `openiop worker`: run queued tasks of whichever backend is configured, and run the
periodic scheduler, in one process. Any number may run at once, on one machine or several.

Each pass: every ``scheduler_every`` seconds a scheduler tick (``periodic.tick``: claim due slots, take back
expired leases) and the database backend's recovery (tasks a dead worker had claimed go back to the queue);
then one task, if any is ready; with none, a short wait. A thread beats the worker's heartbeat row meanwhile,
so a long task never makes its worker look dead. SIGTERM or SIGINT lets the current task finish and then exits;
a second one exits at once (an interrupted periodic slot is run again by another worker once its lease passes).

Nothing here logs patient data: tasks by id and dotted path, jobs by name and slot, errors by exception class.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from types import FrameType
from typing import Any

from django.conf import settings
from django.db import OperationalError, close_old_connections, connection
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import BaseTaskBackend, TaskContext, TaskResult, task_backends
from django_tasks.backends.dummy import DummyBackend
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks.signals import task_finished, task_started
from django_tasks.utils import get_module_path
from django_tasks_db.backend import DatabaseBackend

from openiop.jobs import periodic
from openiop.jobs.backends.redis import RedisBackend
from openiop.jobs.models import PeriodicRun, WorkerHeartbeat

logger = logging.getLogger("openiop.jobs")


class NoExceptionText(logging.Filter):
    """Drop tracebacks and exception messages from task log records (they can quote patient data); keep the
    exception's class. django-tasks logs a failed task with ``logger.exception``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is not None:
            record.msg = f"{record.msg} ({record.exc_info[0].__name__})"
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_task_logs() -> None:
    for name in ("django_tasks", "django_tasks_db", "openiop.jobs"):
        log = logging.getLogger(name)
        if not any(isinstance(f, NoExceptionText) for f in log.filters):
            log.addFilter(NoExceptionText())


def _setting(name: str) -> float:
    return float(settings.OPENIOP_DEFAULTS[name])


class _Every:
    """Call ``action`` from a daemon thread every ``seconds`` until stopped (its own database connection)."""

    def __init__(self, seconds: float, action: Callable[[], Any], name: str) -> None:
        self._stop = threading.Event()
        self._seconds = seconds
        self._action = action
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self._seconds):
                try:
                    self._action()
                except Exception as exc:  # a busy database or Redis: try again next time
                    logger.warning("%s: %s", self._thread.name, type(exc).__name__)
        finally:
            connection.close()

    def __enter__(self) -> _Every:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- Runners: how each backend's tasks are taken and run ----------------------------------------------------


class Runner:
    def __init__(self, backend: BaseTaskBackend, worker_id: str, queues: Iterable[str]) -> None:
        self.backend = backend
        self.worker_id = worker_id
        self.queues = sorted(queues)

    def run_one(self) -> bool:
        """Take one ready task and run it; False when there was none."""
        return False

    def recover(self) -> int:
        return 0


class DatabaseRunner(Runner):
    """django-tasks-db's own claim (row lock, skip locked; an exclusive transaction on SQLite) and run_task."""

    def __init__(self, backend: BaseTaskBackend, worker_id: str, queues: Iterable[str]) -> None:
        super().__init__(backend, worker_id, queues)
        from django_tasks_db.management.commands.db_worker import Worker as DbWorker

        self._db = DbWorker(
            queue_names=self.queues,
            interval=0,
            batch=False,
            backend_name=backend.alias,
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
        )

    def run_one(self) -> bool:
        from django_tasks_db.models import DBTaskResult
        from django_tasks_db.utils import exclusive_transaction

        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend.alias, queue_name__in=self.queues)
        try:
            with exclusive_transaction(tasks.db):
                result = tasks.get_locked()
                if result is not None:
                    result.claim(self.worker_id)
        except OperationalError as exc:
            if "locked" in str(exc):
                return False  # another worker holds the SQLite write lock; try again in a moment
            raise
        if result is None:
            return False
        self._db.run_task(result)
        return True

    def recover(self) -> int:
        """Put back in the queue the running tasks of workers whose heartbeat stopped (killed, machine lost)."""
        from django_tasks_db.models import DBTaskResult

        now = timezone.now()
        stale = now - timedelta(seconds=3 * _setting("jobs_heartbeat_seconds"))
        dead = set(
            WorkerHeartbeat.objects.filter(seen_at__lt=stale, stopped_at__isnull=True).values_list(
                "worker_id", flat=True
            )
        )
        if not dead:
            return 0
        requeued = 0
        running = DBTaskResult.objects.running().filter(backend_name=self.backend.alias)
        for row in running.only("id", "worker_ids", "started_at", "task_path"):
            if row.worker_ids and row.worker_ids[-1] in dead:
                same = DBTaskResult.objects.filter(pk=row.pk, status="RUNNING", started_at=row.started_at)
                if same.update(status="READY"):
                    requeued += 1
                    logger.warning(
                        "task %s %s: worker %s died; queued again", row.pk, row.task_path, row.worker_ids[-1]
                    )
        WorkerHeartbeat.objects.filter(worker_id__in=dead, stopped_at__isnull=True).update(stopped_at=now)
        return requeued


class RedisRunner(Runner):
    backend: RedisBackend

    def run_one(self) -> bool:
        result = self.backend.claim(self.worker_id, self.queues)
        if result is None:
            return False
        # Renew the visibility deadline while the task runs, so only a dead worker's task is delivered again.
        with _Every(self.backend.visibility_timeout / 3, lambda: self.backend.renew(result), f"renew-{result.id}"):
            execute(self.backend, result)
        return True


def execute(backend: RedisBackend, result: TaskResult) -> None:
    """Run a claimed task and store its outcome, sending django-tasks' started/finished signals."""
    sender = type(backend)
    try:
        task = result.task
        task_started.send(sender=sender, task_result=result)
        if task.takes_context:
            value = task.call(TaskContext(task_result=result), *result.args, **result.kwargs)
        else:
            value = task.call(*result.args, **result.kwargs)
        backend.set_successful(result, value)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        backend.set_failed(result, exc)
        # Inside the except block, as django-tasks-db does: its log line names the exception's class.
        task_finished.send(sender=sender, task_result=backend.get_result(result.id))
    else:
        task_finished.send(sender=sender, task_result=backend.get_result(result.id))


def runner_for(backend: BaseTaskBackend, worker_id: str, queues: Iterable[str]) -> Runner:
    if isinstance(backend, DatabaseBackend):
        return DatabaseRunner(backend, worker_id, queues)
    if isinstance(backend, RedisBackend):
        return RedisRunner(backend, worker_id, queues)
    if isinstance(backend, ImmediateBackend | DummyBackend):
        return Runner(backend, worker_id, queues)  # tasks run (or are dropped) where they are enqueued
    raise ValueError(f"openiop worker cannot run tasks of {get_module_path(type(backend))}")


# --- The worker -------------------------------------------------------------------------------------------------


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{get_random_string(6)}"


class Worker:
    def __init__(
        self,
        *,
        backend: str = "default",
        queues: Iterable[str] | None = None,
        poll: float = 1.0,
        scheduler: bool = True,
        scheduler_every: float = 5.0,
        once: bool = False,
        max_tasks: int | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.alias = backend
        self.backend = task_backends[backend]
        self.worker_id = worker_id or new_worker_id()
        self.runner = runner_for(self.backend, self.worker_id, queues or self.backend.queues)
        self.poll = poll
        self.scheduler = scheduler
        self.scheduler_every = scheduler_every
        self.once = once
        self.max_tasks = max_tasks
        self.tasks_run = 0
        self.ticks = 0
        self._stopping = threading.Event()

    # Signals: the first asks to stop after the current task; the second stops now.
    def install_signals(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping.is_set():
            logger.warning("worker %s: %s again, stopping now", self.worker_id, signal.Signals(signum).name)
            raise SystemExit(1)
        logger.info("worker %s: %s, stopping after the current task", self.worker_id, signal.Signals(signum).name)
        self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()

    def _beat(self) -> None:
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).update(
            seen_at=timezone.now(), tasks_run=self.tasks_run
        )

    def run(self) -> int:
        """Work until stopped (or, with ``once``, until the queue is empty; or ``max_tasks`` tasks). Returns the
        number of tasks run."""
        periodic.set_worker_id(self.worker_id)
        quiet_task_logs()
        now = timezone.now()
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "hostname": socket.gethostname()[:120],
                "pid": os.getpid(),
                "backend": get_module_path(type(self.backend))[:80],
                "started_at": now,
                "seen_at": now,
                "stopped_at": None,
            },
        )
        logger.info(
            "worker %s started: backend %s, queues %s, scheduler %s",
            self.worker_id,
            type(self.backend).__name__,
            ",".join(self.runner.queues),
            "on" if self.scheduler else "off",
        )
        next_tick = 0.0
        try:
            with _Every(_setting("jobs_heartbeat_seconds"), self._beat, f"beat-{self.worker_id}"):
                while not self._stopping.is_set():
                    if self.scheduler and time.monotonic() >= next_tick:
                        self._tick()
                        next_tick = time.monotonic() + self.scheduler_every
                    ran = self._run_one()
                    if self.max_tasks is not None and self.tasks_run >= self.max_tasks:
                        break
                    if ran:
                        continue
                    if self.once:
                        break
                    close_old_connections()
                    wait = self.poll if not self.scheduler else min(self.poll, max(0.0, next_tick - time.monotonic()))
                    self._stopping.wait(wait)
        finally:
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).update(
                seen_at=timezone.now(), stopped_at=timezone.now(), tasks_run=self.tasks_run
            )
            logger.info("worker %s stopped after %d task(s)", self.worker_id, self.tasks_run)
        return self.tasks_run

    def _tick(self) -> None:
        try:
            report = periodic.tick(backend=self.alias)
            self.ticks += 1
            if report.claimed or report.reclaimed or report.failed:
                logger.info(
                    "scheduler: %d slot(s) claimed, %d taken back, %d failed",
                    report.claimed,
                    report.reclaimed,
                    report.failed,
                )
            self.runner.recover()
            _prune()
        except OperationalError as exc:  # the database is busy or away: the next tick tries again
            logger.warning("scheduler: %s", type(exc).__name__)
            close_old_connections()

    def _run_one(self) -> bool:
        try:
            ran = self.runner.run_one()
        except OperationalError as exc:
            logger.warning("worker %s: %s while taking a task", self.worker_id, type(exc).__name__)
            close_old_connections()
            return False
        except Exception as exc:  # e.g. Redis away: wait and try again, never crash the worker
            logger.error("worker %s: %s while taking a task", self.worker_id, type(exc).__name__)
            return False
        if ran:
            self.tasks_run += 1
        return ran


_last_prune = 0.0
PRUNE_EVERY = 3600.0


def _prune() -> None:
    """Once an hour: drop finished periodic runs, finished database tasks and old heartbeats past the history."""
    global _last_prune
    if time.monotonic() - _last_prune < PRUNE_EVERY and _last_prune:
        return
    _last_prune = time.monotonic()
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - timedelta(days=_setting("jobs_history_days"))
    PeriodicRun.objects.filter(
        status__in=[PeriodicRun.Status.DONE, PeriodicRun.Status.FAILED], slot__lt=cutoff
    ).delete()
    DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    WorkerHeartbeat.objects.filter(seen_at__lt=cutoff).delete()
