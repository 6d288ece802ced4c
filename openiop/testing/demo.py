"""Build the demo once and share it between the tests that read it (or whose changes are rolled back).

The whole demo takes tens of seconds to build, even with the short calendar below. A shared state (``shared_state``,
behind the ``seeded_demo`` fixture in openiop/conftest.py) is built once per test process (xdist worker) and kept, in
an open transaction, for as long as the next test asks for the same state. The conftest puts the tests of each state
next to each other and on one xdist worker, so a run builds each state once. The transaction is rolled back as soon
as the next test does not ask for the state, so no other test sees it.

pytest-django's ``db`` fixture then runs each test in a savepoint inside that transaction, so what a test changes is
undone before the next. Only non-transactional tests can share a build (a transactional test would flush the
database, outside any transaction).

Each app's demo test reads the shared build; a second run changing nothing (over the shared build) and two builds on
one day agreeing (the clinic and its measures, the seeders that draw random numbers) are checked once for the whole
demo (core/tests/test_demo.py) rather than once per app.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, time
from typing import Any, TypeVar

from django.db import connection, transaction
from django.test import override_settings

# The day the shared demo is built on and read as "today": a Thursday, so today's groups meet and the week has days
# before and after it, and fixed, so the demo and every check on it come out the same on any day the tests run.
DEMO_DAY = date(2026, 11, 26)
DEMO_STARTED_AT = time(11)  # the main site's morning (DEMO_ZONE), after the day's first groups
# Two weeks of attendance history (the fewest that hold every scripted scenario: the oldest is two weeks back) and
# this week's calendar ahead: each week is built like the others, and each costs seconds of check-ins and bookings
# (`make demo` builds twelve back and twelve ahead).
DEMO_HISTORY_WEEKS = 2
DEMO_WEEKS_AHEAD = 1
DEMO_ZONE = "America/New_York"  # the main site's


# The function-scoped settings fixture (openiop/conftest.py) is not active yet while a shared state is built.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

T = TypeVar("T")


class SharedStateError(RuntimeError):
    """A shared state was asked for inside a test's own transaction, where it could not outlive the test."""


@dataclass
class _Open:
    name: str
    value: Any
    undo: ExitStack


_open: _Open | None = None


def shared_state(name: str, django_db_blocker: Any, build: Callable[[], T]) -> T:
    """The state ``name``: built by ``build`` in a new transaction unless it is the one already open.

    Call it from a function-scoped fixture *before* the test's ``db`` fixture is set up (the fixture requests
    ``db`` itself, after this), and call ``release`` when that fixture is torn down."""
    global _open
    if _open is not None and _open.name != name:
        close_shared_state()
    if _open is None:
        if connection.in_atomic_block:
            raise SharedStateError(
                f"the shared demo state {name!r} was requested after the test's database transaction began: take "
                "it instead of db (not beside db, django_db or a fixture that uses them)"
            )
        undo = ExitStack()
        try:
            undo.enter_context(django_db_blocker.unblock())
            undo.enter_context(transaction.atomic())
            # Runs first on close: the atomic block exits by rolling back, never by committing.
            undo.callback(transaction.set_rollback, True)
            with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
                value = build()
        except BaseException:
            undo.close()
            raise
        _open = _Open(name, value, undo)
    return _open.value


def release(name: str, next_test: Any) -> None:
    """After a test: keep the state open when the next test asks for it too, else roll it back."""
    if next_test is not None and name in getattr(next_test, "fixturenames", ()):
        return
    close_shared_state()


def close_shared_state() -> None:
    global _open
    if _open is not None:
        undo, _open = _open.undo, None
        undo.close()
