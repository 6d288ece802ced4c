"""Intake API: start, save sections, rate, diagnose, sign, read; access and problems naming the field."""

from __future__ import annotations

import pytest

from openiop.conftest import login
from openiop.intake.models import RISK_QUESTIONS
from openiop.testing.intake import signed, start

PROBLEM = "application/problem+json"
JSON = "application/json"


def api(path: str) -> str:
    return f"/api/v1{path}"


def test_a_whole_assessment_through_the_api(client, clinic, patient):
    client = login(client, clinic.clinician)
    response = client.post(
        api(f"/patients/{patient.public_id}/intake"), {"program": str(clinic.mh.public_id)}, content_type=JSON
    )
    assert response.status_code == 201, response.content
    aid = response.json()["id"]
    sections = {
        "presenting_problem": "Low mood.",
        **{name: False for name, _ in RISK_QUESTIONS},
        "recommendation": "admit_iop",
        "recommended_program": str(clinic.mh.public_id),
        "recommended_track": str(clinic.evening.public_id),
        "substances": [{"substance": "Alcohol", "route": "oral", "frequency": "weekends"}],
    }
    response = client.patch(api(f"/intake/{aid}"), sections, content_type=JSON)
    assert response.status_code == 200, response.content
    assert response.json()["recommended_track"] == str(clinic.evening.public_id)
    locus = dict.fromkeys(
        (
            "risk_of_harm",
            "functional_status",
            "comorbidity",
            "environment_stress",
            "environment_support",
            "treatment_history",
            "engagement",
        ),
        "2",
    )
    response = client.put(
        api(f"/intake/{aid}/ratings/locus"), {"ratings": locus, "chosen_level": "3"}, content_type=JSON
    )
    assert response.status_code == 200, response.content
    assert response.json()["level_ratings"][0]["chosen_level"] == "3"
    response = client.post(
        api(f"/intake/{aid}/diagnoses"), {"code": "f331", "description": "MDD", "is_primary": True}, content_type=JSON
    )
    assert response.status_code == 201 and response.json()["code"] == "F33.1"
    response = client.post(api(f"/intake/{aid}/sign"))
    assert response.status_code == 200 and response.json()["status"] == "signed"
    response = client.patch(api(f"/intake/{aid}"), {"strengths": "More."}, content_type=JSON)
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "status"
    listed = client.get(api(f"/patients/{patient.public_id}/intake")).json()
    assert [a["id"] for a in listed] == [aid]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("put", "/ratings/asam3", {"ratings": {"d1": "7"}}, "rating_d1"),
        ("put", "/ratings/asam3", {"chosen_level": "9"}, "chosen_level"),
        ("post", "/diagnoses", {"code": "123", "description": "x"}, "code"),
        ("patch", "", {"substances": [{"substance": "x", "route": "teleport"}]}, "substances"),
        ("patch", "", {"recommended_program": "00000000-0000-0000-0000-000000000000"}, "recommended_program"),
        ("patch", "", {"assessed_on": "soon"}, "assessed_on"),
        ("post", "/sign", None, "presenting_problem"),
    ],
)
def test_problems_name_the_field(client, clinic, patient, method, path, body, field):
    assessment = start(patient, clinic.clinician)
    client = login(client, clinic.clinician)
    response = getattr(client, method)(api(f"/intake/{assessment.public_id}{path}"), body, content_type=JSON)
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    assert field in [e["field"] for e in response.json()["errors"]]


def test_roles_and_scope(client, clinic, patient):
    assessment = signed(patient, clinic.clinician)
    read = api(f"/intake/{assessment.public_id}")
    for role, status in (("auditor", 200), ("frontdesk", 403), ("billing", 403), ("outsider", 404), ("stranger", 404)):
        client.logout()
        assert login(client, getattr(clinic, role)).get(read).status_code == status, role
    client.logout()
    client = login(client, clinic.auditor)
    assert (
        client.post(
            api(f"/patients/{patient.public_id}/intake"), {"program": str(clinic.mh.public_id)}, content_type=JSON
        ).status_code
        == 403
    )
    assert client.patch(read, {"strengths": "x"}, content_type=JSON).status_code == 403
    for who in ("outsider", "stranger"):
        client.logout()
        client = login(client, getattr(clinic, who))
        assert client.get(api(f"/patients/{patient.public_id}/intake")).status_code == 404
        assert client.post(api(f"/intake/{assessment.public_id}/sign")).status_code == 404
        assert (
            client.put(api(f"/intake/{assessment.public_id}/ratings/asam3"), {}, content_type=JSON).status_code == 404
        )
        assert (
            client.post(
                api(f"/intake/{assessment.public_id}/diagnoses"),
                {"code": "F33.1", "description": "x"},
                content_type=JSON,
            ).status_code
            == 404
        )


def test_an_assessment_started_from_a_referral_marks_it_assessed_when_signed(client, clinic, patient):
    from openiop.referrals.actions import do_link_patient
    from openiop.referrals.models import Referral
    from openiop.testing.intake import complete
    from openiop.testing.referrals import make_referral

    referral = do_link_patient(make_referral(clinic, stage="screening"), acting_user=clinic.intake, patient=patient)
    client = login(client, clinic.intake)
    body = {"program": str(clinic.mh.public_id), "referral": str(referral.public_id)}
    response = client.post(api(f"/patients/{patient.public_id}/intake"), body, content_type=JSON)
    assert response.status_code == 201 and response.json()["referral"] == str(referral.public_id)
    from openiop.intake.models import IntakeAssessment

    complete(IntakeAssessment.objects.get(public_id=response.json()["id"]), clinic.intake)
    client = login(client, clinic.clinician)  # the coordinator drafts, the clinician signs (scope of practice)
    assert client.post(api(f"/intake/{response.json()['id']}/sign")).status_code == 200
    referral.refresh_from_db()
    assert referral.stage == Referral.Stage.ASSESSED
    body["referral"] = "00000000-0000-0000-0000-000000000000"
    response = client.post(api(f"/patients/{patient.public_id}/intake"), body, content_type=JSON)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "referral"
