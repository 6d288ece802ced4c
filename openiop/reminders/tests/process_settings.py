"""Settings for the sender subprocesses of test_processes: the real settings pointed at the test's database.

The test database already exists (pytest-django made it); ``REMINDERS_TEST_DB`` names it (the SQLite file, or the
PostgreSQL database), and ``REMINDERS_TEST_LEASE_SECONDS`` shortens the lease so a killed sender's reminder comes
back within the test.
"""

import os

from openiop.settings import *  # noqa: F403
from openiop.settings import DATABASES, OPENIOP_DEFAULTS

DATABASES["default"]["NAME"] = os.environ["REMINDERS_TEST_DB"]
OPENIOP_DEFAULTS = {
    **OPENIOP_DEFAULTS,
    "reminder_lease_seconds": int(os.environ.get("REMINDERS_TEST_LEASE_SECONDS", "300")),
}
