"""Key the audit chain and guard its head.

Rows written before this migration keep their plain SHA-256 hashes and get the key id ``sha256-legacy``: they are
not rehashed, because rewriting them would also launder any tampering done before the change. `openiop verify` accepts
legacy rows only as the chain's leading run; the first keyed row's HMAC covers the last legacy row's hash, so the
legacy rows cannot be changed without forging that HMAC (docs/decisions/0006-audit-hash-chain.md).

The triggers: audit rows are inserted only at the head (position and previous hash match the head row), and the head
row only moves one position forward onto the row just inserted; it is never deleted, and only the empty chain's head
may be inserted (the test flush puts it back, openiop/testing/flush.py). SQLite remakes the audit table to add the
column, which drops its triggers, so this migration drops and recreates all of them there.
"""

from django.db import migrations, models

LEGACY_KEY_ID = "sha256-legacy"
GENESIS = "0" * 64

PG_FORWARD = """
CREATE OR REPLACE FUNCTION openiop_audit_append_at_head() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM core_auditchainhead
        WHERE id = 1 AND last_index = NEW.chain_index - 1 AND last_hash = NEW.prev_hash
    ) THEN
        RAISE EXCEPTION 'audit rows are appended at the chain head only (row #% refused)', NEW.chain_index;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditevent_at_head
    BEFORE INSERT ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION openiop_audit_append_at_head();
CREATE OR REPLACE FUNCTION openiop_audit_head_forward() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.id = 1 AND NEW.last_index = 0 AND NEW.last_hash = repeat('0', 64)
           AND NOT EXISTS (SELECT 1 FROM core_auditchainhead) THEN
            RETURN NEW;
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.id = OLD.id AND NEW.last_index = OLD.last_index + 1 AND EXISTS (
            SELECT 1 FROM core_auditevent
            WHERE chain_index = NEW.last_index AND prev_hash = OLD.last_hash AND row_hash = NEW.last_hash
        ) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'the audit chain head only moves forward onto the row just appended (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditchainhead_forward
    BEFORE INSERT OR UPDATE OR DELETE ON core_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION openiop_audit_head_forward();
CREATE TRIGGER core_auditchainhead_no_truncate
    BEFORE TRUNCATE ON core_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION openiop_audit_head_forward();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS core_auditchainhead_no_truncate ON core_auditchainhead;
DROP TRIGGER IF EXISTS core_auditchainhead_forward ON core_auditchainhead;
DROP FUNCTION IF EXISTS openiop_audit_head_forward();
DROP TRIGGER IF EXISTS core_auditevent_at_head ON core_auditevent;
DROP FUNCTION IF EXISTS openiop_audit_append_at_head();
"""

# Every SQLite trigger on the two tables, 0002's included (the flush lifts and restores them all).
SQLITE_FORWARD = [
    "CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON core_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only (UPDATE refused)'); END;",
    "CREATE TRIGGER core_auditevent_no_delete BEFORE DELETE ON core_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only (DELETE refused)'); END;",
    "CREATE TRIGGER core_auditevent_at_head BEFORE INSERT ON core_auditevent "
    "WHEN NOT EXISTS (SELECT 1 FROM core_auditchainhead "
    "WHERE id = 1 AND last_index = NEW.chain_index - 1 AND last_hash = NEW.prev_hash) "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are appended at the chain head only (INSERT refused)'); END;",
    "CREATE TRIGGER core_auditchainhead_no_delete BEFORE DELETE ON core_auditchainhead "
    "BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward (DELETE refused)'); END;",
    "CREATE TRIGGER core_auditchainhead_forward BEFORE UPDATE ON core_auditchainhead "
    "WHEN NOT (NEW.id = OLD.id AND NEW.last_index = OLD.last_index + 1 AND EXISTS (SELECT 1 FROM core_auditevent "
    "WHERE chain_index = NEW.last_index AND prev_hash = OLD.last_hash AND row_hash = NEW.last_hash)) "
    "BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward onto the row just appended (UPDATE refused)'); "
    "END;",
    "CREATE TRIGGER core_auditchainhead_genesis_only BEFORE INSERT ON core_auditchainhead "
    f"WHEN NOT (NEW.id = 1 AND NEW.last_index = 0 AND NEW.last_hash = '{GENESIS}' "
    "AND NOT EXISTS (SELECT 1 FROM core_auditchainhead)) "
    "BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward (INSERT refused)'); END;",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_update;",
    "DROP TRIGGER IF EXISTS core_auditevent_no_delete;",
    "DROP TRIGGER IF EXISTS core_auditevent_at_head;",
    "DROP TRIGGER IF EXISTS core_auditchainhead_no_delete;",
    "DROP TRIGGER IF EXISTS core_auditchainhead_forward;",
    "DROP TRIGGER IF EXISTS core_auditchainhead_genesis_only;",
]
# What 0002 left on SQLite, put back when this migration is reversed.
SQLITE_0002 = SQLITE_FORWARD[:2]


def _sqlite(schema_editor, statements):
    if schema_editor.connection.vendor == "sqlite":
        for statement in statements:
            schema_editor.execute(statement)


def drop_sqlite_triggers(apps, schema_editor):
    _sqlite(schema_editor, SQLITE_REVERSE)


def restore_0002_sqlite_triggers(apps, schema_editor):
    _sqlite(schema_editor, SQLITE_0002)


def install_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    _sqlite(schema_editor, SQLITE_FORWARD)


def remove_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_REVERSE, params=None)
    _sqlite(schema_editor, SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_cache_table")]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, restore_0002_sqlite_triggers),
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(default=LEGACY_KEY_ID, max_length=32),
            preserve_default=False,
        ),
        migrations.RunPython(install_guards, remove_guards),
    ]
