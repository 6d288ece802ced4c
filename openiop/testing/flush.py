"""Let the test runner's flush empty the audit table.

Transactional tests (real commits, for races) end with Django's flush, which deletes every row; the
append-only triggers rightly refuse that. Only in the test process, the flush lifts the guard for its own
statements and restores it in the same transaction. Production code never imports this.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.db.backends.base.operations import BaseDatabaseOperations

GENESIS = "0" * 64  # constant, not input: the f-string below builds no query from user data
_PG_OFF = "ALTER TABLE core_auditevent DISABLE TRIGGER USER"
_PG_ON = "ALTER TABLE core_auditevent ENABLE TRIGGER USER"


def install() -> None:
    original = BaseDatabaseOperations.execute_sql_flush
    if getattr(original, "_openiop_wrapped", False):
        return

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: list[str]) -> Any:
        guard = importlib.import_module("openiop.core.migrations.0002_audit_head_and_append_only")

        if not any("core_auditevent" in sql for sql in sql_list):
            return original(self, sql_list)
        vendor = self.connection.vendor
        # The flush empties the chain head too; the next test needs it back, as the migration left it.
        head = f"INSERT INTO core_auditchainhead (id, last_index, last_hash) VALUES (1, 0, '{GENESIS}')"  # noqa: S608
        if vendor == "postgresql":
            sql_list = [_PG_OFF, *sql_list, _PG_ON, head]
        elif vendor == "sqlite":
            sql_list = [*guard.SQLITE_REVERSE, *sql_list, *guard.SQLITE_FORWARD, head]
        return original(self, sql_list)

    execute_sql_flush._openiop_wrapped = True  # type: ignore[attr-defined]
    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign,assignment]
