"""Writes to consents: record a signed consent, revoke it in writing, mark its expiry event, store its PDF.

Each is one transaction with its audit row (field names only). The signed PDF is rendered after the commit, so a
rendering failure never loses the signature; the download view renders it then if it is still missing.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.consents import storage
from openiop.consents.models import (
    DISCLOSURE_KINDS,
    GENERAL_DESIGNATIONS,
    TPO_PURPOSES,
    Consent,
    ConsentKind,
    ConsentStatus,
    DataClass,
    ExpiryKind,
    Purpose,
    RecipientKind,
    RedisclosureForm,
    Signature,
)
from openiop.consents.notices import FORM_VERSION, REVOCATION_INSTRUCTIONS
from openiop.core import audit
from openiop.core.context import current_origin
from openiop.core.models import AuditAction
from openiop.patients.models import EpisodeOfCare, Patient, SupportContact, current_episode
from openiop.programs.models import Program

# A signature pad PNG is a few kilobytes; anything near this limit is not a signature.
MAX_DRAWN_SIGNATURE_BYTES = 200_000
MAX_REVOCATION_DOCUMENT_BYTES = 5_000_000
_DOCUMENT_TYPES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
_PNG_PREFIX = "data:image/png;base64,"
SCOPE_FIELDS = (
    "information_description", "data_classes", "recipient_kind", "recipient_contact", "recipient_name",
    "recipient_organization", "purposes", "purpose_other", "expiry_kind", "expires_on", "expiry_event",
    "redisclosure_form",
)  # fmt: skip


@dataclass(frozen=True)
class SignatureInput:
    signer_name: str
    method: str
    agreed: bool
    drawn_image: str = ""
    signer_relationship: str = Signature.SignerRelationship.SELF


def _check_signature(sig: SignatureInput) -> None:
    errors: dict[str, str] = {}
    if not sig.signer_name.strip():
        errors["signer_name"] = "Type the signer's full name."
    if sig.method not in Signature.Method.values:
        errors["signature_method"] = "Choose how the patient signs."
    if sig.signer_relationship not in Signature.SignerRelationship.values:
        errors["signer_relationship"] = "Choose who signs."
    if not sig.agreed:
        errors["agreed"] = "The signer must confirm they read and agree to the form."
    if sig.method == Signature.Method.DRAWN:
        problem = _drawn_image_problem(sig.drawn_image)
        if problem:
            errors["drawn_image"] = problem
    if errors:
        raise ValidationError(errors)


def _drawn_image_problem(data_url: str) -> str:
    if not data_url:
        return "Draw the signature in the box."
    if not data_url.startswith(_PNG_PREFIX):
        return "The drawn signature must be a PNG image."
    if len(data_url) > MAX_DRAWN_SIGNATURE_BYTES * 4 // 3 + len(_PNG_PREFIX) + 4:
        return "The drawn signature is too large."
    try:
        raw = base64.b64decode(data_url[len(_PNG_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return "The drawn signature could not be read."
    if not raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return "The drawn signature must be a PNG image."
    if len(raw) > MAX_DRAWN_SIGNATURE_BYTES:
        return "The drawn signature is too large."
    return ""


def _check_scope(consent: Consent, today: date) -> None:
    errors: dict[str, str] = {}
    kind = consent.kind
    classes = consent.data_classes
    if kind == ConsentKind.PART2 and not consent.program.is_substance_use:
        errors["program"] = "A Part 2 consent names a substance-use program as the discloser."
    if kind == ConsentKind.PART2 and not consent.information_description.strip():
        errors["information_description"] = "Describe the substance use disorder information to be disclosed."
    if not classes:
        errors["data_classes"] = "Choose what may be shared."
    elif any(c not in DataClass.values for c in classes):
        errors["data_classes"] = "Unknown kind of information."
    elif DataClass.COUNSELING_NOTES in classes and len(classes) > 1:
        errors["data_classes"] = "Counseling notes need a consent of their own: record them on a separate form."
    if consent.recipient_kind not in RecipientKind.values:
        errors["recipient_kind"] = "Choose who may receive the information."
    elif kind == ConsentKind.RELEASE and consent.recipient_kind == RecipientKind.TPO_GENERAL:
        errors["recipient_kind"] = "The general TPO designation belongs on a Part 2 consent; name the recipient."
    elif consent.recipient_kind == RecipientKind.SUPPORT_CONTACT and consent.recipient_contact is None:
        errors["recipient_contact"] = "Choose the person from the support network."
    elif consent.recipient_kind == RecipientKind.OUTSIDE_PROVIDER and not consent.recipient_organization.strip():
        errors["recipient_organization"] = "Name the outside provider's organization."
    purposes = consent.purposes
    if not purposes:
        errors["purposes"] = "Choose the purpose of the disclosure."
    elif any(p not in Purpose.values for p in purposes):
        errors["purposes"] = "Unknown purpose."
    elif consent.recipient_kind in GENERAL_DESIGNATIONS and not set(purposes) <= TPO_PURPOSES:
        errors["purposes"] = "A general designation of recipients covers treatment, payment and operations only."
    elif Purpose.OTHER in purposes and not consent.purpose_other.strip():
        errors["purpose_other"] = "Describe the other purpose."
    if consent.expiry_kind == ExpiryKind.DATE:
        if consent.expires_on is None:
            errors["expires_on"] = "Give the date the consent expires."
        elif consent.expires_on < today:
            errors["expires_on"] = "The expiry date has passed."
    elif consent.expiry_kind == ExpiryKind.EVENT:
        if not consent.expiry_event.strip():
            errors["expiry_event"] = "Describe the event that ends the consent."
    elif consent.expiry_kind == ExpiryKind.NONE:
        tpo_only = consent.recipient_kind in GENERAL_DESIGNATIONS and set(purposes) <= TPO_PURPOSES
        if not (kind == ConsentKind.PART2 and tpo_only):
            errors["expiry_kind"] = "Only a Part 2 consent for treatment, payment and operations may have no expiry."
    else:
        errors["expiry_kind"] = "Choose when the consent expires."
    if kind == ConsentKind.PART2 and consent.redisclosure_form not in RedisclosureForm.values:
        errors["redisclosure_form"] = "Choose the redisclosure notice form."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_record_consent(
    patient: Patient,
    *,
    acting_user: User,
    kind: str,
    signature: SignatureInput,
    program: Program | None = None,
    episode: EpisodeOfCare | None = None,
    information_description: str = "",
    data_classes: Iterable[str] = (),
    recipient_kind: str = "",
    recipient_contact: SupportContact | None = None,
    recipient_name: str = "",
    recipient_organization: str = "",
    purposes: Iterable[str] = (),
    purpose_other: str = "",
    expiry_kind: str = ExpiryKind.NONE,
    expires_on: date | None = None,
    expiry_event: str = "",
    redisclosure_form: str = "",
    render_pdf: bool = True,
) -> Consent:
    """Record a consent the patient has just signed, with its signature; the PDF follows after the commit."""
    if kind not in ConsentKind.values:
        raise ValidationError({"kind": "Unknown kind of consent."})
    if episode is not None and episode.patient_id != patient.pk:
        raise ValidationError({"episode": "That episode belongs to another patient."})
    if program is None and episode is not None:
        program = episode.program
    if program is None and kind == ConsentKind.PART2:
        # A Part 2 consent is given to the substance-use program treating the patient.
        open_episodes = patient.episodes.exclude(status=EpisodeOfCare.Status.DISCHARGED).select_related("program__site")
        current = current_episode(e for e in open_episodes if e.program.is_substance_use)
        program = current.program if current is not None else None
    program = program or patient.home_program
    if program.site.organization_id != patient.organization_id:
        raise ValidationError({"program": "Choose one of the patient's programs."})
    if episode is not None and episode.program_id != program.pk:
        raise ValidationError({"program": "The program must be the episode's program."})
    if recipient_contact is not None and recipient_contact.patient_id != patient.pk:
        raise ValidationError({"recipient_contact": "That contact belongs to another patient."})
    _check_signature(signature)
    now = timezone.now()
    consent = Consent(
        patient=patient,
        program=program,
        episode=episode,
        kind=kind,
        form_version=FORM_VERSION,
        signed_at=now,
        recorded_by=acting_user,
        revocation_instructions=REVOCATION_INSTRUCTIONS,
    )
    if kind in DISCLOSURE_KINDS:
        consent.information_description = information_description.strip()
        consent.data_classes = list(dict.fromkeys(data_classes))
        consent.recipient_kind = recipient_kind
        consent.recipient_contact = recipient_contact if recipient_kind == RecipientKind.SUPPORT_CONTACT else None
        if recipient_kind == RecipientKind.OUTSIDE_PROVIDER:
            consent.recipient_name = recipient_name.strip()
            consent.recipient_organization = recipient_organization.strip()
        consent.purposes = list(dict.fromkeys(purposes))
        consent.purpose_other = purpose_other.strip() if Purpose.OTHER in consent.purposes else ""
        consent.expiry_kind = expiry_kind
        consent.expires_on = expires_on if expiry_kind == ExpiryKind.DATE else None
        consent.expiry_event = expiry_event.strip() if expiry_kind == ExpiryKind.EVENT else ""
        if kind == ConsentKind.PART2:
            consent.redisclosure_form = redisclosure_form or RedisclosureForm.SHORT
        _check_scope(consent, timezone.localtime(now, program.tz()).date())
    consent.full_clean()
    consent.save()
    origin = current_origin()
    Signature.objects.create(
        consent=consent,
        signer_name=signature.signer_name.strip(),
        signer_relationship=signature.signer_relationship,
        method=signature.method,
        drawn_image=signature.drawn_image if signature.method == Signature.Method.DRAWN else "",
        signed_at=now,
        ip_address=origin.ip_address,
        user_agent=origin.user_agent[:200],
        witnessed_by=acting_user,
    )
    filled = [name for name in SCOPE_FIELDS if getattr(consent, name) not in ("", None, [])]
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=patient,
        obj=consent,
        changed_fields=["kind", "program", "signature", *filled],
    )
    if render_pdf:
        transaction.on_commit(lambda: do_store_signed_pdf(consent))
    return consent


@transaction.atomic
def do_store_signed_pdf(consent: Consent) -> Consent:
    """Render the signed copy, keep it in the private store and record its SHA-256 (a system write)."""
    from openiop.consents.pdf import pdf_name, render_consent_pdf

    consent = (
        Consent.objects.select_for_update(of=("self",))
        .select_related("patient", "program__site__organization", "recipient_contact", "signature")
        .get(pk=consent.pk)
    )
    if consent.pdf_sha256:
        return consent
    data = render_consent_pdf(consent)
    name = pdf_name(consent)
    consent.pdf_sha256 = storage.write(name, data)
    consent.pdf_name = name
    consent.save(update_fields=["pdf_name", "pdf_sha256", "updated_at"])
    audit.record(
        action=AuditAction.UPDATED,
        acting_user=None,
        patient=consent.patient,
        obj=consent,
        changed_fields=["pdf_name", "pdf_sha256"],
    )
    return consent


def _document_type(data: bytes) -> str:
    for magic, content_type in _DOCUMENT_TYPES.items():
        if data.startswith(magic):
            return content_type
    return ""


@transaction.atomic
def do_revoke_consent(
    consent: Consent, *, acting_user: User, statement: str = "", document: bytes | None = None
) -> Consent:
    """Record a written revocation. It is in force from this moment for every disclosure path."""
    consent = (
        Consent.objects.select_for_update(of=("self",)).select_related("program__site", "patient").get(pk=consent.pk)
    )
    if consent.revoked_at is not None:
        raise ValidationError({"revocation_statement": "This consent was already revoked."})
    statement = statement.strip()
    if not statement and not document:
        raise ValidationError(
            {"revocation_statement": "Copy the patient's written revocation here, or upload their signed statement."}
        )
    fields = ["revoked_at", "revoked_by"]
    if document:
        content_type = _document_type(document)
        if not content_type:
            raise ValidationError({"revocation_document": "Upload the statement as a PDF, PNG or JPEG."})
        if len(document) > MAX_REVOCATION_DOCUMENT_BYTES:
            raise ValidationError({"revocation_document": "The file is larger than 5 MB."})
        name = f"revocations/{consent.public_id}.{content_type.rsplit('/', 1)[1]}"
        # Written before the row commits, so a committed revocation never points at a missing file.
        consent.revocation_document_sha256 = storage.write(name, document)
        consent.revocation_document_name = name
        consent.revocation_document_type = content_type
        fields += ["revocation_document_name", "revocation_document_sha256", "revocation_document_type"]
    if statement:
        consent.revocation_statement = statement
        fields.append("revocation_statement")
    consent.revoked_at = timezone.now()
    consent.revoked_by = acting_user
    consent.save(update_fields=[*fields, "updated_at"])
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=consent.patient,
        obj=consent,
        changed_fields=fields,
    )
    return consent


@transaction.atomic
def do_record_expiry_event(consent: Consent, *, acting_user: User, occurred_on: date) -> Consent:
    """The event a consent named has happened: it expires on that (program-local) day."""
    consent = (
        Consent.objects.select_for_update(of=("self",)).select_related("program__site", "patient").get(pk=consent.pk)
    )
    if consent.expiry_kind != ExpiryKind.EVENT:
        raise ValidationError({"occurred_on": "This consent does not expire on an event."})
    if consent.status == ConsentStatus.REVOKED:
        raise ValidationError({"occurred_on": "This consent was revoked."})
    if occurred_on < consent.local_date(consent.signed_at):
        raise ValidationError({"occurred_on": "The event cannot come before the signature."})
    if occurred_on > consent.local_date(timezone.now()):
        raise ValidationError({"occurred_on": "Record the event once it has happened."})
    consent.expiry_event_occurred_on = occurred_on
    consent.save(update_fields=["expiry_event_occurred_on", "updated_at"])
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=consent.patient,
        obj=consent,
        changed_fields=["expiry_event_occurred_on"],
    )
    return consent
