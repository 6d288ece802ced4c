"""Consents API: list, record (with the signature), revoke, and the disclosure decision every other system asks.

Access as in the HTML views (consents.queries): VIEW_PATIENTS reads, the kind's capabilities write, 404 outside
the user's programs. ``GET /patients/{id}/consents/check`` answers from ``consents.checks.may_disclose``, the same
check the portal, family access and exports call.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.api.schemas import ApiIn
from openiop.consents.actions import SignatureInput, do_record_consent, do_revoke_consent
from openiop.consents.checks import Recipient, may_disclose
from openiop.consents.models import Consent, ConsentKind
from openiop.consents.queries import REVOKE_CAPS, WRITE_CAPS, get_consent_for_user, patient_consents
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, require
from openiop.patients.models import EpisodeOfCare
from openiop.patients.queries import get_patient_for_user
from openiop.programs.models import Program

router = Router(tags=["consents"])


class SignatureOut(Schema):
    signer_name: str
    signer_relationship: str
    method: str
    signed_at: datetime
    witnessed_by: UUID = Field(alias="witnessed_by.public_id")


class ConsentOut(Schema):
    id: UUID = Field(alias="public_id")
    patient: UUID = Field(alias="patient.public_id")
    program: UUID = Field(alias="program.public_id")
    kind: str
    status: str
    form_version: str
    information_description: str
    data_classes: list[str]
    recipient_kind: str
    recipient_contact: UUID | None = None
    recipient_name: str
    recipient_organization: str
    purposes: list[str]
    purpose_other: str
    expiry_kind: str
    expires_on: date | None
    expiry_event: str
    redisclosure_form: str
    signed_at: datetime
    revoked_at: datetime | None
    has_pdf: bool
    signature: SignatureOut

    @staticmethod
    def resolve_recipient_contact(obj: Consent) -> UUID | None:
        return obj.recipient_contact.public_id if obj.recipient_contact_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_status(obj: Consent) -> str:
        return obj.status.value

    @staticmethod
    def resolve_has_pdf(obj: Consent) -> bool:
        return bool(obj.pdf_sha256)


class SignatureIn(ApiIn):
    signer_name: str
    method: str
    agreed: bool
    drawn_image: str = ""
    signer_relationship: str = "self"


class ConsentIn(ApiIn):
    kind: str
    program: UUID | None = None
    episode: UUID | None = None
    signature: SignatureIn
    information_description: str = ""
    data_classes: list[str] = []
    recipient_kind: str = ""
    recipient_contact: UUID | None = None
    recipient_name: str = ""
    recipient_organization: str = ""
    purposes: list[str] = []
    purpose_other: str = ""
    expiry_kind: str = "none"
    expires_on: date | None = None
    expiry_event: str = ""
    redisclosure_form: str = ""


class RevokeIn(ApiIn):
    statement: str


class CheckQuery(ApiIn):
    recipient: str
    data_class: str
    purpose: str
    episode: UUID | None = None


class DecisionOut(Schema):
    allowed: bool
    reason: str
    part2: bool
    consent: UUID | None
    redisclosure_notice: str
    scope: str


def _consent(consent: Consent) -> Consent:
    return (
        Consent.objects.select_related("patient", "program", "recipient_contact", "signature__witnessed_by")
        .filter(pk=consent.pk)
        .get()
    )


@router.get("/patients/{patient_id}/consents", response=list[ConsentOut])
def list_consents(request: HttpRequest, patient_id: UUID) -> Any:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="consent")
    return patient_consents(user, patient).select_related("patient", "program", "signature__witnessed_by")


@router.post("/patients/{patient_id}/consents", response={201: ConsentOut})
def create_consent(request: HttpRequest, patient_id: UUID, payload: ConsentIn) -> Any:
    user = request_user(request)
    if payload.kind not in ConsentKind.values:
        raise ValidationError({"kind": f"Use one of {', '.join(ConsentKind.values)}."})
    require(user, any_of=WRITE_CAPS[payload.kind])
    patient = get_patient_for_user(user, patient_id)
    program = None
    if payload.program is not None:
        program = Program.objects.filter(pk__in=program_ids_for(user), public_id=payload.program).first()
        if program is None:
            raise ValidationError({"program": "Unknown program, or not one of yours."})
    episode = None
    if payload.episode is not None:
        episode = EpisodeOfCare.objects.filter(
            patient=patient, program_id__in=program_ids_for(user), public_id=payload.episode
        ).first()
        if episode is None:
            raise ValidationError({"episode": "Unknown episode of this patient."})
    contact = None
    if payload.recipient_contact is not None:
        contact = patient.support_contacts.filter(public_id=payload.recipient_contact).first()
        if contact is None:
            raise ValidationError({"recipient_contact": "Unknown support contact of this patient."})
    data = payload.dict(exclude={"kind", "program", "episode", "signature", "recipient_contact"})
    consent = do_record_consent(
        patient,
        acting_user=user,
        kind=payload.kind,
        program=program,
        episode=episode,
        recipient_contact=contact,
        signature=SignatureInput(**payload.signature.dict()),
        **data,
    )
    return Status(201, _consent(consent))


@router.get("/consents/{consent_id}", response=ConsentOut)
def get_consent(request: HttpRequest, consent_id: UUID) -> Consent:
    user = request_user(request)
    consent = get_consent_for_user(user, consent_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=consent.patient, obj=consent)
    return consent


@router.post("/consents/{consent_id}/revoke", response=ConsentOut)
def revoke_consent(request: HttpRequest, consent_id: UUID, payload: RevokeIn) -> Consent:
    user = request_user(request)
    consent = get_consent_for_user(user, consent_id, REVOKE_CAPS)
    do_revoke_consent(consent, acting_user=user, statement=payload.statement)
    return _consent(consent)


@router.get("/patients/{patient_id}/consents/check", response=DecisionOut)
def check_disclosure(request: HttpRequest, patient_id: UUID, query: Query[CheckQuery]) -> dict[str, Any]:
    """May this data go to this recipient for this purpose, now? Read fresh on every call (no caching)."""
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id)
    try:
        recipient = Recipient.parse(query.recipient, patient)
    except ValueError as exc:
        raise ValidationError({"recipient": str(exc)}) from None
    episode = None
    if query.episode is not None:
        episode = (
            EpisodeOfCare.objects.filter(patient=patient, program_id__in=program_ids_for(user), public_id=query.episode)
            .select_related("program")
            .first()
        )
        if episode is None:
            raise ValidationError({"episode": "Unknown episode of this patient."})
    try:
        decision = may_disclose(
            patient, recipient=recipient, data_class=query.data_class, purpose=query.purpose, episode=episode
        )
    except ValueError as exc:
        field = "data_class" if "data class" in str(exc) else "purpose"
        raise ValidationError({field: str(exc)}) from None
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="consent_check")
    return {
        "allowed": decision.allowed,
        "reason": decision.reason,
        "part2": decision.part2,
        "consent": decision.consent.public_id if decision.consent else None,
        "redisclosure_notice": decision.redisclosure_notice,
        "scope": decision.scope,
    }
