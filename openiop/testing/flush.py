"""Let the test runner's flush empty the audit table, quickly.

Transactional tests (real commits, for races) end with Django's flush, which deletes every row; the
append-only triggers (and the chain head's, core migration 0005) rightly refuse that. Only in the test process, the
flush lifts the guards for its own statements and restores them in the same transaction. Production code never
imports this.

On PostgreSQL the flush is one ``TRUNCATE`` of every table, which gives each table and index a new file: about 0.7 s
for the few rows a test leaves. Deleting the rows takes a tenth of that, so the flush deletes them instead, with the
foreign keys (which Django creates deferrable) checked at its commit, when every table is empty.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from django.db.backends.base.operations import BaseDatabaseOperations

GENESIS = "0" * 64  # constant, not input: the f-string below builds no query from user data
_PG_OFF = "ALTER TABLE core_auditevent DISABLE TRIGGER USER; ALTER TABLE core_auditchainhead DISABLE TRIGGER USER"
_PG_ON = "ALTER TABLE core_auditevent ENABLE TRIGGER USER; ALTER TABLE core_auditchainhead ENABLE TRIGGER USER"
_TRUNCATE = re.compile(r"^TRUNCATE (?P<tables>.+?)(?: CASCADE)?;$")


def _deletes(sql: str) -> list[str]:
    """``TRUNCATE "a", "b";`` as deletes (the table names were quoted by Django); anything else as it is."""
    found = _TRUNCATE.match(sql)
    if found is None or "RESTART IDENTITY" in sql:
        return [sql]
    # One statement string: a round trip per table would cost as much again.
    deletes = "; ".join(f"DELETE FROM {t.strip()}" for t in found["tables"].split(","))  # noqa: S608 (Django quoted them)
    return [f"SET CONSTRAINTS ALL DEFERRED; {deletes}"]


def install() -> None:
    original = BaseDatabaseOperations.execute_sql_flush
    if getattr(original, "_openiop_wrapped", False):
        return

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: list[str]) -> Any:
        guard = importlib.import_module("openiop.core.migrations.0005_audit_keyed_chain")

        if not any("core_auditevent" in sql for sql in sql_list):
            return original(self, sql_list)
        vendor = self.connection.vendor
        # The flush empties the chain head too; the next test needs it back, as the migration left it.
        head = f"INSERT INTO core_auditchainhead (id, last_index, last_hash) VALUES (1, 0, '{GENESIS}')"  # noqa: S608
        if vendor == "postgresql":
            sql_list = [_PG_OFF, *(d for sql in sql_list for d in _deletes(sql)), _PG_ON, head]
        elif vendor == "sqlite":
            sql_list = [*guard.SQLITE_REVERSE, *sql_list, *guard.SQLITE_FORWARD, head]
        return original(self, sql_list)

    execute_sql_flush._openiop_wrapped = True  # type: ignore[attr-defined]
    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign,assignment]
