from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, close_old_connections, connection, transaction

from openiop.core import audit
from openiop.core.audit import verify_chain
from openiop.core.models import AuditAction, AuditChainHead, AuditEvent


def _disable_guard() -> None:
    """Tampering needs the append-only triggers out of the way (an attacker with DDL rights)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER refuses while FK checks are pending
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER core_auditevent_no_update")
            cursor.execute("DROP TRIGGER core_auditevent_no_delete")


def _rows(clinic, n=5):
    return [
        audit.record(action=AuditAction.RECORD_VIEWED, acting_user=clinic.clinician, object_type="probe")
        for _ in range(n)
    ]


def test_intact_chain_verifies(clinic, patient):
    assert AuditEvent.objects.filter(patient=patient).count() == 2
    assert verify_chain() == []
    head = AuditChainHead.objects.get()
    last = AuditEvent.objects.order_by("-chain_index")[0]
    assert (head.last_index, head.last_hash) == (last.chain_index, last.row_hash)


def test_rows_hold_no_content(clinic, patient):
    event = AuditEvent.objects.filter(patient=patient, object_type="patient").get()
    assert "legal_first_name" in event.changed_fields
    values = {str(v) for v in (event.object_type, event.object_id, event.actor_label, *event.changed_fields)}
    assert patient.legal_first_name not in values
    assert patient.legal_last_name not in " ".join(values)


def test_altered_row_is_named(clinic):
    rows = _rows(clinic)
    target = rows[2]
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET object_type = %s WHERE id = %s", ["forged", target.pk])
    breaks = verify_chain()
    assert [(b.chain_index, "altered" in b.reason) for b in breaks] == [(target.chain_index, True)]


def test_deleted_row_is_named(clinic):
    rows = _rows(clinic)
    victim = rows[1]
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [victim.pk])
    breaks = verify_chain()
    assert breaks
    assert breaks[0].chain_index == victim.chain_index + 1
    assert "missing" in breaks[0].reason
    assert str(victim.chain_index) in breaks[0].reason


def test_row_inserted_mid_chain_is_named(clinic):
    rows = _rows(clinic)
    k = rows[2].chain_index
    _disable_guard()
    with connection.cursor() as cursor:
        # Make room after row k (two steps so the unique index never sees a clash), then slip a forged row in.
        cursor.execute("UPDATE core_auditevent SET chain_index = chain_index + 1000000 WHERE chain_index > %s", [k])
        cursor.execute(
            "UPDATE core_auditevent SET chain_index = chain_index - 999999 WHERE chain_index > %s", [k + 1000000 - 1]
        )
    forged = AuditEvent(
        chain_index=k + 1,
        occurred_at=rows[2].occurred_at,
        actor_label="intruder",
        action=AuditAction.CHART_VIEWED,
        prev_hash=rows[2].row_hash,
    )
    forged.row_hash = audit.compute_hash(forged)
    forged.save(force_insert=True)
    breaks = verify_chain()
    assert breaks
    # The forged row itself links and hashes correctly; the chain breaks at the row after it.
    assert {b.chain_index for b in breaks} >= {k + 2}
    assert k + 1 not in {b.chain_index for b in breaks}


def test_row_appended_without_the_head_is_detected(clinic):
    rows = _rows(clinic)
    forged = AuditEvent(
        chain_index=rows[-1].chain_index + 1,
        occurred_at=rows[-1].occurred_at,
        actor_label="intruder",
        action=AuditAction.CHART_VIEWED,
        prev_hash=rows[-1].row_hash,
    )
    forged.row_hash = audit.compute_hash(forged)
    forged.save(force_insert=True)
    breaks = verify_chain()
    assert [b.chain_index for b in breaks] == [None]
    assert f"rows end at #{forged.chain_index}" in breaks[0].reason


def test_truncated_tail_is_detected(clinic):
    rows = _rows(clinic)
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [rows[-1].pk])
    breaks = verify_chain()
    assert len(breaks) == 1
    assert breaks[0].chain_index is None
    assert "head" in str(breaks[0])


def test_verify_command_reports_and_fails(clinic, capsys):
    rows = _rows(clinic, 3)
    call_command("verify")
    assert "intact" in capsys.readouterr().out
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET actor_label = %s WHERE id = %s", ["someone", rows[1].pk])
    with pytest.raises(CommandError, match="broken in 1 place"):
        call_command("verify")
    assert f"row #{rows[1].chain_index}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE core_auditevent SET object_type = 'x'",
        "DELETE FROM core_auditevent",
    ],
)
def test_database_refuses_update_and_delete(clinic, statement):
    _rows(clinic, 2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert verify_chain() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_get_contiguous_positions():
    from openiop.testing.fixtures import build_clinic

    clinic = build_clinic()
    start = AuditChainHead.objects.get().last_index
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            barrier.wait()
            for _ in range(10):
                audit.record(action=AuditAction.RECORD_VIEWED, acting_user=clinic.clinician, object_type="race")
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
