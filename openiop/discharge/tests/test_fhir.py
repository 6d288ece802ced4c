"""The discharge summary as a FHIR DocumentReference: validates with fhir.resources (R4B) and says the right thing."""

from __future__ import annotations

from datetime import UTC

import pytest
from fhir.resources.R4B.documentreference import DocumentReference

from openiop.discharge.fhir import summary_to_fhir
from openiop.testing.discharge import drafted, signed
from openiop.testing.scheduling import admit

pytestmark = pytest.mark.django_db


def test_a_signed_summary_is_a_final_discharge_summary_document(clinic):
    summary = signed(admit(clinic, "Casey", admitted_days_ago=40), clinic.clinician, days_ago=2)
    episode = summary.episode
    resource = summary_to_fhir(summary, base_url="https://iop.example.org")
    parsed = DocumentReference.model_validate(resource)
    assert (parsed.status, parsed.docStatus) == ("current", "final")
    assert resource["type"]["coding"] == [
        {"system": "http://loinc.org", "code": "18842-5", "display": "Discharge summary"}
    ]
    assert resource["subject"] == {"reference": f"Patient/{summary.patient.public_id}"}
    period = resource["context"]["period"]
    assert episode.admitted_on is not None
    assert period == {"start": episode.admitted_on.isoformat(), "end": summary.discharge_on.isoformat()}
    attachment = resource["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert attachment["url"] == f"https://iop.example.org/discharge/{summary.public_id}/summary.pdf"
    assert resource["authenticator"] == {"display": clinic.clinician.display_name}
    assert summary.signed_at is not None and resource["date"] == summary.signed_at.astimezone(UTC).isoformat()
    assert "meta" not in resource and "TEDS-D 1" in resource["description"]
    # No clinical text is copied into the resource: the PDF link carries it, behind the PDF endpoint's checks.
    assert summary.course_of_treatment not in str(resource)


def test_a_draft_is_preliminary_and_substance_use_carries_the_part2_label(clinic):
    summary = drafted(admit(clinic, "Kai", program=clinic.su, admitted_days_ago=20), clinic.director)
    resource = summary_to_fhir(summary)
    parsed = DocumentReference.model_validate(resource)
    assert parsed.docStatus == "preliminary" and "authenticator" not in resource
    assert resource["content"][0]["attachment"]["url"] == f"/discharge/{summary.public_id}/summary.pdf"
    label = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2"}
    assert resource["meta"]["security"] == [label]
    assert resource["securityLabel"] == [{"coding": [label]}]
