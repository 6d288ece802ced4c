"""The accounting of disclosures: recorded on every path out (family page, printed copy, outside system's API read),
never for the patient's own access; the staff tab, the PDF, the portal page and the API, with their access rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.consents.actions import do_revoke_consent
from openiop.consents.disclosures import CopyRefused, authorize_copy, disclosures_of, list_context, record_disclosure
from openiop.consents.models import Disclosure
from openiop.core import registry
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_add_support_contact
from openiop.testing import plans as pt
from openiop.testing.consents import record
from openiop.testing.family import family_account, family_release, patient_account
from openiop.testing.fixtures import make_patient
from openiop.testing.pdftext import plain_text

API = "/api/v1"


@pytest.fixture(autouse=True)
def _private_store(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def contact(patient):
    return do_add_support_contact(patient, acting_user=None, name="Sam Rivera", relationship="sibling")


def provider_release(patient, user, classes=("attendance",)):
    return record(
        patient, user, "release", data_classes=list(classes), recipient_kind="outside_provider",
        recipient_organization="Hope Clinic", recipient_name="", purposes=["treatment"], expiry_kind="event",
        expiry_event="Discharge from the program",
    )  # fmt: skip


def test_record_disclosure_folds_repeats_and_never_accounts_the_patient(clinic, patient, contact):
    release = family_release(patient, clinic.clinician, contact)
    common: dict[str, Any] = {
        "data_classes": ["attendance"], "purpose": "treatment", "channel": "family_portal", "consent": release
    }  # fmt: skip
    assert record_disclosure(patient, recipient="patient", acting_user=None, **common) is None
    first = record_disclosure(patient, recipient=f"contact:{contact.public_id}", acting_user=None, **common)
    again = registry.disclosure_recorder.get()(
        patient, recipient=f"contact:{contact.public_id}", acting_user=None, **common
    )
    assert first is not None and again is not None and again.pk == first.pk
    first.refresh_from_db()
    assert (first.times, first.recipient_name, first.program) == (2, "Sam Rivera (Sibling)", clinic.mh)
    with pytest.raises(ValueError):
        record_disclosure(patient, recipient="payer", acting_user=None, data_classes=[], purpose="x", channel="pdf")


def test_family_pages_are_disclosures_the_patients_own_portal_is_not(client, clinic, patient, contact):
    release = family_release(patient, clinic.clinician, contact)
    login(client, family_account(patient, contact).user)
    assert client.get(reverse("family:attendance")).status_code == 200
    assert client.get(reverse("family:attendance")).status_code == 200
    assert client.get(reverse("family:home")).status_code == 200  # what is shared, not the record
    assert client.get(reverse("family:plan")).status_code == 403  # not shared: nothing went out
    assert client.get(reverse("portal:disclosures")).status_code == 403  # the patient's page, not the family's
    entry = Disclosure.objects.get()
    assert (entry.channel, entry.recipient_contact, entry.consent) == ("family_portal", contact, release)
    assert entry.times == 2
    assert (entry.data_classes, entry.purpose, entry.actor and entry.actor.username) == (
        ["attendance"], "treatment", "sam"
    )  # fmt: skip

    client.logout()
    login(client, patient_account(patient).user)
    page = client.get(reverse("portal:disclosures")).content.decode()
    assert client.get(reverse("portal:plan")).status_code in (200, 404)
    assert Disclosure.objects.count() == 1 and Disclosure.objects.get().times == 2  # own access is not listed
    assert "Sam Rivera" in page and "Family portal" in page
    assert AuditEvent.objects.filter(patient=patient, object_type="disclosures").exists()
    own_pdf = client.get(reverse("portal:disclosures_pdf"))
    assert own_pdf.status_code == 200 and "Sam Rivera" in plain_text(own_pdf.content)
    assert Disclosure.objects.count() == 1

    other = make_patient(clinic, legal_first_name="Riley", legal_last_name="Stone")
    client.logout()
    login(client, patient_account(other, username="riley").user)
    assert "Sam Rivera" not in client.get(reverse("portal:disclosures")).content.decode()
    client.logout()
    assert login(client, clinic.clinician).get(reverse("portal:disclosures")).status_code == 404


def test_a_printed_copy_needs_a_consent_and_is_accounted(client, clinic, patient, contact):
    version = pt.active(patient, clinic.clinician)
    release = family_release(patient, clinic.clinician, contact, ["attendance"])
    url = reverse("plans:pdf", args=[version.public_id])
    login(client, clinic.clinician)
    refused = client.get(url, {"to": f"consent:{release.public_id}"})
    assert refused.status_code == 403 and b"No active consent" in refused.content
    assert client.get(url, {"to": "consent:not-an-id"}).status_code == 400
    # The patient's own copy and the clinic's file are not disclosures (checked without rendering a PDF).
    assert (
        authorize_copy({"to": "patient"}, patient, clinic.clinician, data_classes=["treatment_plan"]).record(
            clinic.clinician, "plan"
        )
        is None
    )
    with pytest.raises(CopyRefused):
        authorize_copy({"to": "payer"}, patient, clinic.clinician, data_classes=["treatment_plan"])
    assert not Disclosure.objects.exists()

    named = family_release(patient, clinic.clinician, contact, ["treatment_plan"])
    shown = login(client, clinic.clinician).get(reverse("plans:version", args=[version.public_id]))
    assert f"consent:{named.public_id}" in shown.content.decode()
    response = client.get(url, {"to": f"consent:{named.public_id}", "purpose": "treatment"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    entry = Disclosure.objects.get()
    assert (entry.channel, entry.consent, entry.data_classes, entry.actor) == (
        "pdf",
        named,
        ["treatment_plan"],
        clinic.clinician,
    )


def test_staff_tab_pdf_and_access(client, clinic, patient, contact):
    release = family_release(patient, clinic.clinician, contact)
    old = timezone.now() - timedelta(days=40)
    common: dict[str, Any] = {"acting_user": None, "consent": release, "purpose": "treatment"}
    record_disclosure(patient, recipient=f"contact:{contact.public_id}", data_classes=["attendance"],
                      channel="family_portal", on=old, **common)  # fmt: skip
    record_disclosure(patient, recipient=f"contact:{contact.public_id}", data_classes=["schedule"],
                      channel="family_portal", **common)  # fmt: skip

    chart = login(client, clinic.clinician).get(patient.get_absolute_url(), {"tab": "disclosures"})
    html = chart.content.decode()
    assert html.count("Sam Rivera (Sibling)") >= 2 and "Session schedule" in html
    since = (timezone.localdate() - timedelta(days=7)).isoformat()
    recent = client.get(patient.get_absolute_url(), {"tab": "disclosures", "start": since}).content.decode()
    table = recent.split('id="disclosure-table"')[1].split("</table>")[0]
    assert "Session schedule" in table and "Attendance" not in table

    pdf_url = reverse("consents:disclosures_pdf", args=[patient.public_id])
    response = client.get(pdf_url)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store, private"
    text = plain_text(response.content)
    assert "Accounting of disclosures" in text and "Sam Rivera" in text and "Family portal" in text
    today = timezone.localdate()
    context = list_context(patient, list(disclosures_of(patient)), today, today)
    html = render_to_string("consents/pdf/disclosures.html", context)
    assert "http:" not in html and "https:" not in html and "src=" not in html and "url(" not in html
    assert AuditEvent.objects.filter(action=AuditAction.EXPORTED, patient=patient, object_type="disclosures").exists()

    assert client.get(pdf_url, {"start": "2026-05-02", "end": "2026-05-01"}).status_code == 400
    assert login(client, clinic.frontdesk).get(pdf_url).status_code == 403
    tab = reverse("patients:chart_tab", args=[patient.public_id, "disclosures"])
    assert client.get(tab, HTTP_HX_REQUEST="true").status_code == 403
    assert login(client, clinic.outsider).get(pdf_url).status_code == 404
    assert login(client, clinic.stranger).get(pdf_url).status_code == 404


def test_api_list_and_access(client, clinic, patient, contact):
    release = family_release(patient, clinic.clinician, contact)
    record_disclosure(patient, recipient=f"contact:{contact.public_id}", data_classes=["attendance"],
                      channel="family_portal", acting_user=None, consent=release, purpose="treatment")  # fmt: skip
    path = f"{API}/patients/{patient.public_id}/disclosures"
    body = login(client, clinic.clinician).get(path).json()
    assert [(d["recipient_name"], d["channel"], d["consent"]) for d in body] == [
        ("Sam Rivera (Sibling)", "family_portal", str(release.public_id))
    ]
    assert AuditEvent.objects.filter(patient=patient, object_type="disclosures", actor=clinic.clinician).exists()
    bad = client.get(path, {"start": "2026-05-02", "end": "2026-05-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "end"
    assert login(client, clinic.frontdesk).get(path).status_code == 403
    assert login(client, clinic.stranger).get(path).status_code == 404
    assert login(client, clinic.outsider).get(path).status_code == 404


def _token(capsys, *args: str) -> dict[str, str]:
    call_command("api_token", "create", "clinician", "--name", "hope-ehr", *args)
    return {"Authorization": f"Bearer {capsys.readouterr().out.strip().splitlines()[-1]}"}


def test_an_outside_systems_reads_need_a_consent_and_are_accounted(client, clinic, patient, capsys):
    outside = _token(capsys, "--recipient", "provider:Hope Clinic", "--recipient-name", "Hope Clinic, 1 Main St")
    attendance = f"{API}/patients/{patient.public_id}/attendance"
    refused = client.get(attendance, headers=outside)
    assert refused.status_code == 403 and refused["Content-Type"].startswith("application/problem+json")
    assert not Disclosure.objects.exists()

    release = provider_release(patient, clinic.clinician)
    assert client.get(attendance, headers=outside).status_code == 200
    entry = Disclosure.objects.get()
    assert (entry.channel, entry.consent, entry.recipient_name, entry.data_classes) == (
        "api",
        release,
        "Hope Clinic, 1 Main St",
        ["attendance"],
    )
    # Demographics need a consent for all records; a list of many patients is never for an outside system.
    assert client.get(f"{API}/patients/{patient.public_id}", headers=outside).status_code == 403
    assert client.get(f"{API}/patients", headers=outside).status_code == 403
    assert client.get(f"{API}/me", headers=outside).status_code == 200  # no patient record read

    do_revoke_consent(release, acting_user=clinic.clinician, statement="I take it back.")
    assert client.get(attendance, headers=outside).status_code == 403

    internal = _token(capsys)  # the clinic's own system: its staff at work, not a disclosure
    assert client.get(attendance, headers=internal).status_code == 200
    assert Disclosure.objects.get().times == 1


def test_every_export_page_says_it_is_for_internal_use(client, clinic):
    """docs/clinical-rules.md#exports: the CSV exports are for the clinic's own staff and say so where they are
    offered (their audit rows and access rules are tested with each app)."""
    pages = [
        (clinic.director, reverse("attendance:program_report", args=[clinic.mh.public_id])),
        (clinic.director, reverse("measures:outcomes", args=[clinic.mh.public_id])),
        (clinic.billing, reverse("billing:days")),
        (clinic.auditor, reverse("core:audit_report")),
    ]
    for user, url in pages:
        html = login(client, user).get(url).content.decode()
        assert "For internal use by Riverside Recovery staff only" in html, url
