"""Build demo data once for a module of tests that only read it (or whose changes are rolled back).

The demo takes seconds to build. ``seeded_once`` opens a transaction around a module-scoped fixture's build and
rolls it back when the module ends; pytest-django's ``db`` fixture then runs each test in a savepoint inside it, so
what a test changes is undone before the next. Only non-transactional tests can share it (a transactional test
would flush the database, outside any transaction), so modules using it hold no ``transaction=True`` tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.test import override_settings

# The function-scoped settings fixture (openiop/conftest.py) is not active yet while a module fixture runs.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@contextmanager
def seeded_once(django_db_blocker: Any) -> Iterator[None]:
    """Inside a module-scoped fixture: build in the block, ``yield`` the result from inside it."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS), transaction.atomic():
        yield
        transaction.set_rollback(True)
