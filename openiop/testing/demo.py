"""Build demo data once and share it between the tests that read it (or whose changes are rolled back).

The demo takes seconds to build (the whole `openiop demo --skip-schedule` run, tens of seconds on a busy machine).
Two ways to build it once:

- ``seeded_once``, inside a module-scoped fixture: the build runs in a transaction that stays open for the module
  and is rolled back when the module ends.
- A shared state (``shared_state``, behind the ``demo_*`` fixtures in openiop/conftest.py): built once per test
  process (xdist worker) and kept, in an open transaction, for as long as the next test asks for the same state.
  The conftest puts the tests of each state next to each other and on one xdist worker, so a run builds each state
  once. The transaction is rolled back as soon as the next test does not ask for the state, so no other test sees
  it.

Either way pytest-django's ``db`` fixture then runs each test in a savepoint inside that transaction, so what a test
changes is undone before the next. Only non-transactional tests can share a build (a transactional test would flush
the database, outside any transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection, transaction
from django.test import override_settings

# The function-scoped settings fixture (openiop/conftest.py) is not active yet while a module fixture runs.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

T = TypeVar("T")


@contextmanager
def seeded_once(django_db_blocker: Any) -> Iterator[None]:
    """Inside a module-scoped fixture: build in the block, ``yield`` the result from inside it."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS), transaction.atomic():
        yield
        transaction.set_rollback(True)


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
