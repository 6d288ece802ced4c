"""Settings for the app and worker processes of test_several_machines.py: the worker tests' (the test database named
in JOBS_TEST_DB_NAME; everything else, Redis included, from the environment the test passes), plus a URL that
enqueues a probe task and the tests' fast password hasher."""

from __future__ import annotations

from openiop.jobs.tests.worker_settings import *  # noqa: F403

ROOT_URLCONF = "openiop.core.tests.multinode_urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
