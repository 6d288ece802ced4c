"""Settings for the worker subprocesses the tests start: the project's, pointed at the test database (whose name
the test passes in JOBS_TEST_DB_NAME), with the test registry and short heartbeats."""

from __future__ import annotations

import os

from openiop.settings import *  # noqa: F403
from openiop.settings import DATABASES, OPENIOP_DEFAULTS

DATABASES["default"]["NAME"] = os.environ["JOBS_TEST_DB_NAME"]
OPENIOP_PERIODIC_JOBS = os.environ.get("JOBS_TEST_REGISTRY", "openiop.jobs.tests.testjobs.PROCESS_JOBS")
OPENIOP_DEFAULTS = {**OPENIOP_DEFAULTS, "jobs_heartbeat_seconds": 1, "jobs_queue_lease_seconds": 5}
