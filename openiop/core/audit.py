"""Write and verify the hash-chained audit trail.

Every row's hash covers its own fields and the previous row's hash, so changing, inserting or deleting any
row breaks the chain at that point, and the head row (last index and hash) catches a truncated tail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone

from openiop.core.context import current_origin
from openiop.core.models import AuditAction, AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64

# Set by patients' scoped lookups on a patient opened under break-the-glass (patients/emergency.py). A chart read of
# such a patient is written as EMERGENCY_VIEWED instead of CHART_VIEWED / RECORD_VIEWED, whichever app's page it is,
# so the audit report lists every read made under emergency access apart.
EMERGENCY_GRANT_ATTR = "emergency_grant"
_READS = frozenset({AuditAction.CHART_VIEWED, AuditAction.RECORD_VIEWED})


def _canonical(event: AuditEvent) -> bytes:
    payload = {
        "i": event.chain_index,
        "t": event.occurred_at.isoformat(),
        "a": event.actor_id,
        "al": event.actor_label,
        "o": event.organization_id_ref,
        "p": event.patient_id,
        "x": int(event.action),
        "ot": event.object_type,
        "oi": event.object_id,
        "f": list(event.changed_fields or []),
        "ip": event.ip_address,
        "ua": event.user_agent,
        "r": event.request_id,
        "prev": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def record(
    *,
    action: AuditAction,
    # Typed by Django's bases: core sits below accounts (the staff User) and patients (the Patient).
    acting_user: AbstractBaseUser | None,
    patient: models.Model | None = None,
    obj: Any = None,
    object_type: str = "",
    changed_fields: Iterable[str] = (),
    organization_id: int | None = None,
) -> AuditEvent:
    """Append one audit row in the caller's transaction (or its own, when called outside one).

    ``obj`` names the record acted on by its model name and public id; its content is never stored.
    """
    origin = current_origin()
    if action in _READS and getattr(patient, EMERGENCY_GRANT_ATTR, None) is not None:
        action = AuditAction.EMERGENCY_VIEWED
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = str(getattr(obj, "public_id", "") or obj.pk)
    else:
        object_id = ""
    if organization_id is None:
        if patient is not None:
            organization_id = patient.organization_id  # type: ignore[attr-defined]
        elif acting_user is not None:
            organization_id = acting_user.organization_id  # type: ignore[attr-defined]
    # No savepoint when joining the caller's transaction: a failed audit row must fail the write it audits anyway,
    # and the savepoint cost two statements on every audited write.
    with transaction.atomic(savepoint=False):
        # The lock on the head row orders the chain: the position is taken here, not from the row id.
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        event = AuditEvent(
            chain_index=head.last_index + 1,
            occurred_at=timezone.now(),
            actor=acting_user,  # type: ignore[misc]
            actor_label=acting_user.get_username() if acting_user is not None else "system",
            organization_id_ref=organization_id,
            patient=patient,
            action=action,
            object_type=object_type,
            object_id=object_id,
            changed_fields=sorted(set(changed_fields)),
            ip_address=origin.ip_address,
            user_agent=origin.user_agent[:200],
            request_id=origin.request_id,
            prev_hash=head.last_hash,
        )
        # Hash exactly what the database will hold (IPv6 addresses are normalized on save).
        event.ip_address = AuditEvent._meta.get_field("ip_address").get_prep_value(event.ip_address)
        event.row_hash = compute_hash(event)
        event.save(force_insert=True)
        head.last_index = event.chain_index
        head.last_hash = event.row_hash
        head.save(update_fields=["last_index", "last_hash"])
    return event


@dataclass(frozen=True)
class ChainBreak:
    chain_index: int | None
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"row #{self.chain_index} (id {self.event_id})" if self.chain_index is not None else "chain head"
        return f"{where}: {self.reason}"


def verify_chain(batch_size: int = 5000) -> list[ChainBreak]:
    """Walk the whole chain and return every place it breaks (empty when intact)."""
    breaks: list[ChainBreak] = []
    expected_index = 1
    prev_hash = GENESIS_HASH
    for event in _iter_events(batch_size):
        if event.chain_index != expected_index:
            if event.chain_index > expected_index:
                missing = (
                    f"{expected_index}"
                    if event.chain_index == expected_index + 1
                    else (f"{expected_index}-{event.chain_index - 1}")
                )
                reason = f"rows {missing} are missing before it (deleted)"
            else:
                reason = f"position out of order (expected {expected_index})"
            breaks.append(ChainBreak(event.chain_index, event.pk, reason))
        if event.prev_hash != prev_hash:
            breaks.append(
                ChainBreak(event.chain_index, event.pk, "previous-hash link does not match (row inserted or removed)")
            )
        if compute_hash(event) != event.row_hash:
            breaks.append(ChainBreak(event.chain_index, event.pk, "contents altered (hash mismatch)"))
        prev_hash = event.row_hash
        expected_index = event.chain_index + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        breaks.append(ChainBreak(None, None, "chain head row is missing"))
    elif head.last_index != expected_index - 1 or head.last_hash != prev_hash:
        breaks.append(
            ChainBreak(
                None,
                None,
                f"head says the chain ends at #{head.last_index}, rows end at #{expected_index - 1} "
                "(rows deleted from the end, or the head was altered)",
            )
        )
    return breaks


def _iter_events(batch_size: int) -> Iterator[AuditEvent]:
    last = 0
    while True:
        batch = list(AuditEvent.objects.filter(chain_index__gt=last).order_by("chain_index")[:batch_size])
        if not batch:
            return
        yield from batch
        last = batch[-1].chain_index
