"""Referral documents: only PDFs within the size limit, stored outside the web root, served through access checks."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from openiop.core.models import AuditAction, AuditEvent
from openiop.referrals.models import ReferralDocument
from openiop.testing.referrals import make_referral

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def referral(clinic):
    return make_referral(clinic)


def upload(client, referral, name="Referral letter.pdf", content=PDF, content_type="application/pdf"):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(f"/referrals/{referral.public_id}/documents/", {"file": file})


def test_a_pdf_is_stored_under_the_private_folder_with_its_hash(client, clinic, referral):
    client.force_login(clinic.intake)
    response = upload(client, referral)
    assert response.status_code == 302
    document = ReferralDocument.objects.get()
    assert document.original_name == "Referral letter.pdf"
    assert document.size == len(PDF) and document.sha256 == hashlib.sha256(PDF).hexdigest()
    stored = Path(document.file.path)
    assert stored.read_bytes() == PDF
    private = (Path(settings.VAR_DIR) / "private").resolve()
    assert private in stored.parents
    for public in (settings.MEDIA_ROOT, settings.STATIC_ROOT):
        assert Path(public).resolve() not in stored.parents
    assert "Referral" not in stored.name  # the stored name says nothing about the person
    event = AuditEvent.objects.filter(object_type="referraldocument", action=AuditAction.CREATED).get()
    assert event.changed_fields == ["file", "original_name", "sha256", "size"]


@pytest.mark.parametrize(
    ("name", "content", "content_type", "message"),
    [
        ("letter.docx", PDF, "application/pdf", "must end in .pdf"),
        ("letter.pdf", PDF, "text/html", "sent it as another type"),
        ("letter.pdf", b"<html><script>alert(1)</script>", "application/pdf", "do not start like one"),
        ("letter.pdf", b"", "application/pdf", "empty"),
    ],
)
def test_anything_but_a_pdf_is_refused_with_a_field_error(
    client, clinic, referral, name, content, content_type, message
):
    client.force_login(clinic.intake)
    response = upload(client, referral, name=name, content=content, content_type=content_type)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ReferralDocument.objects.exists()
    private = Path(settings.VAR_DIR) / "private"
    assert not private.exists() or not any(p.is_file() for p in private.rglob("*"))


def test_a_file_over_the_limit_is_refused(client, clinic, referral, settings):
    settings.OPENIOP_REFERRAL_UPLOAD_MAX_MB = 1
    client.force_login(clinic.intake)
    response = upload(client, referral, content=PDF + b"0" * (1024 * 1024))
    assert response.status_code == 400
    assert "larger than the 1 MB limit" in response.content.decode()
    assert not ReferralDocument.objects.exists()


def test_download_is_an_audited_attachment(client, clinic, referral):
    client.force_login(clinic.intake)
    upload(client, referral)
    document = ReferralDocument.objects.get()
    client.force_login(clinic.auditor)
    response = client.get(f"/referrals/documents/{document.public_id}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    assert b"".join(response.streaming_content) == PDF
    event = AuditEvent.objects.filter(action=AuditAction.RECORD_VIEWED, object_type="referraldocument").get()
    assert event.actor == clinic.auditor and event.object_id == str(document.public_id)


def test_the_file_has_no_public_url(client, clinic, referral):
    client.force_login(clinic.intake)
    upload(client, referral)
    document = ReferralDocument.objects.get()
    with pytest.raises(ValueError, match="no URL"):
        document.file.url  # noqa: B018
    client.logout()
    assert client.get(f"/static/{document.file.name}").status_code == 404
    assert client.get(f"/media/{document.file.name}").status_code == 404
    response = client.get(f"/referrals/documents/{document.public_id}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_outsiders_cannot_download(client, clinic, referral):
    client.force_login(clinic.intake)
    upload(client, referral)
    document = ReferralDocument.objects.get()
    for person in ("outsider", "stranger"):
        client.force_login(getattr(clinic, person))
        assert client.get(f"/referrals/documents/{document.public_id}/").status_code == 404
    client.force_login(clinic.sysadmin)
    assert client.get(f"/referrals/documents/{document.public_id}/").status_code == 403
