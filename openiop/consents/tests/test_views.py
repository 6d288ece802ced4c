"""Consent pages: the access matrix, forms that keep what was typed, revocation, the audited private PDF."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.conftest import login
from openiop.consents import storage
from openiop.consents.checks import Recipient, may_disclose
from openiop.consents.models import Consent, ConsentStatus
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_open_episode
from openiop.testing.consents import TINY_PNG, part2_tpo, record, release_to_contact
from openiop.testing.pdftext import plain_text

HTMX = {"HTTP_HX_REQUEST": "true"}


@dataclass
class Ctx:
    clinic: Any
    patient: Any
    contact: Any
    release: Consent
    treatment: Consent


@pytest.fixture
def ctx(clinic, patient, contact) -> Ctx:
    release = release_to_contact(patient, clinic.clinician, contact)
    treatment = record(patient, clinic.clinician, "treatment")
    return Ctx(clinic, patient, contact, release, treatment)


def _sign(**extra: Any) -> dict[str, Any]:
    return {
        "signer_name": "Jordan Rivera",
        "signer_relationship": "self",
        "signature_method": "typed",
        "agreed": "on",
        **extra,
    }


def _release_post(ctx: Ctx) -> dict[str, Any]:
    return _sign(
        program=str(ctx.clinic.mh.public_id),
        data_classes=["attendance"],
        recipient_kind="support_contact",
        recipient_contact=str(ctx.contact.public_id),
        purposes=["treatment"],
        expiry_kind="event",
        expiry_event="Discharge",
    )


@dataclass(frozen=True)
class Case:
    name: str
    url: Callable[[Ctx], str]
    method: str = "get"
    data: Callable[[Ctx], dict[str, Any]] = field(default=lambda ctx: {})
    member: str = "clinician"
    denied: tuple[str, ...] = ()  # roles of the same programs that get 403
    htmx: bool = False

    def __str__(self) -> str:
        return self.name


CASES = [
    Case("tab", lambda c: reverse("patients:chart_tab", args=[c.patient.public_id, "consents"]), member="billing",
         htmx=True),
    Case("detail", lambda c: reverse("consents:detail", args=[c.release.public_id]), member="frontdesk"),
    Case("pdf", lambda c: reverse("consents:pdf", args=[c.treatment.public_id]), member="billing"),
    Case("new_treatment_form", lambda c: reverse("consents:new", args=[c.patient.public_id, "treatment"]),
         denied=("frontdesk", "billing", "auditor")),
    Case("new_treatment", lambda c: reverse("consents:new", args=[c.patient.public_id, "treatment"]), "post",
         lambda c: _sign(program=str(c.clinic.mh.public_id)), denied=("frontdesk", "billing", "auditor")),
    Case("new_release", lambda c: reverse("consents:new", args=[c.patient.public_id, "release"]), "post",
         _release_post, member="frontdesk", denied=("billing", "auditor")),
    Case("new_hipaa", lambda c: reverse("consents:new", args=[c.patient.public_id, "hipaa_notice"]), "post",
         lambda c: _sign(program=str(c.clinic.mh.public_id)), member="frontdesk", denied=("billing", "auditor")),
    Case("revoke", lambda c: reverse("consents:revoke", args=[c.release.public_id]), "post",
         lambda c: {"revocation_statement": "I take it back."}, member="frontdesk", denied=("billing", "auditor")),
    Case("expiry_event", lambda c: reverse("consents:expiry_event", args=[c.release.public_id]), "post",
         lambda c: {"occurred_on": c.release.local_date(c.release.signed_at).isoformat()},
         denied=("billing", "auditor")),
]  # fmt: skip


def _call(client, case: Case, ctx: Ctx):
    return getattr(client, case.method)(case.url(ctx), case.data(ctx), **(HTMX if case.htmx else {}))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_members_get_in(client, ctx, case):
    response = _call(login(client, getattr(ctx.clinic, case.member)), case, ctx)
    assert response.status_code in (200, 302), response.content[:400]


@pytest.mark.parametrize("case", [c for c in CASES if c.denied], ids=str)
def test_roles_without_the_capability_get_403(client, ctx, case):
    for role in case.denied:
        client.logout()
        assert _call(login(client, getattr(ctx.clinic, role)), case, ctx).status_code == 403, role


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("who", ["outsider", "stranger"])
def test_outsiders_and_strangers_get_404(client, ctx, case, who):
    assert _call(login(client, getattr(ctx.clinic, who)), case, ctx).status_code == 404


def test_sysadmins_do_not_read_consents(client, ctx):
    login(client, ctx.clinic.sysadmin)
    assert client.get(reverse("consents:detail", args=[ctx.release.public_id])).status_code == 403


def test_a_form_with_errors_keeps_what_was_typed_and_the_drawing(client, clinic, patient, contact):
    url = reverse("consents:new", args=[patient.public_id, "release"])
    data = _sign(
        program=str(clinic.mh.public_id),
        signature_method="drawn",
        drawn_image=TINY_PNG,
        data_classes=["attendance", "diagnoses"],
        recipient_kind="outside_provider",
        recipient_name="Dr. Ana Lee",
        purposes=["treatment"],
        expiry_kind="date",
    )
    response = login(client, clinic.frontdesk).post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Name the outside provider" in html and "Give the date the consent expires" in html
    assert 'value="Dr. Ana Lee"' in html and TINY_PNG in html
    assert 'value="diagnoses" ' in html and "checked" in html
    assert not Consent.objects.filter(kind="release").exists()


def test_recording_a_consent_renders_and_stores_the_signed_pdf(
    client, clinic, sud_patient, django_capture_on_commit_callbacks
):
    url = reverse("consents:new", args=[sud_patient.public_id, "part2"])
    data = _sign(
        signer_name="Casey Morgan",
        program=str(clinic.su.public_id),
        information_description="Attendance and diagnoses from the Adult Substance Use IOP.",
        data_classes=["all_records"],
        recipient_kind="tpo_general",
        purposes=["treatment", "payment", "operations"],
        expiry_kind="none",
        redisclosure_form="long",
        signature_method="drawn",
        drawn_image=TINY_PNG,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = login(client, clinic.director).post(url, data, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302
    consent = Consent.objects.get(kind="part2")
    assert consent.signature.ip_address == "198.51.100.7"
    assert consent.pdf_sha256
    data_on_disk = storage.read(consent.pdf_name)
    assert data_on_disk is not None and storage.sha256(data_on_disk) == consent.pdf_sha256
    text = plain_text(data_on_disk)
    for expected in (
        "42 CFR Part 2 consent to disclose",
        "Casey Morgan",  # patient and signer
        sud_patient.mrn,
        "Adult Substance Use IOP",
        "Attendance and diagnoses from the Adult Substance Use IOP.",
        "All SUD records (except counseling notes)",
        "My treating providers, health plans and their business associates (TPO)",
        "Treatment; Payment; Health care operations",
        "No expiry; stands until revoked in writing",
        "You may revoke this consent at any time",
        "This record which has been disclosed to you is protected by Federal confidentiality rules (42 CFR part 2)",
        "is NOT sufficient",
        "Drawn signature",
        "Witnessed by Director Tester",
        "198.51.100.7",
    ):
        assert expected in text, expected
    # The download serves those very bytes, audited, never cached.
    response = client.get(reverse("consents:pdf", args=[consent.public_id]))
    assert response.status_code == 200
    assert response.content == data_on_disk
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert "Casey" not in response["Content-Disposition"]
    assert AuditEvent.objects.filter(action=AuditAction.EXPORTED, object_id=str(consent.public_id)).exists()


def test_a_consent_without_a_stored_pdf_is_rendered_on_first_download(client, ctx):
    assert not ctx.treatment.pdf_sha256  # seeded without rendering, as the demo does
    response = login(client, ctx.clinic.clinician).get(reverse("consents:pdf", args=[ctx.treatment.public_id]))
    assert response.status_code == 200
    assert "Consent to treatment" in plain_text(response.content)
    ctx.treatment.refresh_from_db()
    assert ctx.treatment.pdf_sha256 == storage.sha256(response.content)


def test_a_tampered_pdf_is_not_served(client, ctx):
    login(client, ctx.clinic.clinician).get(reverse("consents:pdf", args=[ctx.treatment.public_id]))
    ctx.treatment.refresh_from_db()
    storage.write(ctx.treatment.pdf_name, b"%PDF-1.7 something else")
    response = client.get(reverse("consents:pdf", args=[ctx.treatment.public_id]))
    assert response.status_code == 302
    assert not response.has_header("Content-Disposition")


def test_revoking_from_the_page_blocks_disclosure_at_once(client, ctx):
    who = Recipient.contact(ctx.contact)
    assert may_disclose(ctx.patient, recipient=who, data_class="attendance", purpose="treatment")
    login(client, ctx.clinic.frontdesk)
    url = reverse("consents:revoke", args=[ctx.release.public_id])
    response = client.post(url, {"revocation_statement": ""})
    assert response.status_code == 422
    assert "written revocation" in response.content.decode()
    letter = SimpleUploadedFile("letter.pdf", b"%PDF-1.4 I revoke.", content_type="application/pdf")
    assert client.post(url, {"revocation_document": letter}).status_code == 302
    ctx.release.refresh_from_db()
    assert ctx.release.status == ConsentStatus.REVOKED
    assert not may_disclose(ctx.patient, recipient=who, data_class="attendance", purpose="treatment")
    response = client.get(reverse("consents:revocation_document", args=[ctx.release.public_id]))
    assert response.content == b"%PDF-1.4 I revoke."


def test_part2_consents_are_visible_only_to_their_programs_staff(client, clinic, patient):
    do_open_episode(patient, acting_user=None, program=clinic.su, status="waitlist")
    consent = part2_tpo(patient, clinic.director)
    tab = reverse("patients:chart_tab", args=[patient.public_id, "consents"])
    html = login(client, clinic.clinician).get(tab, **HTMX).content.decode()
    assert str(consent.public_id) not in html
    assert "Part 2 consent to disclose" not in html  # neither listed nor offered
    assert client.get(reverse("consents:detail", args=[consent.public_id])).status_code == 404
    assert client.get(reverse("consents:pdf", args=[consent.public_id])).status_code == 404
    html = login(client, clinic.director).get(tab, **HTMX).content.decode()
    assert str(consent.public_id) in html


def test_the_consents_tab_query_count_does_not_grow_with_consents(client, ctx):
    client = login(client, ctx.clinic.frontdesk)
    tab = reverse("patients:chart_tab", args=[ctx.patient.public_id, "consents"])
    client.get(tab, **HTMX)
    with CaptureQueriesContext(connection) as before:
        client.get(tab, **HTMX)
    for _ in range(5):
        release_to_contact(ctx.patient, ctx.clinic.clinician, ctx.contact)
    with CaptureQueriesContext(connection) as after:
        response = client.get(tab, **HTMX)
    assert response.content.decode().count("consent-status-active") == 7
    assert len(after) == len(before)
