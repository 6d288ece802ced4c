"""The keyed audit chain: every tampering case names its first bad row, on both databases.

Tampering runs raw SQL with the guard triggers dropped or disabled, as an attacker with the database's DDL rights
would; an attacker with plain write rights meets the triggers (test_database_refuses_...).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.audit import LEGACY_KEY_ID, load_anchors, verify_chain, verify_with_anchors, write_anchor
from openiop.core.models import AuditAction, AuditChainHead, AuditEvent

KEY_A = "a" * 40
KEY_B = "b" * 40
guards = importlib.import_module("openiop.core.migrations.0005_audit_keyed_chain")


@pytest.fixture
def anchors(settings, tmp_path):
    settings.AUDIT_ANCHOR_PATH = tmp_path / "anchors.jsonl"
    return settings.AUDIT_ANCHOR_PATH


def _disable_guard() -> None:
    """Tampering needs the triggers out of the way (an attacker with DDL rights); the test's rollback restores them."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER refuses while FK checks are pending
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE core_auditchainhead DISABLE TRIGGER USER")
        else:
            for statement in guards.SQLITE_REVERSE:
                cursor.execute(statement)


def _rows(n=5, **kwargs):
    return [
        audit.record(action=AuditAction.RECORD_VIEWED, acting_user=None, object_type="probe", **kwargs)
        for _ in range(n)
    ]


def _forge(after: AuditEvent, *, key_id: str, hasher) -> AuditEvent:
    """A row linked correctly after ``after``, hashed by whatever the attacker can compute."""
    forged = AuditEvent(
        chain_index=after.chain_index + 1,
        occurred_at=after.occurred_at,
        actor_label="intruder",
        action=AuditAction.CHART_VIEWED,
        prev_hash=after.row_hash,
        key_id=key_id,
    )
    forged.row_hash = hasher(audit._canonical(forged))
    return forged


def _plain_sha(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _move_head(index: int, row_hash: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditchainhead SET last_index = %s, last_hash = %s", [index, row_hash])


def test_intact_chain_verifies_and_rows_are_keyed(clinic, patient, settings):
    assert AuditEvent.objects.filter(patient=patient).count() == 2
    assert verify_chain() == []
    head = AuditChainHead.objects.get()
    last = AuditEvent.objects.order_by("-chain_index")[0]
    assert (head.last_index, head.last_hash) == (last.chain_index, last.row_hash)
    assert set(AuditEvent.objects.values_list("key_id", flat=True)) == {settings.AUDIT_HMAC_KEY_ID}


def test_rows_hold_no_content(clinic, patient):
    event = AuditEvent.objects.filter(patient=patient, object_type="patient").get()
    assert "legal_first_name" in event.changed_fields
    values = {str(v) for v in (event.object_type, event.object_id, event.actor_label, *event.changed_fields)}
    assert patient.legal_first_name not in values
    assert patient.legal_last_name not in " ".join(values)


def test_record_costs_three_statements(db, django_assert_num_queries):
    _rows(1)
    with django_assert_num_queries(3):  # lock the head, insert the row, move the head
        _rows(1)


def test_altered_row_is_named(db):
    rows = _rows()
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET object_type = %s WHERE id = %s", ["forged", rows[2].pk])
    breaks = verify_chain()
    assert [(b.chain_index, b.event_id, "altered" in b.reason) for b in breaks] == [
        (rows[2].chain_index, rows[2].pk, True)
    ]


def test_deleted_row_is_named(db):
    rows = _rows()
    victim = rows[1]
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [victim.pk])
    first = verify_chain()[0]
    assert (first.chain_index, first.event_id) == (rows[2].chain_index, rows[2].pk)
    assert f"row {victim.chain_index} is missing" in first.reason


def test_row_inserted_mid_chain_with_a_plain_sha_hash_is_named(db):
    rows = _rows()
    k = rows[2].chain_index
    _disable_guard()
    with connection.cursor() as cursor:
        # Make room after row k (two steps so the unique index never sees a clash), then slip a forged row in.
        cursor.execute("UPDATE core_auditevent SET chain_index = chain_index + 1000000 WHERE chain_index > %s", [k])
        cursor.execute(
            "UPDATE core_auditevent SET chain_index = chain_index - 999999 WHERE chain_index > %s", [k + 1000000 - 1]
        )
    # The old, unkeyed scheme: a correctly computed SHA-256 verified. Now the row is a forgery, named as the first.
    forged = _forge(rows[2], key_id=LEGACY_KEY_ID, hasher=_plain_sha)
    forged.save(force_insert=True)
    breaks = verify_chain()
    assert (breaks[0].chain_index, breaks[0].event_id) == (k + 1, forged.pk)
    assert "unkeyed" in breaks[0].reason


@pytest.mark.parametrize("key_id", ["current", "elsewhere"])
def test_row_forged_at_the_head_with_the_head_moved_is_named(db, settings, key_id):
    """Plain write rights are enough for this one: the triggers let a row in at the head, and the head follow it."""
    rows = _rows(3)
    key_id = settings.AUDIT_HMAC_KEY_ID if key_id == "current" else key_id
    forged = _forge(rows[-1], key_id=key_id, hasher=_plain_sha)
    forged.save(force_insert=True)
    _move_head(forged.chain_index, forged.row_hash)
    breaks = verify_chain()
    assert [(b.chain_index, b.event_id) for b in breaks] == [(forged.chain_index, forged.pk)]
    assert ("HMAC mismatch" if key_id == settings.AUDIT_HMAC_KEY_ID else "not in AUDIT_HMAC_KEYS") in breaks[0].reason


def test_row_appended_without_the_head_is_detected(db):
    rows = _rows(3)
    forged = _forge(rows[-1], key_id=LEGACY_KEY_ID, hasher=_plain_sha)
    forged.save(force_insert=True)
    breaks = verify_chain()
    assert breaks[0].chain_index == forged.chain_index
    assert f"rows end at #{forged.chain_index}" in breaks[-1].reason


def test_truncated_tail_is_named_through_the_head(db):
    rows = _rows(3)
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [rows[-1].pk])
    breaks = verify_chain()
    assert [(b.chain_index, b.event_id) for b in breaks] == [(rows[-1].chain_index, None)]
    assert "the head says the chain ends" in breaks[0].reason


def test_truncated_tail_is_named_through_the_anchor_even_with_the_head_moved_back(db, anchors):
    rows = _rows(4)
    anchor = write_anchor()
    assert anchor is not None and anchor.chain_index == rows[-1].chain_index
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id IN (%s, %s)", [rows[-1].pk, rows[-2].pk])
    _move_head(rows[-3].chain_index, rows[-3].row_hash)
    assert verify_chain() == []  # the database alone is consistent again: this is what the anchor is for
    breaks, latest = verify_with_anchors()
    assert latest == load_anchors()[0][0]
    assert [(b.chain_index, b.event_id) for b in breaks] == [(rows[-2].chain_index, None)]
    assert f"(id {rows[-1].pk}" in breaks[0].reason and "tail deleted" in breaks[0].reason


def test_history_rewritten_with_the_key_is_named_at_the_anchor(db, anchors):
    """An attacker holding the key can rebuild a consistent chain; rows already anchored still give it away."""
    rows = _rows(4)
    write_anchor()
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE chain_index >= %s", [rows[1].chain_index])
    _move_head(rows[0].chain_index, rows[0].row_hash)
    rebuilt = _rows(3, organization_id=999)  # same positions, different history, correctly keyed
    assert verify_chain() == []
    breaks, _ = verify_with_anchors()
    assert [(b.chain_index, b.event_id) for b in breaks] == [(rebuilt[-1].chain_index, rebuilt[-1].pk)]
    assert "history rewritten" in breaks[0].reason


def test_anchor_files_are_checked_and_the_copy_counts(db, anchors, settings, tmp_path):
    settings.AUDIT_ANCHOR_COPY_PATH = tmp_path / "copy" / "anchors.jsonl"
    _rows(2)
    first = write_anchor()
    _rows(1)
    second = write_anchor()
    assert second is not None and first is not None
    assert [a.chain_index for a in load_anchors()[0]] == [first.chain_index, second.chain_index]
    # Lines removed from the first file are still in the copy; a line edited there is named.
    anchors.write_text("")
    data = json.loads(settings.AUDIT_ANCHOR_COPY_PATH.read_text().splitlines()[0])
    data["i"] += 1
    lines = settings.AUDIT_ANCHOR_COPY_PATH.read_text().splitlines()
    settings.AUDIT_ANCHOR_COPY_PATH.write_text("\n".join([json.dumps(data), lines[1]]) + "\n")
    found, problems = load_anchors()
    assert [a.chain_index for a in found] == [second.chain_index]
    assert len(problems) == 1 and "MAC mismatch" in problems[0].reason and ":1" in problems[0].reason


def test_keys_rotate_and_a_retired_key_breaks_verification(db, settings):
    settings.AUDIT_HMAC_KEYS = {"a": KEY_A}
    settings.AUDIT_HMAC_KEY_ID = "a"
    old = _rows(2)
    settings.AUDIT_HMAC_KEYS = {"a": KEY_A, "b": KEY_B}
    settings.AUDIT_HMAC_KEY_ID = "b"
    new = _rows(2)
    assert [r.key_id for r in (*old, *new)] == ["a", "a", "b", "b"]
    assert verify_chain() == []
    settings.AUDIT_HMAC_KEYS = {"b": KEY_B}  # key "a" dropped too early: its rows can no longer be checked
    breaks = verify_chain()
    assert (breaks[0].chain_index, breaks[0].event_id) == (old[0].chain_index, old[0].pk)
    assert "'a' is not in AUDIT_HMAC_KEYS" in breaks[0].reason


def test_legacy_rows_verify_as_the_leading_run_only(db):
    """Rows from before the chain was keyed keep their SHA-256 (migration 0005); keyed rows follow them."""
    head = AuditChainHead.objects.get()
    assert head.last_index == 0
    genesis = AuditEvent(chain_index=0, occurred_at=timezone.now(), row_hash=head.last_hash)
    legacy = [genesis]
    for _ in range(2):
        row = _forge(legacy[-1], key_id=LEGACY_KEY_ID, hasher=_plain_sha)
        row.save(force_insert=True)
        _move_head(row.chain_index, row.row_hash)
        legacy.append(row)
    _rows(2)
    assert verify_chain() == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE core_auditevent SET object_type = 'x'",
        "DELETE FROM core_auditevent",
        "DELETE FROM core_auditchainhead",
        "UPDATE core_auditchainhead SET last_index = last_index - 1",
        "UPDATE core_auditchainhead SET last_index = last_index + 1",
        "INSERT INTO core_auditchainhead (id, last_index, last_hash) VALUES (2, 0, '0')",
        "INSERT INTO core_auditevent (chain_index, occurred_at, actor_label, action, object_type, object_id, "
        "changed_fields, user_agent, request_id, prev_hash, row_hash, key_id) "
        "VALUES (1, '2026-01-01', 'x', 200, '', '', '[]', '', '', 'p', 'h', 'k')",
    ],
)
def test_database_refuses_tampering_without_ddl(db, statement):
    _rows(2)
    with pytest.raises(DatabaseError, match=r"append-only|chain head"), transaction.atomic(), connection.cursor() as c:
        c.execute(statement)
    assert verify_chain() == []


def test_verify_command_names_the_first_bad_row_and_prints_the_anchor(db, anchors, capsys):
    rows = _rows(3)
    call_command("verify")
    assert "no anchors yet" in capsys.readouterr().out
    call_command("audit_anchor")
    call_command("verify")
    out = capsys.readouterr().out
    assert f"latest anchor: row #{rows[-1].chain_index} (id {rows[-1].pk}" in out and "intact: 3 rows" in out
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET actor_label = %s WHERE id = %s", ["someone", rows[1].pk])
    with pytest.raises(CommandError, match="broken in 1 place"):
        call_command("verify")
    assert f"BROKEN row #{rows[1].chain_index} (id {rows[1].pk})" in capsys.readouterr().err
    with pytest.raises(CommandError, match="not anchored"):
        call_command("audit_anchor")
    assert len(anchors.read_text().splitlines()) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_get_contiguous_positions():
    start = AuditChainHead.objects.get().last_index
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            barrier.wait()
            for _ in range(10):
                audit.record(action=AuditAction.RECORD_VIEWED, acting_user=None, object_type="race")
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    indexes = list(AuditEvent.objects.filter(chain_index__gt=start).values_list("chain_index", flat=True))
    assert indexes == list(range(start + 1, start + 81))
    assert verify_chain() == []
