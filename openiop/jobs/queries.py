"""What the staff page shows: each periodic job with its last run, next slot and last error; the task queue's
counts; the workers alive; the last episode-invariant report. A fixed number of queries however long the history
(three, plus one for tasks on the database backend, plus two for the report). System state only: no patient data is
read (the report holds public ids; the chart links are offered only for patients the user may see)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db.backend import DatabaseBackend

from openiop.accounts.models import User
from openiop.core.permissions import require
from openiop.core.roles import Cap
from openiop.jobs import integrity
from openiop.jobs.backends.redis import RedisBackend
from openiop.jobs.models import IntegrityReport, PeriodicRun, WorkerHeartbeat
from openiop.jobs.periodic import PeriodicJob, registry
from openiop.patients.queries import patients_for_user
from openiop.programs.models import Program
from openiop.programs.queries import managed_program_ids


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


@dataclass
class IntegrityRow:
    code: str
    severity: str
    summary: str
    count: int | None  # None: not run in that report (a check added since)


@dataclass
class IntegrityPanel:
    report: IntegrityReport | None
    checks: list[IntegrityRow]
    # The stored violations in programs the user manages, each with "chart": a URL, or "" where they may not read it.
    violations: list[dict[str, Any]]
    elsewhere: int = 0  # stored violations in programs the user does not manage (counted, not listed)


def integrity_panel(user: User) -> IntegrityPanel:
    """The last episode-invariant report: counts per check (system-wide, like the jobs' results) and the stored
    violations of the programs the user manages, each linked to the chart when the user may open it. Three queries
    at most: the report, the user's programs, and which of the listed patients the user can see."""
    require(user, Cap.MANAGE_PROGRAMS)
    report = IntegrityReport.objects.order_by("-checked_at", "-pk").first()
    counts: dict[str, int] = report.counts if report is not None else {}
    checks = [
        IntegrityRow(code, c.severity.value, c.summary, counts.get(code) if report is not None else None)
        for code, c in integrity.CHECKS.items()
    ]
    stored = list(report.violations) if report is not None else []
    if not stored:
        return IntegrityPanel(report=report, checks=checks, violations=[])
    programs = Program.objects.filter(pk__in=managed_program_ids(user)).values_list("public_id", flat=True)
    managed = {str(public_id) for public_id in programs}
    listed = [v for v in stored if v.get("program_id") in managed]
    wanted = {v["patient_id"] for v in listed if v.get("patient_id")}
    visible: set[str] = set()
    if wanted and user.can(Cap.VIEW_PATIENTS):
        found = patients_for_user(user).filter(public_id__in=wanted).values_list("public_id", flat=True)
        visible = {str(public_id) for public_id in found}
    rows = [
        {**v, "chart": reverse("patients:chart", args=[v["patient_id"]]) if v.get("patient_id") in visible else ""}
        for v in listed
    ]
    return IntegrityPanel(report=report, checks=checks, violations=rows, elsewhere=len(stored) - len(listed))
