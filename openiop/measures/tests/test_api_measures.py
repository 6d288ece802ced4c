"""The measures API: access matrix, staff entry with problem bodies naming the field, FHIR, alerts."""

from __future__ import annotations

import json
from datetime import date

import pytest

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.measures.models import Administration, SafetyAlert
from openiop.patients.actions import do_open_episode
from openiop.testing.measures import all_items, completed, phq9, start

PROBLEM = "application/problem+json"


def url(path: str) -> str:
    return f"/api/v1{path}"


def post(client, path: str, body: dict | None = None):
    return client.post(url(path), json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def done(clinic, patient) -> Administration:
    return completed(patient, clinic.clinician, "phq9", phq9(8, item9=1))


@pytest.fixture
def open_one(clinic, patient) -> Administration:
    return start(patient, clinic.clinician, "gad7")


def _endpoints(patient, done, open_one, episode_id):
    alert = done.safety_alert.public_id
    return [
        ("get", f"/patients/{patient.public_id}/administrations", None, "view"),
        ("post", f"/patients/{patient.public_id}/administrations", {"episode": str(episode_id), "instrument": "gad7"},
         "edit"),
        ("get", f"/administrations/{done.public_id}", None, "view"),
        ("get", f"/administrations/{done.public_id}/fhir", None, "view"),
        ("post", f"/administrations/{open_one.public_id}/answers", {"answers": {"gad7_1": 1}}, "edit"),
        ("get", "/alerts", None, "view"),
        ("post", f"/alerts/{alert}/acknowledge", None, "edit"),
        ("post", f"/alerts/{alert}/resolve", {"action": "safety_plan", "note": "Reviewed."}, "edit"),
        ("get", "/instruments", None, "view"),
    ]  # fmt: skip


def _call(client, method, path, body):
    return client.get(url(path)) if method == "get" else post(client, path, body)


def test_access_matrix(client, clinic, patient, done, open_one):
    episode_id = patient.episodes.get().public_id
    for method, path, body, group in _endpoints(patient, done, open_one, episode_id):
        for who in ("outsider", "stranger"):
            login(client, getattr(clinic, who))
            response = _call(client, method, path, body)
            if path in ("/alerts", "/instruments"):
                assert response.status_code == 200 and patient.mrn not in response.content.decode(), (who, path)
                if path == "/alerts":
                    assert response.json() == []
            else:
                assert response.status_code == 404 and response["Content-Type"] == PROBLEM, (who, path)
        login(client, clinic.frontdesk)
        assert _call(client, method, path, body).status_code == 403, path
        login(client, clinic.auditor)
        assert _call(client, method, path, body).status_code == (403 if group == "edit" else 200), path
    client.logout()
    assert client.get(url("/alerts")).status_code == 401


def test_staff_entry_saves_partial_then_completes(client, clinic, open_one):
    login(client, clinic.clinician)
    response = post(client, f"/administrations/{open_one.public_id}/answers", {"answers": {"gad7_1": 2, "gad7_2": 1}})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "in_progress" and body["answers"] == {"gad7_1": 2, "gad7_2": 1} and body["total"] is None
    answers = {f"gad7_{n}": 1 for n in range(3, 8)}
    body = post(client, f"/administrations/{open_one.public_id}/answers", {"answers": answers, "complete": True}).json()
    assert (body["status"], body["total"], body["band"], body["channel"]) == ("completed", 8, "mild", "staff")


def test_a_bad_answer_gets_a_problem_naming_the_item(client, clinic, open_one):
    login(client, clinic.clinician)
    response = post(client, f"/administrations/{open_one.public_id}/answers", {"answers": {"gad7_1": 9, "nope": 1}})
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"answers.gad7_1", "answers.nope"}
    response = post(client, f"/patients/{open_one.patient.public_id}/administrations",
                    {"episode": str(open_one.episode.public_id), "instrument": "audit"})  # fmt: skip
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "instrument"
    response = post(client, f"/administrations/{open_one.public_id}/answers", {"answers": "x"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "answers"


def test_fhir_for_a_completed_administration(client, clinic, done, open_one):
    from fhir.resources.observation import Observation
    from fhir.resources.questionnaireresponse import QuestionnaireResponse

    login(client, clinic.clinician)
    body = client.get(url(f"/administrations/{done.public_id}/fhir")).json()
    qr = QuestionnaireResponse.model_validate(body["questionnaireResponse"])
    assert qr.id == str(done.public_id) and qr.subject is not None
    assert qr.subject.reference == f"Patient/{done.patient.public_id}"
    obs = Observation.model_validate(body["observations"][0])
    assert obs.valueInteger == 9 and obs.derivedFrom is not None and obs.code.coding is not None
    assert obs.derivedFrom[0].reference == f"QuestionnaireResponse/{done.public_id}"
    assert any(c.code == "44261-6" for c in obs.code.coding)
    assert body["flag"]["resourceType"] == "Flag" and "notice" not in body
    assert AuditEvent.objects.filter(action=AuditAction.EXPORTED, object_id=str(done.public_id)).count() == 1
    response = client.get(url(f"/administrations/{open_one.public_id}/fhir"))
    assert response.status_code == 409 and response["Content-Type"] == PROBLEM


def test_substance_use_fhir_carries_the_part2_label_and_notice(client, clinic, patient):
    su = do_open_episode(patient, acting_user=clinic.director, program=clinic.su, status="active",
                         admitted_on=date(2026, 11, 2))  # fmt: skip
    done = completed(patient, clinic.director, "gad7", all_items("gad7", 2), episode=su)
    login(client, clinic.clinician)  # MH only
    assert client.get(url(f"/administrations/{done.public_id}/fhir")).status_code == 404
    listed = client.get(url(f"/patients/{patient.public_id}/administrations")).json()
    assert str(done.public_id) not in {a["id"] for a in listed}
    login(client, clinic.director)
    body = client.get(url(f"/administrations/{done.public_id}/fhir")).json()
    assert body["notice"] == "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
    assert body["questionnaireResponse"]["meta"]["security"][0]["code"] == "42CFRPart2"
    assert all(o["meta"]["security"][0]["code"] == "42CFRPart2" for o in body["observations"])


def test_alerts_list_acknowledge_and_resolve(client, clinic, done):
    alert = done.safety_alert
    login(client, clinic.clinician)
    listed = client.get(url("/alerts?status=open")).json()
    assert [a["id"] for a in listed] == [str(alert.public_id)] and listed[0]["items"] == ["phq9_9"]
    assert client.get(url("/alerts?status=bogus")).json()["errors"][0]["field"] == "status"
    assert post(client, f"/alerts/{alert.public_id}/acknowledge").json()["status"] == "acknowledged"
    again = post(client, f"/alerts/{alert.public_id}/acknowledge")
    assert again.status_code == 409 and again["Content-Type"] == PROBLEM
    response = post(client, f"/alerts/{alert.public_id}/resolve", {"action": "", "note": ""})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"action", "note"}
    body = post(client, f"/alerts/{alert.public_id}/resolve", {"action": "crisis_referral", "note": "Referred."}).json()
    assert (body["status"], body["resolution_action"]) == ("resolved", "crisis_referral")
    assert SafetyAlert.objects.get(pk=alert.pk).resolution_note == "Referred."


def test_instruments_list_carries_licence_notices(client, clinic):
    login(client, clinic.clinician)
    body = {i["code"]: i for i in client.get(url("/instruments")).json()}
    assert body["audit"]["enabled_by_default"] is False and body["audit"]["notice"]
    assert body["phq9"]["items"][8]["code"] == "phq9_9" and len(body["phq9"]["items"][0]["options"]) == 4
