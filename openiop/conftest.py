from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from openiop.testing import flush
from openiop.testing.fixtures import Clinic, build_clinic, make_patient


def pytest_configure(config):
    from django.conf import settings

    # A fresh clone has no var/ yet, and SQLite will not create the folder for its test database.
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    flush.install()


def pytest_collection_modifyitems(config, items):
    # Under `--dist loadgroup` one xdist worker runs all the process tests, one after another: each starts several
    # worker processes and times their kills and leases, so two such tests at once on a 2-core machine would starve
    # each other (and the worker subprocesses) into timeouts. Other tests still run beside them on the other worker.
    for item in items:
        if item.get_closest_marker("process") and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group("process"))
        # A browser step waits on a real Chromium that shares two cores with the other xdist worker: under load a
        # page can miss its step timeout with nothing wrong. Such a timeout (and only that) gets one more try; any
        # assertion or server error still fails at once, and a second timeout fails too.
        if item.get_closest_marker("browser") and not item.get_closest_marker("flaky"):
            item.add_marker(pytest.mark.flaky(reruns=1, only_rerun=[PlaywrightTimeout]))


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """Most tests log in with force_login; the MFA tests switch enforcement back on.

    Argon2 is deliberately slow (that is its job); tests hash with a fast hasher, and
    core/tests/test_settings.py checks that the real settings use Argon2.
    """
    settings.MFA_REQUIRED_ROLES = []
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tasks run inline, so a test sees what an enqueued task did at once; openiop/jobs/tests switch to the
    # database and Redis backends (and real worker processes) where the queue itself is under test.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def clinic(db) -> Clinic:
    return build_clinic()


@pytest.fixture
def patient(clinic):
    return make_patient(clinic)


def login(client, user):
    client.force_login(user)
    return client


from openiop.testing.browser import _browser, page  # noqa: E402, F401  (the headless-browser fixtures)
from openiop.testing.smtp import smtp_inbox  # noqa: E402, F401  (the one SMTP server for tests)
