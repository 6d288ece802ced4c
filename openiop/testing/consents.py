"""Test factories: consents recorded through the real action, with a signature like the pad would send."""

from __future__ import annotations

import base64
from typing import Any

from openiop.accounts.models import User
from openiop.consents.actions import SignatureInput, do_record_consent
from openiop.consents.models import Consent, ConsentKind, ExpiryKind, Purpose, RecipientKind
from openiop.patients.models import Patient

# A 1x1 transparent PNG: the smallest drawing the signature pad could send.
TINY_PNG = (
    "data:image/png;base64,"
    + base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
            "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082"
        )
    ).decode()
)


def signature(name: str = "Jordan Rivera", method: str = "typed", **extra: Any) -> SignatureInput:
    image = extra.pop("drawn_image", TINY_PNG if method == "drawn" else "")
    return SignatureInput(signer_name=name, method=method, agreed=True, drawn_image=image, **extra)


def record(patient: Patient, user: User, kind: str = ConsentKind.TREATMENT, **fields: Any) -> Consent:
    fields.setdefault("signature", signature(patient.legal_name))
    fields.setdefault("render_pdf", False)
    return do_record_consent(patient, acting_user=user, kind=kind, **fields)


def part2_tpo(patient: Patient, user: User, **fields: Any) -> Consent:
    """The single TPO consent of the 2024 rule: all SUD records, general designation, no expiry."""
    values: dict[str, Any] = {
        "information_description": "All substance use disorder treatment records held by the program.",
        "data_classes": ["all_records"],
        "recipient_kind": RecipientKind.TPO_GENERAL,
        "purposes": [Purpose.TREATMENT, Purpose.PAYMENT, Purpose.OPERATIONS],
        "expiry_kind": ExpiryKind.NONE,
        "redisclosure_form": "short",
    }
    values.update(fields)
    return record(patient, user, ConsentKind.PART2, **values)


def release_to_contact(patient: Patient, user: User, contact: Any, **fields: Any) -> Consent:
    values: dict[str, Any] = {
        "data_classes": ["attendance", "treatment_plan"],
        "recipient_kind": RecipientKind.SUPPORT_CONTACT,
        "recipient_contact": contact,
        "purposes": [Purpose.TREATMENT],
        "expiry_kind": ExpiryKind.EVENT,
        "expiry_event": "Discharge from the program",
    }
    values.update(fields)
    return record(patient, user, ConsentKind.RELEASE, **values)
