"""Settings for the `openiop worker` subprocesses of test_worker_delivery: the jobs tests' worker settings (the
test database, short heartbeats) with the reminders-only registry and a short reminder lease, so a killed
worker's claimed reminder comes back within the test."""

import os

from openiop.jobs.tests.worker_settings import *  # noqa: F403
from openiop.jobs.tests.worker_settings import OPENIOP_DEFAULTS

OPENIOP_PERIODIC_JOBS = "openiop.reminders.tests.worker_jobs.JOBS"
OPENIOP_DEFAULTS = {
    **OPENIOP_DEFAULTS,
    "reminder_lease_seconds": int(os.environ.get("REMINDERS_TEST_LEASE_SECONDS", "300")),
    "jobs_lease_seconds": 3,
}
