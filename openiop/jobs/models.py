"""Bookkeeping for background work: one row per periodic job slot (the claim that makes each slot run once) and
one row per running worker (its heartbeat). Operational records, not clinical ones: no patient data, no audit."""

from __future__ import annotations

from django.db import models


class PeriodicRun(models.Model):
    """One slot of one periodic job (``job`` runs for the slot starting at ``slot``).

    The unique (job, slot) pair is the claim: whichever scheduler inserts the row owns the slot, so two workers
    never run it twice. ``lease_until`` is how long the holder may keep it: a queued row whose task never started,
    or a running row whose worker stopped renewing (killed), is taken back by any scheduler once the lease has
    passed and run again, so no slot is lost either.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    job = models.CharField(max_length=80)
    slot = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)  # times started
    lease_until = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=120, blank=True)  # who holds the lease (host:pid:id)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)  # counts only ("3 alerts escalated"), never records
    # The exception's class and where it was raised, never its message: messages can carry patient data.
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-slot"]
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="jobs_periodicrun_one_per_slot")]
        indexes = [models.Index(fields=["status", "lease_until"], name="jobs_periodicrun_lease_idx")]

    def __str__(self) -> str:
        return f"{self.job} {self.slot:%Y-%m-%d %H:%M:%S}"


class WorkerHeartbeat(models.Model):
    """A running ``openiop worker``: it touches ``seen_at`` every few seconds. A worker whose beat stopped has
    died; the database backend's tasks it had claimed are put back in the queue (see ``worker.recover_tasks``)."""

    worker_id = models.CharField(max_length=120, unique=True)
    hostname = models.CharField(max_length=120)
    pid = models.PositiveIntegerField()
    backend = models.CharField(max_length=80)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    tasks_run = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return self.worker_id


class IntegrityReport(models.Model):
    """One run of the episode invariant checks (``jobs.integrity``): when, how many violations per check, and the
    first of them by code and public id. Operational data: ids only, never a name or a date of care."""

    checked_at = models.DateTimeField(db_index=True)
    counts = models.JSONField(default=dict, blank=True)  # check code -> violations found (every check run)
    errors = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)
    # [{code, severity, object_type, object_id, message, episode_id, patient_id}, ...], at most integrity.LIST_MAX
    violations = models.JSONField(default=list, blank=True)
    left_out = models.PositiveIntegerField(default=0)  # violations found beyond the stored list

    class Meta:
        ordering = ["-checked_at", "-pk"]

    def __str__(self) -> str:
        return f"integrity report {self.checked_at:%Y-%m-%d %H:%M}"
