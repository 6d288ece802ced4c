"""Consents API: access for every endpoint, problems naming the field, and the disclosure check."""

from __future__ import annotations

import pytest

from openiop.conftest import login
from openiop.consents.models import Consent
from openiop.core.models import AuditAction, AuditEvent
from openiop.testing.consents import part2_tpo, release_to_contact

PROBLEM = "application/problem+json"


def api(path: str) -> str:
    return f"/api/v1{path}"


def _release_body(contact, **extra):
    body = {
        "kind": "release",
        "data_classes": ["attendance"],
        "recipient_kind": "support_contact",
        "recipient_contact": str(contact.public_id),
        "purposes": ["treatment"],
        "expiry_kind": "event",
        "expiry_event": "Discharge",
        "signature": {"signer_name": "Jordan Rivera", "method": "checkbox", "agreed": True},
    }
    body.update(extra)
    return body


def _check(client, patient, **query):
    return client.get(api(f"/patients/{patient.public_id}/consents/check"), query)


def test_the_check_answers_then_refuses_the_moment_a_revocation_is_posted(client, clinic, patient, contact):
    consent = release_to_contact(patient, clinic.clinician, contact)
    client = login(client, clinic.frontdesk)
    query = {"recipient": f"contact:{contact.public_id}", "data_class": "attendance", "purpose": "treatment"}
    body = _check(client, patient, **query).json()
    assert body["allowed"] is True and body["consent"] == str(consent.public_id) and body["part2"] is False
    response = client.post(
        api(f"/consents/{consent.public_id}/revoke"), {"statement": "Stop."}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    body = _check(client, patient, **query).json()
    assert body["allowed"] is False and "revoked" in body["reason"]
    assert AuditEvent.objects.filter(action=AuditAction.RECORD_VIEWED, object_type="consent_check").count() == 2


def test_the_check_carries_the_redisclosure_notice_for_part2_records(client, clinic, sud_patient):
    part2_tpo(sud_patient, clinic.director)
    body = _check(
        login(client, clinic.billing), sud_patient, recipient="payer", data_class="attendance", purpose="payment"
    ).json()
    assert body["allowed"] and body["part2"]
    assert body["redisclosure_notice"] == "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
    assert "A copy of the consent" in body["scope"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"recipient": "nobody", "data_class": "attendance", "purpose": "treatment"}, "recipient"),
        ({"recipient": "patient", "data_class": "everything", "purpose": "treatment"}, "data_class"),
        ({"recipient": "patient", "data_class": "attendance", "purpose": "marketing"}, "purpose"),
        ({"recipient": "patient", "data_class": "attendance"}, "purpose"),
    ],
)
def test_bad_check_queries_name_the_field(client, clinic, patient, query, field):
    response = _check(login(client, clinic.frontdesk), patient, **query)
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    assert field in [e["field"] for e in response.json()["errors"]]


def test_create_list_and_read_a_consent(client, clinic, patient, contact):
    client = login(client, clinic.frontdesk)
    response = client.post(
        api(f"/patients/{patient.public_id}/consents"), _release_body(contact), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "release" and body["status"] == "active" and body["signature"]["method"] == "checkbox"
    listed = client.get(api(f"/patients/{patient.public_id}/consents")).json()
    assert [c["id"] for c in listed] == [body["id"]]
    assert client.get(api(f"/consents/{body['id']}")).status_code == 200


def test_create_problems_name_the_field(client, clinic, patient, contact):
    client = login(client, clinic.frontdesk)
    bad = _release_body(contact, expiry_kind="none")
    response = client.post(api(f"/patients/{patient.public_id}/consents"), bad, content_type="application/json")
    assert response.status_code == 422 and "expiry_kind" in [e["field"] for e in response.json()["errors"]]
    bad = _release_body(contact, signature={"signer_name": "J", "method": "typed", "agreed": False})
    response = client.post(api(f"/patients/{patient.public_id}/consents"), bad, content_type="application/json")
    assert "agreed" in [e["field"] for e in response.json()["errors"]]
    assert not Consent.objects.exists()


def test_front_desk_may_not_record_a_consent_to_treatment(client, clinic, patient, contact):
    body = _release_body(contact, kind="treatment")
    response = login(client, clinic.frontdesk).post(
        api(f"/patients/{patient.public_id}/consents"), body, content_type="application/json"
    )
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["outsider", "stranger"])
def test_outsiders_get_404_everywhere(client, clinic, patient, contact, who):
    consent = release_to_contact(patient, clinic.clinician, contact)
    client = login(client, getattr(clinic, who))
    assert client.get(api(f"/patients/{patient.public_id}/consents")).status_code == 404
    assert client.get(api(f"/consents/{consent.public_id}")).status_code == 404
    assert _check(client, patient, recipient="patient", data_class="attendance", purpose="treatment").status_code == 404
    assert (
        client.post(
            api(f"/consents/{consent.public_id}/revoke"), {"statement": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert (
        client.post(
            api(f"/patients/{patient.public_id}/consents"), _release_body(contact), content_type="application/json"
        ).status_code
        == 404
    )


def test_read_only_roles_get_403_on_writes(client, clinic, patient, contact):
    consent = release_to_contact(patient, clinic.clinician, contact)
    for role in ("billing", "auditor"):
        client.logout()
        client = login(client, getattr(clinic, role))
        assert client.get(api(f"/consents/{consent.public_id}")).status_code == 200
        assert (
            client.post(
                api(f"/consents/{consent.public_id}/revoke"), {"statement": "x"}, content_type="application/json"
            ).status_code
            == 403
        )
    client = login(client, clinic.sysadmin)
    assert client.get(api(f"/patients/{patient.public_id}/consents")).status_code == 403
