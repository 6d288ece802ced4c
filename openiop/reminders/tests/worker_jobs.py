"""The registry the worker subprocesses of test_worker_delivery run: the real reminders job, on one-second slots
so a test sees many slots (and overlapping runs) in a few seconds."""

from __future__ import annotations

from datetime import timedelta

from openiop.jobs.periodic import DEFAULT_JOBS, PeriodicJob

_real = next(job for job in DEFAULT_JOBS if job.name == "reminders")

JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob(_real.name, _real.path, _real.description, every=timedelta(seconds=1), max_attempts=_real.max_attempts),
)
