"""Importing acknowledgements: a 999 (did the payer's front end take our transaction sets?) and a 277CA (did it
take each claim?), and remittances: an 835 (what did it pay, adjust, deny? posted by remittance.py). Each received
file is stored once (its SHA-256; the same file again is refused, so nothing is applied twice) and moves the
claims it answers, with the reason, in one transaction.

- **999**: a transaction set rejected (R, M, W, X) rejects every claim it carried, with the segment errors as the
  reason; an accepted one (A, E) leaves them submitted (the file was readable: the claims themselves are judged by
  the 277CA) and notes it in their history.
- **277CA**: per claim (our CLM01): A1/A2/A5 categories accept it and give us the payer's claim number (needed to
  replace or void it later); A3/A4/A6/A7/A8/E0 reject it with the status text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from openiop.claims import remittance
from openiop.claims.models import Claim, X12File
from openiop.claims.x12out import claims_by_control_number, move_claim, note
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.lib import x12

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.programs.models import Organization

# Largest file accepted: acknowledgements are small; this bounds what a mistaken upload can cost.
MAX_BYTES = 5_000_000


@dataclass
class Imported:
    file: X12File
    accepted: list[Claim] = field(default_factory=list)
    rejected: list[Claim] = field(default_factory=list)
    noted: list[Claim] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # control numbers the file names that are not ours
    paid: list[Claim] = field(default_factory=list)
    denied: list[Claim] = field(default_factory=list)
    reversed: list[Claim] = field(default_factory=list)


def _kind(text: str) -> str:
    """999 or 277CA, from the first ST segment; ValidationError for anything else."""
    head = text.lstrip()
    if not head.startswith("ISA") or len(head) < 106:
        raise ValidationError({"file": "This is not an X12 file (it must start with an ISA segment)."})
    segment_end = head[105]
    element = head[3]
    for segment in head.split(segment_end):
        parts = segment.strip().split(element)
        if parts and parts[0] == "ST":
            code = parts[1] if len(parts) > 1 else ""
            if code == "999":
                return X12File.Kind.ACK_999
            if code == "277":
                return X12File.Kind.ACK_277CA
            if code == "835":
                return X12File.Kind.REMIT_835
            raise ValidationError({"file": f"OpenIOP imports 999, 277CA and 835 files here, not {code or 'this'}."})
    raise ValidationError({"file": "The file has no transaction set (ST segment)."})


@transaction.atomic
def import_acknowledgement(text: str, *, acting_user: User, organization: Organization) -> Imported:
    if len(text.encode()) > MAX_BYTES:
        raise ValidationError({"file": "The file is larger than an acknowledgement can be."})
    kind = _kind(text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    if X12File.objects.filter(organization=organization, direction=X12File.Direction.IN, sha256=digest).exists():
        raise ValidationError({"file": "This file was imported already; nothing was applied twice."})
    try:
        parsed_999 = x12.read_999(text) if kind == X12File.Kind.ACK_999 else None
        parsed_277 = x12.read_277ca(text) if kind == X12File.Kind.ACK_277CA else None
        parsed_835 = x12.read_835(text) if kind == X12File.Kind.REMIT_835 else None
    except x12.X12ReadError as exc:
        raise ValidationError({"file": f"The file could not be read: {exc}"}) from exc
    file = X12File.objects.create(
        organization=organization,
        kind=kind,
        direction=X12File.Direction.IN,
        content=text,
        sha256=digest,
        created_by=acting_user,
    )
    result = Imported(file)
    if parsed_999 is not None:
        _apply_999(parsed_999, result, acting_user=acting_user, organization=organization)
    elif parsed_277 is not None:
        _apply_277(parsed_277, result, acting_user=acting_user, organization=organization)
    elif parsed_835 is not None:
        remittance.post_remittances(parsed_835, result, acting_user=acting_user, organization=organization)
    if kind == X12File.Kind.REMIT_835:
        counts = [f"{len(result.paid)} paid", f"{len(result.denied)} denied", f"{len(result.reversed)} reversed"]
    else:
        counts = [f"{len(result.accepted)} accepted", f"{len(result.rejected)} rejected"]
    file.summary = ", ".join([*counts, f"{len(result.noted)} noted"]) + (
        f", {len(result.unknown)} not ours" if result.unknown else ""
    )
    file.save(update_fields=["summary"])
    file.claims.set([*result.accepted, *result.rejected, *result.noted, *result.paid, *result.denied, *result.reversed])
    audit.record(action=AuditAction.CREATED, acting_user=acting_user, obj=file, changed_fields=[kind])
    return result


def _sent_claims(organization: Organization, group_number: str, st_number: str) -> list[Claim]:
    """The claims one of our transaction sets carried, found by the group (GS06) and set (ST02) numbers."""
    try:
        group = int(group_number)
    except ValueError:
        return []
    sent = X12File.objects.filter(
        organization=organization, direction=X12File.Direction.OUT, group_control_number=group
    ).first()
    if sent is None:
        return []
    numbers: list[str] = next(
        (entry["claims"] for entry in sent.transaction_control_numbers if entry["control_number"] == st_number), []
    )
    return list(claims_by_control_number(organization, numbers).values())


def _apply_999(groups: list, result: Imported, *, acting_user: User, organization: Organization) -> None:
    for group in groups:
        for ack in group.transactions:
            claims = _sent_claims(organization, group.group_control_number, ack.control_number)
            if not claims:
                result.unknown.append(f"{group.group_control_number}/{ack.control_number}")
                continue
            if ack.accepted:
                for claim in claims:
                    note(
                        claim,
                        result.file,
                        result.noted,
                        f"999: transaction set {ack.control_number} accepted ({ack.status_text}).",
                    )
                continue
            errors = "; ".join(
                f"{e.segment_id} (segment {e.position}): {e.text}"
                + "".join(f", element {el.position}: {el.text}" for el in e.elements)
                for e in ack.segment_errors
            )
            reason = f"999 rejected transaction set {ack.control_number}: {ack.status_text}. {errors}".strip()
            for claim in claims:
                if claim.status == Claim.Status.SUBMITTED:
                    move_claim(claim, Claim.Status.REJECTED, acting_user=acting_user, file=result.file, note=reason)
                    result.rejected.append(claim)


def _apply_277(report: x12.ClaimAcknowledgmentReport, result: Imported, *, acting_user: User, organization) -> None:
    claims = claims_by_control_number(organization, [c.patient_control_number for c in report.claims])
    for ack in report.claims:
        claim = claims.get(ack.patient_control_number)
        if claim is None:
            result.unknown.append(ack.patient_control_number)
            continue
        outcome = ack.outcome
        text = ack.message or ", ".join(s.category_text for r in ack.reports for s in r.statuses)
        if outcome == "accepted" and claim.status == Claim.Status.SUBMITTED:
            if ack.payer_claim_number:
                claim.payer_claim_number = ack.payer_claim_number[:50]
                claim.save(update_fields=["payer_claim_number", "updated_at"])
            move_claim(claim, Claim.Status.ACCEPTED, acting_user=acting_user, file=result.file, note=f"277CA: {text}")
            result.accepted.append(claim)
        elif outcome == "rejected" and claim.status in (Claim.Status.SUBMITTED, Claim.Status.ACCEPTED):
            move_claim(claim, Claim.Status.REJECTED, acting_user=acting_user, file=result.file, note=f"277CA: {text}")
            result.rejected.append(claim)
        else:
            note(claim, result.file, result.noted, f"277CA ({outcome}): {text}")
