"""The emergency access API: request by exact MRN (403 by role, 404 outside the organization, 409 for a member,
422 naming the Part 2 fields), then the chart API reads under the grant, the review list and the sign-off."""

from __future__ import annotations

import pytest

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.core.roles import Role
from openiop.patients.models import EmergencyAccessGrant
from openiop.testing.fixtures import make_patient, staff

PROBLEM = "application/problem+json"
GRANTS = "/api/v1/emergency-access"


def _post(client, path, body):
    return client.post(path, body, content_type="application/json")


def _request(client, patient, **extra):
    return _post(
        client, GRANTS, {"mrn": patient.mrn, "reason_category": "crisis_contact", "reason": "Walk-in", **extra}
    )


@pytest.fixture
def privacy(clinic):
    return staff(clinic.org, "privacy", Role.PRIVACY_OFFICER, [])


def test_request_read_and_review_through_the_api(client, clinic, patient, privacy):
    login(client, clinic.outsider)
    assert client.get(f"/api/v1/patients/{patient.public_id}").status_code == 404
    created = _request(client, patient)
    assert created.status_code == 201
    grant_id = created.json()["id"]
    assert created.json()["patient"] == str(patient.public_id) and "reason" not in created.json()
    assert client.get(f"/api/v1/patients/{patient.public_id}").status_code == 200
    assert AuditEvent.objects.filter(patient=patient, action=AuditAction.EMERGENCY_VIEWED).exists()

    login(client, privacy)
    listing = client.get(f"{GRANTS}/reviews").json()
    assert listing["count"] == 1 and listing["results"][0]["reason"] == "Walk-in"
    bad = _post(client, f"{GRANTS}/{grant_id}/review", {"outcome": "maybe"})
    assert bad.status_code == 422 and bad["Content-Type"] == PROBLEM
    assert bad.json()["errors"][0]["field"] == "outcome"
    done = _post(client, f"{GRANTS}/{grant_id}/review", {"outcome": "appropriate"})
    assert done.status_code == 200 and done.json()["review_outcome"] == "appropriate"
    again = _post(client, f"{GRANTS}/{grant_id}/review", {"outcome": "appropriate"})
    assert again.status_code == 409
    assert client.get(f"{GRANTS}/reviews", {"status": "reviewed"}).json()["count"] == 1
    assert client.get(f"{GRANTS}/reviews", {"status": "nope"}).status_code == 422


def test_api_access_and_part2_fields(client, clinic, patient, privacy):
    for name in ("frontdesk", "billing", "auditor"):
        login(client, clinic.people[name])
        assert _request(client, patient).status_code == 403, name
        assert client.get(f"{GRANTS}/reviews").status_code == 403, name
    login(client, privacy)
    assert _request(client, patient).status_code == 403
    login(client, clinic.stranger)
    response = _request(client, patient)
    assert response.status_code == 404 and response["Content-Type"] == PROBLEM
    login(client, clinic.clinician)
    assert _request(client, patient).status_code == 409
    assert not EmergencyAccessGrant.objects.exists()
    login(client, clinic.outsider)
    grant_id = _request(client, patient).json()["id"]
    login(client, clinic.stranger)
    assert _post(client, f"{GRANTS}/{grant_id}/review", {"outcome": "appropriate"}).status_code == 404

    # Part 2 records without a consent: the problem body names each §2.51 field.
    sud = make_patient(clinic, clinic.su, legal_first_name="Casey", legal_last_name="Morgan")
    login(client, clinic.outsider)
    response = _request(client, sud)
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    assert {e["field"] for e in response.json()["errors"]} == {
        "part2_recipient_name",
        "part2_recipient_affiliation",
        "part2_emergency_nature",
    }
    nothing = _post(client, GRANTS, {"reason_category": "other", "reason": "x"})
    assert nothing.status_code == 422 and nothing.json()["errors"][0]["field"] == "mrn"
