"""Recording, revoking and expiring consents: the required elements, the signature and the audit rows."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.consents import storage
from openiop.consents.actions import SignatureInput, do_record_consent, do_revoke_consent, do_store_signed_pdf
from openiop.consents.models import Consent, ConsentStatus, Signature
from openiop.core.context import RequestOrigin, reset_origin, set_origin
from openiop.core.models import AuditAction, AuditEvent
from openiop.testing.consents import TINY_PNG, part2_tpo, record, release_to_contact, signature


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


def test_a_signed_consent_keeps_its_signature_origin_and_witness(clinic, patient):
    token = set_origin(RequestOrigin(ip_address="203.0.113.9", user_agent="Tablet/1.0", request_id="r1"))
    try:
        consent = record(patient, clinic.intake, "telehealth", signature=signature("Jordan Rivera", "drawn"))
    finally:
        reset_origin(token)
    sig = consent.signature
    assert sig.method == Signature.Method.DRAWN
    assert sig.drawn_image == TINY_PNG
    assert (sig.ip_address, sig.user_agent, sig.witnessed_by) == ("203.0.113.9", "Tablet/1.0", clinic.intake)
    assert sig.signed_at == consent.signed_at
    assert consent.status == ConsentStatus.ACTIVE
    assert consent.program == clinic.mh  # the home program when no episode is named
    event = AuditEvent.objects.get(action=AuditAction.CREATED, object_id=str(consent.public_id))
    assert event.patient == patient
    assert "signature" in event.changed_fields
    assert "Jordan" not in str(event.changed_fields)


GIF_AS_PNG = "data:image/png;base64," + base64.b64encode(b"GIF89a").decode()


@pytest.mark.parametrize(
    ("sig", "field"),
    [
        (SignatureInput(signer_name=" ", method="typed", agreed=True), "signer_name"),
        (SignatureInput(signer_name="J R", method="typed", agreed=False), "agreed"),
        (SignatureInput(signer_name="J R", method="carved", agreed=True), "signature_method"),
        (SignatureInput(signer_name="J R", method="drawn", agreed=True), "drawn_image"),
        (SignatureInput("J R", "drawn", True, drawn_image="data:image/svg+xml;base64,PHN2Zz4="), "drawn_image"),
        (SignatureInput("J R", "drawn", True, drawn_image="data:image/png;base64,@@@"), "drawn_image"),
        (SignatureInput("J R", "drawn", True, drawn_image=GIF_AS_PNG), "drawn_image"),
    ],
)
def test_a_signature_must_be_complete_and_a_real_png(clinic, patient, sig, field):
    with pytest.raises(ValidationError) as exc:
        do_record_consent(patient, acting_user=clinic.intake, kind="treatment", signature=sig)
    assert field in _errors(exc)
    assert not Consent.objects.exists()


def test_an_oversized_drawing_is_refused(clinic, patient):
    huge = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 250_000).decode()
    with pytest.raises(ValidationError) as exc:
        record(patient, clinic.intake, signature=signature(method="drawn", drawn_image=huge))
    assert _errors(exc)["drawn_image"] == ["The drawn signature is too large."]


def test_a_part2_consent_needs_every_required_element(clinic, sud_patient):
    with pytest.raises(ValidationError) as exc:
        record(sud_patient, clinic.director, "part2", program=clinic.su, expiry_kind="date")
    assert set(_errors(exc)) >= {"information_description", "data_classes", "recipient_kind", "purposes", "expires_on"}


def test_a_part2_consent_names_a_substance_use_program(clinic, patient):
    with pytest.raises(ValidationError) as exc:
        part2_tpo(patient, clinic.clinician)
    assert "program" in _errors(exc)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"data_classes": ["counseling_notes", "attendance"]}, "data_classes"),
        ({"data_classes": ["gossip"]}, "data_classes"),
        ({"purposes": ["treatment", "other"]}, "purposes"),  # a general designation is TPO only
        ({"purposes": ["marketing"]}, "purposes"),
        ({"recipient_kind": "support_contact"}, "recipient_contact"),
        ({"recipient_kind": "outside_provider"}, "recipient_organization"),
        ({"recipient_kind": "support_contact", "purposes": ["treatment"], "expiry_kind": "none"}, "recipient_contact"),
        ({"expiry_kind": "date", "expires_on": None}, "expires_on"),
        ({"expiry_kind": "event", "expiry_event": " "}, "expiry_event"),
        ({"expiry_kind": "sometime"}, "expiry_kind"),
        ({"redisclosure_form": "medium"}, "redisclosure_form"),
    ],
)
def test_part2_scope_errors_name_their_field(clinic, sud_patient, fields, field):
    with pytest.raises(ValidationError) as exc:
        part2_tpo(sud_patient, clinic.director, **fields)
    assert field in _errors(exc)


def test_no_expiry_is_only_for_a_tpo_part2_consent(clinic, patient, contact, sud_patient, sud_contact):
    with pytest.raises(ValidationError) as exc:
        release_to_contact(patient, clinic.clinician, contact, expiry_kind="none")
    assert "expiry_kind" in _errors(exc)
    with pytest.raises(ValidationError) as exc:
        part2_tpo(
            sud_patient,
            clinic.director,
            recipient_kind="support_contact",
            recipient_contact=sud_contact,
            purposes=["treatment"],
        )
    assert "expiry_kind" in _errors(exc)
    assert part2_tpo(sud_patient, clinic.director).expiry_kind == "none"


def test_a_release_names_its_recipient_rather_than_the_tpo_designation(clinic, patient):
    with pytest.raises(ValidationError) as exc:
        record(
            patient,
            clinic.clinician,
            "release",
            data_classes=["attendance"],
            recipient_kind="tpo_general",
            purposes=["treatment"],
            expiry_kind="event",
            expiry_event="Discharge",
        )
    assert "recipient_kind" in _errors(exc)


def test_an_expiry_date_in_the_past_is_refused(clinic, patient, contact):
    with pytest.raises(ValidationError) as exc:
        release_to_contact(
            patient, clinic.clinician, contact, expiry_kind="date", expires_on=timezone.localdate() - timedelta(days=1)
        )
    assert "expires_on" in _errors(exc)


def test_another_patients_contact_or_episode_is_refused(clinic, patient, sud_patient, sud_contact):
    with pytest.raises(ValidationError) as exc:
        release_to_contact(patient, clinic.clinician, sud_contact)
    assert "recipient_contact" in _errors(exc)
    with pytest.raises(ValidationError) as exc:
        record(patient, clinic.clinician, episode=sud_patient.episodes.get())
    assert "episode" in _errors(exc)


def test_scope_fields_are_not_kept_on_a_consent_that_discloses_nothing(clinic, patient):
    consent = record(patient, clinic.intake, "hipaa_notice", data_classes=["attendance"], purposes=["treatment"])
    assert (consent.data_classes, consent.purposes, consent.recipient_kind) == ([], [], "")


def test_revocation_needs_a_written_statement_or_an_upload(clinic, patient, contact):
    consent = release_to_contact(patient, clinic.clinician, contact)
    with pytest.raises(ValidationError) as exc:
        do_revoke_consent(consent, acting_user=clinic.frontdesk, statement="  ")
    assert "revocation_statement" in _errors(exc)
    with pytest.raises(ValidationError) as exc:
        do_revoke_consent(consent, acting_user=clinic.frontdesk, document=b"just text")
    assert "revocation_document" in _errors(exc)
    letter = b"%PDF-1.4 revocation letter"
    revoked = do_revoke_consent(consent, acting_user=clinic.frontdesk, document=letter)
    assert revoked.status == ConsentStatus.REVOKED
    assert revoked.revocation_document_type == "application/pdf"
    assert storage.read(revoked.revocation_document_name) == letter
    assert revoked.revocation_document_sha256 == storage.sha256(letter)
    event = AuditEvent.objects.get(action=AuditAction.STATUS_CHANGED, object_id=str(consent.public_id))
    assert "revoked_at" in event.changed_fields
    with pytest.raises(ValidationError):
        do_revoke_consent(consent, acting_user=clinic.frontdesk, statement="again")


def test_the_private_store_refuses_paths_outside_it():
    from django.core.exceptions import SuspiciousFileOperation

    with pytest.raises(SuspiciousFileOperation):
        storage.write("../escape.pdf", b"%PDF-")


def test_the_signed_pdf_is_stored_once_with_its_checksum(clinic, patient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        consent = record(patient, clinic.intake, "treatment", render_pdf=True)
    consent.refresh_from_db()
    data = storage.read(consent.pdf_name)
    assert data is not None and data.startswith(b"%PDF-")
    assert consent.pdf_sha256 == storage.sha256(data)
    assert consent.pdf_name == f"signed/{consent.public_id}.pdf"
    assert storage.private_dir() in (storage.private_dir() / consent.pdf_name).parents
    again = do_store_signed_pdf(consent)
    assert again.pdf_sha256 == consent.pdf_sha256
    events = AuditEvent.objects.filter(object_id=str(consent.public_id), action=AuditAction.UPDATED)
    assert [e.changed_fields for e in events] == [["pdf_name", "pdf_sha256"]]
