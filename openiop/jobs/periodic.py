"""Periodic jobs: the registry, their slots, the scheduler every worker runs, and the task that runs one slot.

A job's time is cut into *slots*: every ``every`` (aligned to the epoch, so every worker computes the same
slots), or once a day at ``jobs_daily_hour`` in ``jobs_time_zone``. Each slot runs once:

1. Claim. Each worker's scheduler (``tick``) inserts a ``PeriodicRun`` row for every slot that is due and newer
   than the job's newest row. The unique (job, slot) constraint lets exactly one worker's insert through; that
   worker enqueues ``run_periodic(run_id)`` on the configured django-tasks backend. The row is *queued* with a
   lease (``jobs_queue_lease_seconds``).
2. Run. Whichever worker takes the task moves the row from queued to running with a conditional UPDATE (a
   duplicate delivery finds it running or done and does nothing), calls the job, and renews the lease
   (``jobs_lease_seconds``) from a small thread while the job runs. Done or failed is written only while the
   lease is still this worker's.
3. Recover. A row whose lease has passed (its task was lost, or its worker was killed mid-run and stopped
   renewing) is taken back by any scheduler with a conditional UPDATE and enqueued again; so is a failed run
   that has attempts left, after its ``retry_delay``. After ``max_attempts`` starts the slot is marked failed.

So a slot is never run twice *to completion* by two workers at once, and never skipped; but a run that was
interrupted is started again from the beginning. **Contract for job functions:** they take no arguments (read
``current_run()`` for the slot if needed), are idempotent (running a slot again, or late, or a slot after a
failed one, changes nothing twice: the existing ones claim rows or use unique trigger keys), are safe to run
concurrently with themselves, return counts (``dict[str, int]``, an ``int`` or ``None``), never records, and
never put patient data into exceptions they expect to raise (only the exception class is kept anyway).

After a long outage only the newest ``catch_up`` missed slots run (``jobs_catch_up_slots``); older ones are
logged as missed: every job here acts on the state of the world now, so running 600 missed minute-slots in a
row would do the same work 600 times.
"""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task

from openiop.jobs.models import PeriodicRun

logger = logging.getLogger("openiop.jobs")

Status = PeriodicRun.Status
ERROR_MAX = 300  # PeriodicRun.error max_length


def _default(name: str) -> Any:
    return settings.OPENIOP_DEFAULTS[name]


# --- Who is running ---------------------------------------------------------------------------------------------

_worker_id = ""


def worker_id() -> str:
    """This process's name in leases and heartbeats: host:pid, or what the worker command set."""
    return _worker_id or f"{socket.gethostname()}:{os.getpid()}"


def set_worker_id(value: str) -> None:
    global _worker_id
    _worker_id = value


# --- The registry -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodicJob:
    name: str  # stable: it is stored in PeriodicRun.job
    path: str  # dotted path of the function, imported when the slot runs (a broken import fails that job only)
    description: str
    every: timedelta | None = None  # None: once a day at jobs_daily_hour
    max_attempts: int = 3  # starts per slot, counting one a killed worker made
    retry_delay: timedelta = timedelta(minutes=1)
    lease: timedelta | None = None  # None: jobs_lease_seconds
    catch_up: int | None = None  # None: jobs_catch_up_slots

    @property
    def daily(self) -> bool:
        return self.every is None

    @property
    def schedule_label(self) -> str:
        if self.every is None:
            return f"daily at {int(_default('jobs_daily_hour')):02d}:00 ({daily_zone().key})"
        seconds = int(self.every.total_seconds())
        for unit, size in (("hour", 3600), ("minute", 60)):
            if seconds % size == 0:
                n = seconds // size
                return f"every {unit}" if n == 1 else f"every {n} {unit}s"
        return f"every {seconds} s"

    def lease_length(self) -> timedelta:
        return self.lease or timedelta(seconds=float(_default("jobs_lease_seconds")))

    def catch_up_slots(self) -> int:
        return max(1, int(self.catch_up or _default("jobs_catch_up_slots")))

    def slot_at(self, now: datetime) -> datetime:
        """The start of the slot holding ``now`` (the newest slot that has begun)."""
        if self.every is not None:
            size = self.every.total_seconds()
            return datetime.fromtimestamp((now.timestamp() // size) * size, UTC)
        tz = daily_zone()
        local = now.astimezone(tz)
        start = _daily_start(local.date(), tz)
        if start > now:
            start = _daily_start(local.date() - timedelta(days=1), tz)
        return start

    def next_slot(self, slot: datetime) -> datetime:
        if self.every is not None:
            return slot + self.every
        tz = daily_zone()
        return _daily_start(slot.astimezone(tz).date() + timedelta(days=1), tz)

    def due_slots(self, last: datetime | None, now: datetime) -> tuple[list[datetime], int]:
        """Slots after ``last`` that have begun by ``now``, oldest first, at most ``catch_up`` of them; and how
        many older ones were left out. With no row yet, only the current slot (no history before the job)."""
        current = self.slot_at(now)
        if last is None:
            return [current], 0
        keep = self.catch_up_slots()
        if self.every is not None:
            count = max(0, round((current - last) / self.every))
            missed = max(0, count - keep)
            return [last + self.every * i for i in range(missed + 1, count + 1)], missed
        slots = []
        slot = self.next_slot(last)
        while slot <= current:
            slots.append(slot)
            slot = self.next_slot(slot)
        missed = max(0, len(slots) - keep)
        return slots[missed:], missed


def daily_zone() -> ZoneInfo:
    return ZoneInfo(str(_default("jobs_time_zone") or settings.TIME_ZONE))


def _daily_start(day: Any, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(int(_default("jobs_daily_hour"))), tzinfo=tz).astimezone(UTC)


MINUTE = timedelta(minutes=1)

# The jobs the worker schedules. Intervals: what cannot wait (an unacknowledged safety alert, a reminder, a seat
# offer running out, a billable day whose queued decision was lost) every minute; the dose watch every 15 minutes
# (attendance is taken through the day); note deadlines hourly (crisis notes are due in hours); the rest once a day,
# early, before the clinic opens.
DEFAULT_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob(
        "escalate_alerts",
        "openiop.jobs.builtin.escalate_alerts",
        "Email the on-call clinician once for each safety alert not acknowledged in time",
        every=MINUTE,
        max_attempts=1,  # the next minute's slot is the retry
    ),
    PeriodicJob(
        "reminders",
        "openiop.reminders.jobs.run_reminders",
        "Send the reminders due (email and SMS), each once",
        every=MINUTE,
        max_attempts=1,
    ),
    PeriodicJob(
        "expire_offers",
        "openiop.jobs.builtin.expire_offers",
        "Withdraw waitlist seat offers past their deadline and offer the seat to the next person",
        every=MINUTE,
        max_attempts=1,
    ),
    PeriodicJob(
        "pending_billable_days",
        "openiop.jobs.builtin.pending_billable_days",
        "Decide the billable days whose queued decision has not run a minute after the check-in (a lost task)",
        every=MINUTE,
        max_attempts=1,
    ),
    PeriodicJob(
        "dose_flags",
        "openiop.jobs.dose_flags.raise_dose_flags",
        "Raise a work-queue task once per episode-week whose weekly dose is at risk; close it when it no longer is",
        every=timedelta(minutes=15),
        max_attempts=1,
    ),
    PeriodicJob(
        "note_deadlines",
        "openiop.jobs.builtin.note_deadlines",
        "Raise progress-note and co-signature tasks for notes due or overdue",
        every=timedelta(hours=1),
        max_attempts=1,
    ),
    PeriodicJob(
        "schedule_measures",
        "openiop.jobs.builtin.schedule_measures",
        "Create the questionnaires due (intake, weekly, discharge, follow-ups) and expire overdue ones",
    ),
    PeriodicJob(
        "extend_schedule",
        "openiop.jobs.builtin.extend_schedule",
        "Keep every track's sessions 12 weeks ahead and book current enrollees into them",
    ),
    PeriodicJob(
        "plan_deadlines",
        "openiop.jobs.builtin.plan_deadlines",
        "Create treatment plans for admitted episodes and raise plan and progress-review tasks",
    ),
    PeriodicJob(
        "billable_days",
        "openiop.jobs.builtin.billable_days",
        "Re-decide the recent billable days of every active program (late coverage, changed payer rules)",
    ),
    PeriodicJob(
        "utilization_flags",
        "openiop.utilization.jobs.raise_authorization_flags",
        "Raise work-queue tasks for payer authorizations ending soon, running out of units or due a concurrent review, "
        "and for billable days without one; close them when that no longer holds",
    ),
    PeriodicJob(
        "drug_testing",
        "openiop.labs.jobs.order_scheduled_tests",
        "Draw each substance-use program's random drug tests for the week (seeded, stored for audit) and order the "
        "fixed-weekday tests due today",
    ),
    PeriodicJob(
        "med_reconciliations",
        "openiop.medications.worktasks.raise_reconciliation_tasks",
        "Raise a work-queue task for each medication reconciliation owed (at intake, after a level-of-care change); "
        "close those nothing owes any more",
    ),
    PeriodicJob(
        "check_integrity",
        "openiop.jobs.integrity.run_daily",
        "Check the episode invariants (no seat, offer or reminder left to a closed episode, seat counts); the report "
        "is below",
    ),
    PeriodicJob(
        "audit_verify",
        "openiop.jobs.builtin.audit_verify",
        "Walk the audit trail's keyed chain and check it against its anchors; fails (and shows here) if any row was "
        "altered, inserted or deleted",
        max_attempts=1,
    ),
    PeriodicJob(
        "audit_anchor",
        "openiop.jobs.builtin.audit_anchor",
        "Write the audit chain's position to the anchor file outside the database (AUDIT_ANCHOR_PATH); fails if the "
        "chain does not verify",
        max_attempts=1,
    ),
)


def registry() -> dict[str, PeriodicJob]:
    """The configured jobs by name (``OPENIOP_PERIODIC_JOBS``), less ``OPENIOP_PERIODIC_JOBS_DISABLED``."""
    jobs = settings.OPENIOP_PERIODIC_JOBS
    if isinstance(jobs, str):
        jobs = import_string(jobs)
    disabled = set(settings.OPENIOP_PERIODIC_JOBS_DISABLED)
    return {job.name: job for job in jobs if job.name not in disabled}


# --- What a running job can ask ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunContext:
    job: str
    slot: datetime
    attempt: int
    run_id: int


_current: contextvars.ContextVar[RunContext | None] = contextvars.ContextVar("openiop_periodic_run", default=None)


def current_run() -> RunContext | None:
    """The slot being run, inside a periodic job (None elsewhere)."""
    return _current.get()


# --- The scheduler ----------------------------------------------------------------------------------------------


@dataclass
class TickReport:
    claimed: int = 0
    reclaimed: int = 0
    failed: int = 0
    missed: int = 0


def _queue_lease() -> timedelta:
    return timedelta(seconds=float(_default("jobs_queue_lease_seconds")))


def tick(now: datetime | None = None, *, backend: str = "default") -> TickReport:
    """One scheduler pass: claim and enqueue every due slot, then take back expired leases. Safe to run in any
    number of workers at once; each database write is a claim that only one of them wins."""
    now = now or timezone.now()
    report = TickReport()
    jobs = registry()
    newest = dict(
        PeriodicRun.objects.filter(job__in=list(jobs))
        .values("job")
        .annotate(last=Max("slot"))
        .values_list("job", "last")
    )
    for job in jobs.values():
        slots, missed = job.due_slots(newest.get(job.name), now)
        if missed:
            report.missed += missed
            logger.warning(
                "periodic job %s: %d slot(s) missed while no worker ran; running the newest %d",
                job.name,
                missed,
                len(slots),
            )
        for slot in slots:
            run = _claim_slot(job, slot, now)
            if run is not None:
                report.claimed += 1
                _enqueue(run, backend)
    reclaimed, failed = _reclaim_expired(jobs, now, backend)
    report.reclaimed += reclaimed
    report.failed += failed
    return report


def _claim_slot(job: PeriodicJob, slot: datetime, now: datetime) -> PeriodicRun | None:
    try:
        with transaction.atomic():
            return PeriodicRun.objects.create(
                job=job.name, slot=slot, status=Status.QUEUED, lease_until=now + _queue_lease(), worker=worker_id()
            )
    except IntegrityError:
        return None  # another worker claimed this slot first


def _reclaim_expired(jobs: dict[str, PeriodicJob], now: datetime, backend: str) -> tuple[int, int]:
    reclaimed = failed = 0
    expired = PeriodicRun.objects.filter(status__in=[Status.QUEUED, Status.RUNNING], lease_until__lt=now)
    for run in list(expired.order_by("slot")[:200]):
        job = jobs.get(run.job)
        same = PeriodicRun.objects.filter(pk=run.pk, status=run.status, lease_until=run.lease_until)
        if job is None or (run.status == Status.RUNNING and run.attempts >= job.max_attempts):
            error = "UnknownJob: not in the registry" if job is None else "WorkerLost: stopped during the run"
            if same.update(status=Status.FAILED, finished_at=now, lease_until=None, error=error):
                failed += 1
                logger.error("periodic job %s slot %s failed: %s", run.job, run.slot.isoformat(), error)
            continue
        if same.update(status=Status.QUEUED, lease_until=now + _queue_lease(), worker=worker_id()):
            reclaimed += 1
            if run.status == Status.RUNNING:
                logger.warning(
                    "periodic job %s slot %s: worker %s stopped renewing; running it again",
                    run.job,
                    run.slot.isoformat(),
                    run.worker,
                )
            _enqueue(run, backend)
    return reclaimed, failed


def _enqueue(run: PeriodicRun, backend: str) -> None:
    try:
        run_periodic.using(backend=backend).enqueue(run.pk)
    except Exception as exc:
        # The row stays queued with its lease: a later tick enqueues it again once the backend answers.
        logger.error(
            "periodic job %s slot %s: could not enqueue (%s)", run.job, run.slot.isoformat(), type(exc).__name__
        )


# --- Running one slot -------------------------------------------------------------------------------------------


def error_summary(exc: BaseException) -> str:
    """The exception class and the innermost place in our code it came from; never the message. An import error
    names the missing module (a dotted path, not data)."""
    name = type(exc).__name__
    if isinstance(exc, ImportError) and exc.name:
        name = f"{name}: {exc.name}"
    ours = [f for f in traceback.extract_tb(exc.__traceback__) if _inside_project(f.filename)]
    if not ours:
        return name[:ERROR_MAX]
    frame = ours[-1]
    filename = Path(frame.filename).resolve().relative_to(Path(settings.PROJECT_DIR).resolve())
    return f"{name} at {filename}:{frame.lineno}"[:ERROR_MAX]


def _inside_project(filename: str) -> bool:
    if not Path(filename).is_absolute():  # "<frozen importlib._bootstrap>", "<string>"
        return False
    path = Path(filename).resolve()
    return path.is_relative_to(Path(settings.PROJECT_DIR).resolve()) and "site-packages" not in path.parts


def _counts(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items() if isinstance(v, int | float | str | bool)}
    if isinstance(value, int | float):
        return {"count": value}
    return {}


@contextmanager
def _lease_kept(run: PeriodicRun, lease: timedelta) -> Iterator[None]:
    """Renew the run's lease from a thread every third of it while the job runs, so a long job keeps its slot
    and a killed worker's slot is free again within one lease."""
    stop = threading.Event()
    mine = PeriodicRun.objects.filter(pk=run.pk, status=Status.RUNNING, worker=run.worker, attempts=run.attempts)

    def renew() -> None:
        try:
            while not stop.wait(lease.total_seconds() / 3):
                try:
                    if not mine.update(lease_until=timezone.now() + lease):
                        logger.warning("periodic job %s slot %s: lease lost", run.job, run.slot.isoformat())
                        return
                except OperationalError as exc:  # a busy SQLite file: try again next time
                    logger.warning("periodic job %s: lease not renewed (%s)", run.job, type(exc).__name__)
        finally:
            connection.close()

    thread = threading.Thread(target=renew, name=f"lease-{run.job}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@task()
def run_periodic(run_id: int) -> dict[str, Any]:
    """Run one claimed slot (the django-tasks task the scheduler enqueues). A duplicate delivery does nothing."""
    now = timezone.now()
    me = worker_id()
    run = PeriodicRun.objects.filter(pk=run_id).first()
    if run is None:
        return {"skipped": 1}
    jobs = registry()
    job = jobs.get(run.job)
    lease = job.lease_length() if job is not None else _queue_lease()
    started = PeriodicRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
        status=Status.RUNNING, attempts=F("attempts") + 1, lease_until=now + lease, worker=me, started_at=now
    )
    if not started:
        return {"skipped": 1}  # running elsewhere, or already done
    run.refresh_from_db()
    mine = PeriodicRun.objects.filter(pk=run.pk, status=Status.RUNNING, worker=me, attempts=run.attempts)
    if job is None:
        mine.update(
            status=Status.FAILED, finished_at=timezone.now(), lease_until=None, error="UnknownJob: not in the registry"
        )
        logger.error("periodic job %s is not in the registry", run.job)
        return {"failed": 1}
    logger.info("periodic job %s slot %s attempt %d started", job.name, run.slot.isoformat(), run.attempts)
    token = _current.set(RunContext(job=job.name, slot=run.slot, attempt=run.attempts, run_id=run.pk))
    try:
        with _lease_kept(run, lease):
            value = import_string(job.path)()
    except Exception as exc:
        error = error_summary(exc)
        finished = timezone.now()
        if run.attempts < job.max_attempts:
            # Queued again with the retry delay as its lease: a scheduler takes it back once that has passed.
            mine.update(status=Status.QUEUED, lease_until=finished + job.retry_delay, worker="", error=error)
        else:
            mine.update(status=Status.FAILED, finished_at=finished, lease_until=None, error=error)
        logger.error(
            "periodic job %s slot %s attempt %d failed: %s", job.name, run.slot.isoformat(), run.attempts, error
        )
        return {"failed": 1}
    finally:
        _current.reset(token)
    counts = _counts(value)
    if not mine.update(status=Status.DONE, finished_at=timezone.now(), lease_until=None, result=counts, error=""):
        logger.warning(
            "periodic job %s slot %s finished after its lease was taken back", job.name, run.slot.isoformat()
        )
        return {"lost": 1}
    logger.info("periodic job %s slot %s done %s", job.name, run.slot.isoformat(), counts)
    return {"done": 1}
