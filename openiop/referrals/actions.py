"""Writes to referrals: creating and editing them, moving them between stages, their documents, and linking the
person to a patient record. Each is one transaction with its audit row (field names only)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.actions import apply_changes, validate
from openiop.core.models import AuditAction
from openiop.patients.actions import do_add_coverage, do_add_support_contact, do_create_patient, do_update_patient
from openiop.patients.models import Coverage, Patient, SupportContact
from openiop.referrals import documents
from openiop.referrals.models import (
    REASON_REQUIRED,
    STAGE_TRANSITIONS,
    Referral,
    ReferralDocument,
    ReferralStageChange,
    referral_storage,
)

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.programs.models import Organization, Program

REFERRAL_FIELDS = (
    "program", "source", "first_name", "last_name", "date_of_birth", "phone", "email", "preferred_contact",
    "payer_kind", "payer_name", "member_id", "prescreen", "prescreen_result", "referrer_name",
    "referrer_organization", "referrer_phone", "emergency_name", "emergency_relationship", "emergency_phone",
    "notes",
)  # fmt: skip
REASON_MAX = 300


def _check_referral(referral: Referral) -> None:
    validate(referral, exclude=["organization", "patient", "episode"])
    errors: dict[str, str] = {}
    program = referral.program
    if program is not None and program.site.organization_id != referral.organization_id:
        errors["program"] = "Pick one of this organization's programs."
    if not referral.phone.strip() and not referral.email.strip():
        errors["phone"] = "Give a phone number or an email address so we can reach the person."
    if referral.preferred_contact == Referral.Contact.EMAIL and not referral.email.strip():
        errors["email"] = "Give the email address to contact by email."
    if referral.preferred_contact in (Referral.Contact.PHONE, Referral.Contact.TEXT) and not referral.phone.strip():
        errors.setdefault("phone", "Give the phone number to call or text.")
    if referral.date_of_birth is not None and referral.date_of_birth > timezone.localdate():
        errors["date_of_birth"] = "Date of birth cannot be in the future."
    named = referral.emergency_name.strip()
    if (referral.emergency_phone.strip() or referral.emergency_relationship) and not named:
        errors["emergency_name"] = "Give the emergency contact's name."
    if named and not referral.emergency_phone.strip():
        errors["emergency_phone"] = "Give the emergency contact's phone number."
    if errors:
        raise ValidationError(errors)


def _audit(
    referral: Referral, acting_user: User | None, action: AuditAction, fields: list[str], obj: Any = None
) -> None:
    audit.record(
        action=action,
        acting_user=acting_user,
        patient=referral.patient,
        obj=obj if obj is not None else referral,
        changed_fields=fields,
        organization_id=referral.organization_id,
    )


def new_referral(
    *, acting_user: User | None, organization: Organization, stage: str = Referral.Stage.INQUIRY, **fields: Any
) -> Referral:
    """Validate and insert a referral with its first history row, without the audit row (see audit_new_referral).

    Book Now claims the slot before it writes any audit row, so the audit chain lock is always taken last.
    """
    if stage not in (Referral.Stage.INQUIRY, Referral.Stage.SCREENING):
        raise ValidationError({"stage": "A new referral starts as an inquiry or in screening."})
    now = timezone.now()
    referral = Referral(organization=organization, stage=stage, stage_changed_at=now, received_at=now)
    apply_changes(referral, fields, REFERRAL_FIELDS)
    _check_referral(referral)
    referral.save()
    ReferralStageChange.objects.create(
        referral=referral, from_stage="", to_stage=stage, changed_at=now, changed_by=acting_user
    )
    return referral


def audit_new_referral(referral: Referral, acting_user: User | None, fields: dict[str, Any]) -> None:
    filled = [name for name, value in fields.items() if value not in ("", None, {}, False)]
    _audit(referral, acting_user, AuditAction.CREATED, ["stage", *filled])


@transaction.atomic
def do_create_referral(
    *, acting_user: User | None, organization: Organization, stage: str = Referral.Stage.INQUIRY, **fields: Any
) -> Referral:
    """Record a new referral (a phone call or a professional's referral) in its first stage."""
    referral = new_referral(acting_user=acting_user, organization=organization, stage=stage, **fields)
    audit_new_referral(referral, acting_user, fields)
    return referral


@transaction.atomic
def do_update_referral(referral: Referral, *, acting_user: User, **fields: Any) -> list[str]:
    if "source" in fields and fields["source"] != referral.source and referral.source == Referral.Source.BOOK_NOW:
        raise ValidationError({"source": "A Book Now referral keeps its source."})
    changed = apply_changes(referral, fields, REFERRAL_FIELDS)
    if changed:
        _check_referral(referral)
        referral.save()
        _audit(referral, acting_user, AuditAction.UPDATED, changed)
    return changed


def set_stage(referral: Referral, stage: str, *, acting_user: User | None, reason: str = "") -> ReferralStageChange:
    """Move the referral and write its history row, inside the caller's transaction (no checks, no audit)."""
    now = timezone.now()
    change = ReferralStageChange.objects.create(
        referral=referral,
        from_stage=referral.stage,
        to_stage=stage,
        changed_at=now,
        changed_by=acting_user,
        reason=reason[:REASON_MAX],
    )
    referral.stage = stage
    referral.stage_changed_at = now
    fields = ["stage", "stage_changed_at", "updated_at"]
    if stage in REASON_REQUIRED:
        referral.outcome_reason = reason[:REASON_MAX]
        fields.append("outcome_reason")
    referral.save(update_fields=fields)
    return change


@transaction.atomic
def do_change_stage(referral: Referral, *, acting_user: User, stage: str, reason: str = "") -> Referral:
    """Move a referral by hand along STAGE_TRANSITIONS; declining or referring elsewhere needs a reason."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    reason = (reason or "").strip()
    if stage not in Referral.Stage.values:
        raise ValidationError({"stage": "Pick a stage."})
    current = Referral.Stage(referral.stage)
    target = Referral.Stage(stage)
    if target == Referral.Stage.ADMITTED:
        raise ValidationError({"stage": "Admit from the referral's Admit page, which opens the episode."})
    if target == Referral.Stage.SCHEDULED:
        raise ValidationError({"stage": "Book an intake slot to schedule the assessment."})
    if target not in STAGE_TRANSITIONS[current]:
        raise ValidationError(
            {"stage": f"A referral in {current.label.lower()} cannot move to {target.label.lower()}."}
        )
    if target in REASON_REQUIRED and not reason:
        raise ValidationError({"reason": f"Say why the referral is {target.label.lower()}."})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": "Keep the reason under 300 characters."})
    if target == Referral.Stage.ASSESSED:
        return _mark_assessed(referral, acting_user=acting_user, reason=reason)
    set_stage(referral, target, acting_user=acting_user, reason=reason)
    _audit(referral, acting_user, AuditAction.STATUS_CHANGED, ["stage", *(["outcome_reason"] if reason else [])])
    return referral


def _mark_assessed(referral: Referral, *, acting_user: User | None, reason: str) -> Referral:
    from openiop.referrals.booking import finish_booked_appointment

    finish_booked_appointment(referral, acting_user=acting_user)
    set_stage(referral, Referral.Stage.ASSESSED, acting_user=acting_user, reason=reason)
    _audit(referral, acting_user, AuditAction.STATUS_CHANGED, ["stage"])
    return referral


@transaction.atomic
def do_mark_assessed(referral: Referral, *, acting_user: User | None, reason: str = "") -> Referral:
    """The intake assessment is done: the referral moves to "assessed" (its booked appointment counts as attended).

    Called by the intake app when an assessment is completed; idempotent for a referral already assessed.
    """
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.stage == Referral.Stage.ASSESSED:
        return referral
    if referral.stage not in (Referral.Stage.INQUIRY, Referral.Stage.SCREENING, Referral.Stage.SCHEDULED):
        current = Referral.Stage(referral.stage).label.lower()
        raise ValidationError({"stage": f"A referral in {current} cannot be marked assessed."})
    return _mark_assessed(referral, acting_user=acting_user, reason=reason)


# --- Documents ----------------------------------------------------------------------------------------------


def do_add_document(referral: Referral, *, acting_user: User, upload: UploadedFile) -> ReferralDocument:
    """Store a referral PDF outside the web root after checking its name, declared type, magic bytes and size.

    The file is written first, then the row and its audit row in one transaction; if that transaction fails the
    file is removed again, so no file is left without its row.
    """
    content = documents.check_pdf(upload)
    document = ReferralDocument(
        referral=referral,
        original_name=documents.clean_name(upload.name or "referral.pdf"),
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=acting_user,
    )
    document.file.save("upload.pdf", ContentFile(content), save=False)
    try:
        with transaction.atomic():
            document.save()
            _audit(
                referral, acting_user, AuditAction.CREATED, ["file", "original_name", "size", "sha256"], obj=document
            )
    except BaseException:
        referral_storage.delete(document.file.name)
        raise
    return document


@transaction.atomic
def do_deactivate_document(document: ReferralDocument, *, acting_user: User) -> None:
    if document.is_active:
        document.is_active = False
        document.save(update_fields=["is_active", "updated_at"])
        _audit(document.referral, acting_user, AuditAction.DEACTIVATED, ["is_active"], obj=document)


# --- Matching the person to a patient record ----------------------------------------------------------------


def _same(a: str, b: str) -> bool:
    return "".join(a.split()).lower() == "".join(b.split()).lower()


def carry_into_record(referral: Referral, patient: Patient, *, acting_user: User) -> list[str]:
    """Copy what the person or referrer told us onto the patient's record, once: the insurance as a Coverage (the
    next free priority), a family member who referred them and the emergency contact as SupportContacts, and a
    phone or email the record lacks. Skips what the record already holds (same payer and member id; same contact
    name), so linking or admitting again adds nothing. Returns what was added, for the caller's message."""
    added: list[str] = []
    if referral.payer_name.strip() and referral.member_id.strip():
        coverages = list(Coverage.objects.filter(patient=patient))
        if not any(
            _same(c.payer_name, referral.payer_name) and _same(c.member_id, referral.member_id) for c in coverages
        ):
            taken = {c.priority for c in coverages if c.is_active}
            free = [p for p in Coverage.Priority.values if p not in taken]
            # With three active coverages already there is no priority left: the insurance stays on the referral
            # for staff to sort out rather than displace one the record holds.
            if free:
                do_add_coverage(
                    patient,
                    acting_user=acting_user,
                    payer_kind=referral.payer_kind or Coverage.PayerKind.OTHER,
                    payer_name=referral.payer_name.strip(),
                    member_id=referral.member_id.strip(),
                    priority=free[0],
                )
                added.append("coverage")
    contacts: list[tuple[str, str, str, str]] = []
    if referral.source == Referral.Source.FAMILY and referral.referrer_name.strip():
        contacts.append(
            (
                referral.referrer_name,
                SupportContact.Relationship.RELATIVE,
                referral.referrer_phone,
                "Referred the patient",
            )
        )
    if referral.emergency_name.strip():
        relationship = referral.emergency_relationship or SupportContact.Relationship.OTHER
        contacts.append((referral.emergency_name, relationship, referral.emergency_phone, "Emergency contact"))
    for name, relationship, phone, notes in contacts:
        if not SupportContact.objects.filter(patient=patient, name__iexact=name.strip()).exists():
            do_add_support_contact(
                patient, acting_user=acting_user, name=name.strip(), relationship=relationship, phone=phone, notes=notes
            )
            added.append("support contact")
    filled = {}
    if referral.phone and not patient.phone_mobile:
        filled["phone_mobile"] = referral.phone
    if referral.email and not patient.email:
        filled["email"] = referral.email
    if filled:
        do_update_patient(patient, acting_user=acting_user, **filled)
        added.append("contact details")
    return added


@transaction.atomic
def do_link_patient(referral: Referral, *, acting_user: User, patient: Patient) -> Referral:
    """Link the referral to an existing record (the duplicate check found the person)."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.patient_id is not None and referral.patient_id != patient.pk:
        raise ValidationError({"patient": "This referral is already linked to another record."})
    if patient.organization_id != referral.organization_id:
        raise ValidationError({"patient": "Pick a record of this organization."})
    if not patient.is_active:
        raise ValidationError({"patient": "This record is deactivated; reactivate it first."})
    if referral.patient_id != patient.pk:
        referral.patient = patient
        referral.save(update_fields=["patient", "updated_at"])
        _audit(referral, acting_user, AuditAction.UPDATED, ["patient"])
    carry_into_record(referral, patient, acting_user=acting_user)
    return referral


@transaction.atomic
def do_create_patient_from_referral(referral: Referral, *, acting_user: User, home_program: Program) -> Patient:
    """Register the referred person as a new patient (the caller has shown the duplicate check) and link it."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.patient_id is not None:
        raise ValidationError({"patient": "This referral is already linked to a record."})
    if referral.date_of_birth is None:
        raise ValidationError({"date_of_birth": "Add the date of birth to the referral first."})
    patient = do_create_patient(
        acting_user=acting_user,
        home_program=home_program,
        legal_first_name=referral.first_name,
        legal_last_name=referral.last_name,
        date_of_birth=referral.date_of_birth,
        email=referral.email,
        phone_mobile=referral.phone,
    )
    referral.patient = patient
    referral.save(update_fields=["patient", "updated_at"])
    _audit(referral, acting_user, AuditAction.UPDATED, ["patient"])
    carry_into_record(referral, patient, acting_user=acting_user)
    return patient
