from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from openiop.testing import demo, flush, snapshot
from openiop.testing.clock import moving_clock
from openiop.testing.fixtures import Clinic, build_clinic, make_patient

if TYPE_CHECKING:
    from openiop.demo.clinic import DemoClinic
    from openiop.programs.models import Organization


def pytest_configure(config):
    from django.conf import settings

    # A fresh clone has no var/ yet, and SQLite will not create the folder for its test database.
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    flush.install()


# The demo states shared between tests (openiop/testing/demo.py): the fixtures below, in the order they run.
SHARED_DEMO_STATES = ("seeded_demo",)


# First: xdist's own hook (on each worker) reads the xdist_group marks added here into the test ids it schedules by.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # The tests of each shared demo state run one after another, on one xdist worker, so a run builds it once.
    # They go first: the group is long, and xdist hands out the larger groups first anyway.
    def shared_state(item) -> int:
        names = [i for i, name in enumerate(SHARED_DEMO_STATES) if name in item.fixturenames]
        return names[0] if names else len(SHARED_DEMO_STATES)

    items.sort(key=shared_state)  # stable: otherwise the collection order
    for item in items:
        if shared_state(item) < len(SHARED_DEMO_STATES):
            item.add_marker(pytest.mark.xdist_group("demo"))
            # pytest-django creates only the test databases that the collected tests name, and a shared state takes
            # db inside its fixture (after building): named last, db is still set up by that fixture, not before it.
            if "db" not in item.fixturenames:
                item.fixturenames.append("db")
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    # The shared demo state's fixture, torn down in here, stays open only when the next test asks for it too.
    _next_test[0] = nextitem
    try:
        return (yield)
    finally:
        _next_test[0] = None


_next_test: list[pytest.Item | None] = [None]


def _shared_demo(request, name, django_db_blocker, build):
    value = demo.shared_state(name, django_db_blocker, build)
    try:
        request.getfixturevalue("db")  # each test in a savepoint inside the shared transaction
    except BaseException:
        demo.close_shared_state()  # this fixture's teardown will not run
        raise
    yield value
    # Torn down after the test's own transaction (set up after this), so only the shared one is left.
    demo.release(name, _next_test[0])


@dataclass
class SeededDemo:
    """The demo as `openiop demo` builds it on ``today`` from an empty database, with the shorter calendar of
    openiop/testing/demo.py."""

    clinic: DemoClinic
    today: date
    started_at: datetime  # the pinned clock at the start: the replayed past is before it, the seeders after
    history_events: int  # the audit events of the clinic, calendar and history, before the seeders'
    seeded: dict[str, object]  # what each app's seeder returned on this first run (seed_demo_records)
    built_at: datetime  # the pinned clock when the build ended: each test's clock starts here

    @property
    def organization(self) -> Organization:
        return self.clinic.organization


@pytest.fixture
def seeded_demo(request, django_db_setup, django_db_blocker, monkeypatch) -> Iterator[SeededDemo]:
    """The whole demo (clinic, calendar, attendance history and every app's records) built on DEMO_DAY, shared
    (openiop/testing/demo.py). The test runs on a clock pinned just after the build. Take it instead of db."""
    from openiop.core.models import AuditEvent
    from openiop.demo.attendance import build_demo
    from openiop.demo.clinic import local_moment, seed_demo_records

    def build() -> SeededDemo:
        started_at = local_moment(demo.DEMO_DAY, demo.DEMO_STARTED_AT, demo.DEMO_ZONE)
        with pytest.MonkeyPatch.context() as clock:
            now = moving_clock(clock, started_at)
            built = build_demo(demo.DEMO_DAY, history_weeks=demo.DEMO_HISTORY_WEEKS, weeks=demo.DEMO_WEEKS_AHEAD)
            clinic = built.clinic
            history_events = AuditEvent.objects.count()
            seeded = seed_demo_records(clinic.organization, demo.DEMO_DAY)
            return SeededDemo(clinic, demo.DEMO_DAY, started_at, history_events, seeded, now())

    for value in _shared_demo(request, "seeded_demo", django_db_blocker, build):
        moving_clock(monkeypatch, value.built_at)
        yield value


# Most tests log in with force_login; the MFA tests switch enforcement back on. Argon2 is deliberately slow (that is
# its job): tests hash with a fast hasher, and core/tests/test_settings.py checks that the real settings use Argon2.
# Tasks run inline, so a test sees what an enqueued task did at once; openiop/jobs/tests switch to the database and
# Redis backends (and real worker processes) where the queue itself is under test.
TEST_SETTINGS = {
    "MFA_REQUIRED_ROLES": [],
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    "TASKS": {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
}


@pytest.fixture(autouse=True)
def _test_settings(settings):
    for name, value in TEST_SETTINGS.items():
        setattr(settings, name, value)
    # Audit anchors (core/audit.py) go to a file of the test's own, never var/'s: a demo's anchors name rows that a
    # test database does not hold. Only a test that anchors creates it.
    settings.AUDIT_ANCHOR_PATH = Path(tempfile.gettempdir()) / f"openiop-test-anchors-{uuid.uuid4().hex}.jsonl"
    settings.AUDIT_ANCHOR_COPY_PATH = None


@pytest.fixture(scope="session")
def _clinic_rows(django_db_setup, django_db_blocker) -> snapshot.Snapshot[Clinic]:
    # Session-scoped, so it is taken before any test's own fixtures write rows (openiop/testing/snapshot.py).
    from django.test import override_settings

    # The tests' settings: _test_settings is function-scoped, so not yet in force here.
    with django_db_blocker.unblock(), override_settings(**TEST_SETTINGS):
        return snapshot.take(build_clinic, leave_out=snapshot.AUDIT_TABLES)


@pytest.fixture
def clinic(_clinic_rows, db) -> Clinic:
    """The small clinic of openiop/testing/fixtures.py, built once per test process and restored for each test."""
    return _clinic_rows.restore()


@pytest.fixture
def patient(clinic):
    return make_patient(clinic)


def login(client, user):
    client.force_login(user)
    return client


from openiop.testing.browser import _browser, page  # noqa: E402, F401  (the headless-browser fixtures)
from openiop.testing.smtp import smtp_inbox  # noqa: E402, F401  (the one SMTP server for tests)
