"""Write, verify and anchor the keyed, hash-chained audit trail.

Every row's HMAC-SHA256 covers its own fields and the previous row's hash, under a key held outside the database
(settings.AUDIT_HMAC_KEYS, named per row by ``key_id``), so changing, inserting or deleting any row breaks the chain at
that point and a database writer without the key cannot forge a replacement. The head row (last index and hash)
catches a truncated tail; anchors written outside the database (``write_anchor``) catch a truncated tail whose head was
moved back too, and history rewritten by someone who has the key. docs/decisions/0006-audit-hash-chain.md has the
threat model.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone

from openiop.core.context import current_origin
from openiop.core.models import AuditAction, AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64
# Rows written before the chain was keyed (core migration 0005): plain SHA-256, accepted only as the chain's first run.
LEGACY_KEY_ID = "sha256-legacy"


class UnknownAuditKey(LookupError):
    """A row or anchor names a key id that AUDIT_HMAC_KEYS does not hold."""


def _key(key_id: str) -> bytes:
    try:
        return str(settings.AUDIT_HMAC_KEYS[key_id]).encode()
    except KeyError:
        raise UnknownAuditKey(key_id) from None


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
    if event.key_id != LEGACY_KEY_ID:
        payload["k"] = event.key_id  # the key's name is covered too: a row cannot be moved to another key
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def compute_hash(event: AuditEvent) -> str:
    """The row's HMAC-SHA256 under its key (plain SHA-256 for a legacy row); UnknownAuditKey if the key is gone."""
    if event.key_id == LEGACY_KEY_ID:
        return hashlib.sha256(_canonical(event)).hexdigest()
    return hmac.new(_key(event.key_id), _canonical(event), hashlib.sha256).hexdigest()


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
            key_id=settings.AUDIT_HMAC_KEY_ID,
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
        if self.chain_index is None:
            where = "chain head"
        elif self.event_id is None:
            where = f"row #{self.chain_index}"
        else:
            where = f"row #{self.chain_index} (id {self.event_id})"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Anchor:
    """One line of the anchor file: the chain's last row at a moment, MACed with the key current then."""

    chain_index: int
    event_id: int
    row_hash: str
    anchored_at: str
    key_id: str
    mac: str = ""
    source: str = ""  # file:line it was read from

    def message(self) -> bytes:
        body = {"i": self.chain_index, "id": self.event_id, "h": self.row_hash, "t": self.anchored_at, "k": self.key_id}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def expected_mac(self) -> str:
        return hmac.new(_key(self.key_id), self.message(), hashlib.sha256).hexdigest()

    def line(self) -> str:
        body = json.loads(self.message())
        body["mac"] = self.mac
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    def __str__(self) -> str:
        return f"row #{self.chain_index} (id {self.event_id}, hash {self.row_hash[:16]}...) anchored {self.anchored_at}"


def verify_chain(batch_size: int = 5000, anchors: Sequence[Anchor] = ()) -> list[ChainBreak]:
    """Walk the whole chain and return every place it breaks (empty when intact), first break first.

    ``anchors`` (from ``load_anchors``) are positions the chain held when they were written: each must still be
    there with the same hash, which catches a truncated tail even when the head was moved back with it.
    """
    breaks: list[ChainBreak] = []
    expected_index = 1
    prev_hash = GENESIS_HASH
    keyed_seen = False
    anchored = {a.chain_index: a for a in anchors}
    for event in _iter_events(batch_size):
        if event.chain_index != expected_index:
            if event.chain_index > expected_index:
                reason = f"{_missing(expected_index, event.chain_index - 1)} before it (deleted)"
            else:
                reason = f"position out of order (expected {expected_index})"
            breaks.append(ChainBreak(event.chain_index, event.pk, reason))
        if event.prev_hash != prev_hash:
            breaks.append(
                ChainBreak(event.chain_index, event.pk, "previous-hash link does not match (row inserted or removed)")
            )
        breaks.extend(_row_breaks(event, keyed_seen))
        keyed_seen = keyed_seen or event.key_id != LEGACY_KEY_ID
        anchor = anchored.pop(event.chain_index, None)
        if anchor is not None and anchor.row_hash != event.row_hash:
            breaks.append(
                ChainBreak(event.chain_index, event.pk, f"differs from the anchor ({anchor}): history rewritten")
            )
        prev_hash = event.row_hash
        expected_index = event.chain_index + 1
    last_index = expected_index - 1
    for anchor in sorted(anchored.values(), key=lambda a: a.chain_index):
        if anchor.chain_index <= last_index:
            reason = f"this anchored row is gone ({anchor}): deleted"
            breaks.append(ChainBreak(anchor.chain_index, anchor.event_id, reason))
    beyond = [a for a in anchored.values() if a.chain_index > last_index]
    if beyond:
        # Anchored rows past the end: the tail was cut off (whatever the head says now).
        furthest = max(beyond, key=lambda a: a.chain_index)
        breaks.append(
            ChainBreak(
                last_index + 1,
                None,
                f"{_missing(last_index + 1, furthest.chain_index)}: the chain ends at #{last_index} but "
                f"was anchored at {furthest} (tail deleted)",
            )
        )
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        breaks.append(ChainBreak(None, None, "chain head row is missing"))
    elif head.last_index > last_index:
        missing = _missing(last_index + 1, head.last_index)
        breaks.append(
            ChainBreak(last_index + 1, None, f"{missing}: the head says the chain ends at #{head.last_index}")
        )
    elif head.last_index != last_index or head.last_hash != prev_hash:
        breaks.append(
            ChainBreak(
                None,
                None,
                f"head says the chain ends at #{head.last_index}, rows end at #{last_index} "
                "(rows added without moving the head, or the head was altered)",
            )
        )
    return _first_first(breaks)


def _missing(first: int, last: int) -> str:
    return f"row {first} is missing" if first == last else f"rows {first}-{last} are missing"


def _first_first(breaks: list[ChainBreak]) -> list[ChainBreak]:
    # Stable: a row's own reasons keep their order; the head's and the anchor files' come after every row's.
    return sorted(breaks, key=lambda b: (b.chain_index is None, b.chain_index or 0))


def _row_breaks(event: AuditEvent, keyed_seen: bool) -> list[ChainBreak]:
    if event.key_id == LEGACY_KEY_ID and keyed_seen:
        # Only rows from before the chain was keyed may be unkeyed, and they all come first.
        return [ChainBreak(event.chain_index, event.pk, "unkeyed (plain SHA-256) row after keyed rows: forged")]
    try:
        expected = compute_hash(event)
    except UnknownAuditKey:
        return [ChainBreak(event.chain_index, event.pk, f"key id {event.key_id!r} is not in AUDIT_HMAC_KEYS")]
    if not hmac.compare_digest(expected, event.row_hash):
        return [ChainBreak(event.chain_index, event.pk, "contents altered or forged (HMAC mismatch)")]
    return []


def _iter_events(batch_size: int) -> Iterator[AuditEvent]:
    last = 0
    while True:
        batch = list(AuditEvent.objects.filter(chain_index__gt=last).order_by("chain_index")[:batch_size])
        if not batch:
            return
        yield from batch
        last = batch[-1].chain_index


# --- Anchors outside the database ----------------------------------------------------------------------------------


def anchor_paths() -> list[Path]:
    paths = [Path(settings.AUDIT_ANCHOR_PATH)]
    if settings.AUDIT_ANCHOR_COPY_PATH:
        paths.append(Path(settings.AUDIT_ANCHOR_COPY_PATH))
    return paths


def load_anchors(paths: Iterable[Path] | None = None) -> tuple[list[Anchor], list[ChainBreak]]:
    """Every anchor in the anchor files (a missing file holds none), oldest first, and a break for each line that
    is not a genuine anchor (unreadable, MAC wrong, key unknown). An anchor in either file counts: deleting lines
    from one copy hides nothing the other still holds."""
    found: dict[tuple[int, str, str], Anchor] = {}
    problems: list[ChainBreak] = []
    for path in anchor_paths() if paths is None else paths:
        if not path.exists():
            continue
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            if not text.strip():
                continue
            source = f"{path}:{number}"
            try:
                data = json.loads(text)
                anchor = Anchor(
                    chain_index=int(data["i"]),
                    event_id=int(data["id"]),
                    row_hash=str(data["h"]),
                    anchored_at=str(data["t"]),
                    key_id=str(data["k"]),
                    mac=str(data["mac"]),
                    source=source,
                )
            except (ValueError, KeyError, TypeError):
                problems.append(ChainBreak(None, None, f"anchor {source} is not an anchor line"))
                continue
            try:
                genuine = hmac.compare_digest(anchor.expected_mac(), anchor.mac)
            except UnknownAuditKey:
                problems.append(ChainBreak(None, None, f"anchor {source} names key id {anchor.key_id!r}, not held"))
                continue
            if not genuine:
                problems.append(ChainBreak(None, None, f"anchor {source} was altered or forged (MAC mismatch)"))
                continue
            found.setdefault((anchor.chain_index, anchor.row_hash, anchor.anchored_at), anchor)
    anchors = sorted(found.values(), key=lambda a: (a.anchored_at, a.chain_index))
    return anchors, problems


def verify_with_anchors() -> tuple[list[ChainBreak], Anchor | None]:
    """The chain checked against every anchor, anchor-file problems included; and the newest anchor."""
    anchors, problems = load_anchors()
    breaks = verify_chain(anchors=anchors)
    # Of several anchors naming one position (two copies, or a rerun), every hash must be the same.
    hashes: dict[int, set[str]] = {}
    for anchor in anchors:
        hashes.setdefault(anchor.chain_index, set()).add(anchor.row_hash)
    breaks += [ChainBreak(i, None, "anchors disagree about this row") for i, h in sorted(hashes.items()) if len(h) > 1]
    return _first_first(breaks + problems), (anchors[-1] if anchors else None)


def write_anchor() -> Anchor | None:
    """Append the chain's current last row to every anchor file (None when the chain is still empty).

    Appends only, one line per call, flushed to disk before returning; a rerun for the same position only adds a
    line that says the same thing.
    """
    head = AuditChainHead.objects.get(pk=1)
    last = AuditEvent.objects.filter(chain_index=head.last_index).only("pk", "row_hash").first()
    if last is None:
        return None
    key_id = settings.AUDIT_HMAC_KEY_ID
    anchor = Anchor(
        chain_index=head.last_index,
        event_id=last.pk,
        row_hash=last.row_hash,
        anchored_at=timezone.now().isoformat(timespec="seconds"),
        key_id=key_id,
    )
    anchor = replace(anchor, mac=anchor.expected_mac())
    line = anchor.line() + "\n"
    for path in anchor_paths():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line.encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    return anchor
