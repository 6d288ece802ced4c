"""Build a fixture's rows once per test process and put them back for each test in a few bulk inserts.

``build_clinic`` goes through the real actions (about 200 statements: each staff member, program and track is
created, audited and checked one by one), and most of the suite's tests start from it. Each test rolls its
transaction back, so without this the clinic was built again for every test. Here it is built once in a transaction
that is rolled back too, every row it wrote (and every row it changed, such as the audit chain's head) is read out,
and each test writes the same rows back: one INSERT per table, a handful in all.

The rows come back with the same primary keys. That is safe: PostgreSQL's sequences are not rolled back, so ids
handed out later are always past them, and SQLite's AUTOINCREMENT counter moves past any id inserted explicitly.
Foreign keys are checked at commit on both databases (Django declares them deferrable), so the insert order does not
matter. The audit trail is left out (``AUDIT_TABLES``): its triggers let rows in only one at a time at the head,
and a chain that starts with the test's own first action is as valid as one that starts with the builder's.
The Python objects the builder returned are deep-copied for each test, so a test that changes one in memory
cannot leak the change into the next.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone

T = TypeVar("T")

_Rows = dict[Any, tuple[Any, ...]]

AUDIT_TABLES = ("core.AuditEvent", "core.AuditChainHead")


def _models() -> list[type[models.Model]]:
    # Concrete tables only: proxies share their parent's rows and unmanaged models have no table of ours.
    return [m for m in apps.get_models(include_auto_created=True) if m._meta.managed and not m._meta.proxy]


def _columns(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def _read(model: type[models.Model]) -> _Rows:
    names = _columns(model)
    pk = model._meta.pk.attname
    at = names.index(pk)
    return {row[at]: row for row in model._base_manager.values_list(*names)}


@dataclass
class Snapshot(Generic[T]):
    value: T
    inserted: list[tuple[type[models.Model], list[dict[str, Any]]]] = field(default_factory=list)
    updated: list[tuple[type[models.Model], Any, dict[str, Any]]] = field(default_factory=list)

    def restore(self) -> T:
        """Write the rows back in the caller's transaction and return a private copy of the built value."""
        with transaction.atomic():
            for model, rows in self.inserted:
                model._base_manager.bulk_create([model(**row) for row in rows])
            for model, pk, values in self.updated:
                model._base_manager.filter(pk=pk).update(**values)
        return copy.deepcopy(self.value)


def take(build: Callable[[], T], *, leave_out: Iterable[str] = ()) -> Snapshot[T]:
    """Run ``build`` in a transaction that is rolled back, and keep what it wrote, except to the ``leave_out``
    models (``app_label.ModelName``)."""
    skipped = {apps.get_model(name) for name in leave_out}
    tables = [m for m in _models() if m not in skipped]
    with transaction.atomic():
        before = {model: _read(model) for model in tables}
        value = build()
        snapshot = Snapshot(value)
        for model in tables:
            names = _columns(model)
            after = _read(model)
            old = before[model]
            new_rows = [dict(zip(names, row, strict=True)) for pk, row in after.items() if pk not in old]
            if new_rows:
                snapshot.inserted.append((model, new_rows))
            for pk, row in after.items():
                if pk in old and old[pk] != row:
                    changed = {n: v for n, v, o in zip(names, row, old[pk], strict=True) if v != o}
                    snapshot.updated.append((model, pk, changed))
            if any(pk not in after for pk in old):
                raise RuntimeError(f"{model.__name__}: a snapshot build may not delete rows")
        transaction.set_rollback(True)
    return snapshot


# What ``restored`` took in this process, by name: the minute it was taken in and the snapshot.
_taken: dict[str, tuple[Any, Snapshot[Any]]] = {}


def restored(name: str, build: Callable[[], T], *, leave_out: Iterable[str] = AUDIT_TABLES) -> T:
    """``build``'s rows and a copy of its value, for a per-test fixture of a file whose many tests each start from the
    same records: the first test of this process to ask takes the snapshot (``take``, in a savepoint it rolls back),
    and that test and every later one get the rows back (``restore``) instead of building them again.

    Call it in the test's transaction, after the fixtures whose rows ``build`` starts from; those must come back with
    the same keys each time (restored ones, such as ``clinic``), since the snapshot's rows name them. The snapshot is
    taken again in each new minute of the clock, so what ``build`` wrote relative to now (today's date in any time
    zone, a due date, a recent time a check compares with now) is never older than a minute."""
    minute = timezone.now().replace(second=0, microsecond=0)
    kept = _taken.get(name)
    if kept is None or kept[0] != minute:
        kept = _taken[name] = (minute, take(build, leave_out=leave_out))
    return kept[1].restore()
