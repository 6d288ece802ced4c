"""What the staff page shows: each periodic job with its last run, next slot and last error; the task queue's
counts; the workers alive. A fixed number of queries however long the history (three, plus one for tasks on the
database backend). System state only: no patient data is read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db.backend import DatabaseBackend

from openiop.accounts.models import User
from openiop.core.permissions import require
from openiop.core.roles import Cap
from openiop.jobs.backends.redis import RedisBackend
from openiop.jobs.models import PeriodicRun, WorkerHeartbeat
from openiop.jobs.periodic import PeriodicJob, registry


@dataclass
class JobStatus:
    job: PeriodicJob
    last: PeriodicRun | None
    last_error: PeriodicRun | None
    next_due: datetime
    failed_runs: int


@dataclass
class Overview:
    jobs: list[JobStatus]
    backend: str
    tasks: dict[str, int] | None  # None: the backend keeps no queue (tasks run inline)
    tasks_error: str = ""
    workers: list[WorkerHeartbeat] = field(default_factory=list)


def _task_counts(alias: str = "default") -> tuple[str, dict[str, int] | None, str]:
    backend = task_backends[alias]
    name = type(backend).__name__
    if isinstance(backend, DatabaseBackend):
        from django_tasks_db.models import DBTaskResult

        rows = dict(
            DBTaskResult.objects.filter(backend_name=alias)
            .values("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        return (
            name,
            {"queued": rows.get("READY", 0), "running": rows.get("RUNNING", 0), "failed": rows.get("FAILED", 0)},
            "",
        )
    if isinstance(backend, RedisBackend):
        try:
            return name, backend.counts(), ""
        except Exception as exc:  # Redis away: say so on the page rather than fail it
            return name, None, f"Redis did not answer ({type(exc).__name__})"
    return name, None, ""


def overview(user: User, *, now: datetime | None = None) -> Overview:
    require(user, Cap.MANAGE_PROGRAMS)
    now = now or timezone.now()
    jobs = registry()
    names = list(jobs)
    summary = {
        row["job"]: row
        for row in PeriodicRun.objects.filter(job__in=names)
        .values("job")
        .annotate(
            last=Max("slot"),
            last_error=Max("slot", filter=~Q(error="")),
            failed=Count("id", filter=Q(status=PeriodicRun.Status.FAILED)),
        )
    }
    wanted = Q(pk__in=[])
    for row in summary.values():
        for slot in (row["last"], row["last_error"]):
            if slot is not None:
                wanted |= Q(job=row["job"], slot=slot)
    runs: dict[tuple[str, Any], PeriodicRun] = {(r.job, r.slot): r for r in PeriodicRun.objects.filter(wanted)}
    statuses = []
    for name, job in jobs.items():
        agg: dict[str, Any] = summary.get(name, {})
        last = runs.get((name, agg.get("last")))
        last_error = runs.get((name, agg.get("last_error")))
        next_due = job.next_slot(last.slot) if last is not None else job.slot_at(now)
        statuses.append(JobStatus(job, last, last_error, next_due, int(agg.get("failed", 0))))
    backend, tasks, tasks_error = _task_counts()
    alive_after = now - timedelta(seconds=3 * float(settings.OPENIOP_DEFAULTS["jobs_heartbeat_seconds"]))
    workers = list(
        WorkerHeartbeat.objects.filter(stopped_at__isnull=True, seen_at__gte=alive_after).order_by("worker_id")
    )
    return Overview(jobs=statuses, backend=backend, tasks=tasks, tasks_error=tasks_error, workers=workers)
