"""The API's contract: a valid OpenAPI document whose every operation documents its problem answers, unique
schema names, limits on every input, and no 500 for input the database would refuse (a NUL, a null where the
column takes none, a stop time before the stored start time, a number past 64 bits)."""

from __future__ import annotations

import inspect
import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError
from ninja import Schema
from openapi_spec_validator import validate

from openiop.api import urls as api_urls
from openiop.api.contract import TIME_PATTERN
from openiop.api.schemas import MAX_TEXT
from openiop.conftest import login
from openiop.notes import actions as note_actions
from openiop.testing import notes as note_fixtures

PROBLEM = "application/problem+json"
API_MODULES = ("attendance", "billing", "consents", "discharge", "intake", "measures", "notes", "plans",
               "referrals", "routers", "scheduling", "schemas", "skills", "worklist")  # fmt: skip


def url(path: str) -> str:
    return f"/api/v1{path}"


def _json(client, method: str, path: str, body) -> Any:
    return getattr(client, method)(url(path), json.dumps(body), content_type="application/json")


def _fields(response) -> list[str]:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == PROBLEM
    return [e["field"] for e in response.json()["errors"]]


def test_the_openapi_document_is_valid_and_documents_every_problem(db):
    document = api_urls.api.get_openapi_schema()
    validate(json.loads(json.dumps(document)))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "401", "403", "404", "409", "422"):
                content = operation["responses"][status]["content"]
                assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}, (method, path)
    text = json.dumps(document)
    assert '"format": "time"' not in text
    assert json.dumps(TIME_PATTERN) in text
    note_in = document["components"]["schemas"]["PartIn"]["properties"]["subjective"]["anyOf"][0]
    assert note_in["maxLength"] == MAX_TEXT


def test_each_schema_name_is_used_once():
    # The OpenAPI components are keyed by class name: two classes of one name would document one for both.
    seen: dict[str, str] = {}
    for name in API_MODULES:
        module = __import__(f"openiop.api.{name}", fromlist=["_"])
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Schema) and cls.__module__ == module.__name__:
                assert cls_name not in seen, f"{cls_name} in {seen.get(cls_name)} and {module.__name__}"
                seen[cls_name] = module.__name__


def test_nul_and_non_utf8_input_gets_400_everywhere(client, clinic, patient):
    login(client, clinic.clinician)
    response = client.get(url("/patients"), QUERY_STRING="q=a%00b")
    assert (response.status_code, response["Content-Type"]) == (400, PROBLEM)
    response = _json(client, "patch", f"/patients/{patient.public_id}", {"legal_first_name": "Jo\u0000rdan"})
    assert response.status_code == 400
    response = client.patch(
        url(f"/patients/{patient.public_id}"), b'{"legal_first_name": "\xff"}', content_type="application/json"
    )
    assert response.status_code == 400
    page = client.post("/patients/", {"q": "a\x00b"})
    assert page.status_code == 400 and b"could not be read" in page.content
    assert client.get("/patients/", QUERY_STRING="q=%ff").status_code == 400
    patient.refresh_from_db()
    assert patient.legal_first_name == "Jordan"


def test_paging_beyond_the_bounds_is_a_422_naming_the_parameter(client, clinic):
    login(client, clinic.clinician)
    assert _fields(client.get(url("/patients"), {"offset": "9223372036854775808"})) == ["offset"]
    assert _fields(client.get(url("/patients"), {"limit": "0"})) == ["limit"]
    assert client.get(url("/patients"), {"limit": "5", "utm_source": "x"}).status_code == 200  # stray query keys pass


@pytest.fixture
def draft(clinic, patient):
    episode = patient.episodes.get()
    session = note_fixtures.individual_session(clinic.mh, facilitators=(clinic.clinician,))
    note_fixtures.attend(session, episode, clinic.clinician)
    return note_actions.do_create_note(patient, acting_user=clinic.clinician, episode=episode, session=session)


def test_note_patch_refuses_nulls_long_text_and_a_stop_before_the_stored_start(client, clinic, draft):
    login(client, clinic.clinician)
    path = f"/notes/{draft.public_id}"
    assert _fields(_json(client, "patch", path, {"risk_level": None})) == ["risk_level"]
    assert _fields(_json(client, "patch", path, {"is_crisis": None})) == ["is_crisis"]
    assert _fields(_json(client, "patch", path, {"subjective": "x" * (MAX_TEXT + 1)})) == ["subjective"]
    assert draft.start_time is not None
    early = (draft.start_time - timedelta(minutes=5)).isoformat()
    assert _fields(_json(client, "patch", path, {"stop_time": early})) == ["stop_time"]
    assert _fields(_json(client, "patch", path, ["subjective"])) == [""]
    # A misspelt field is refused by name, never ignored as if the change had been made.
    assert _fields(_json(client, "patch", path, {"subjectiv": "Doing better."})) == ["subjectiv"]
    draft.refresh_from_db()
    assert draft.stop_time is None or draft.stop_time > draft.start_time
    assert _json(client, "patch", path, {"subjective": "Doing better."}).status_code == 200


def test_group_note_patch_takes_an_object_only(client, clinic):
    session = note_fixtures.group_session(clinic.mh, facilitators=(clinic.clinician,))
    login(client, clinic.clinician)
    assert _json(client, "post", f"/sessions/{session.public_id}/group-note", {}).status_code == 201
    response = _json(client, "patch", f"/sessions/{session.public_id}/group-note", [{"topic": "x"}])
    assert response.status_code == 422


def test_a_database_refusal_is_a_problem_without_the_database_text(client, clinic, patient, monkeypatch):
    from openiop.api import routers

    def refuse(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint DETAIL: Key (mrn)=(Jordan Rivera)")

    monkeypatch.setattr(routers.patient_actions, "do_update_patient", refuse)
    login(client, clinic.clinician)
    response = _json(client, "patch", f"/patients/{patient.public_id}", {"legal_first_name": "Jo"})
    assert (response.status_code, response["Content-Type"]) == (409, PROBLEM)
    assert "Rivera" not in response.content.decode() and "constraint" not in response.content.decode()


def test_a_questionnaire_answer_is_a_number_never_a_string(client, clinic, patient):
    from openiop.testing.measures import start

    administration = start(patient, clinic.clinician, "gad7")
    login(client, clinic.clinician)
    path = f"/administrations/{administration.public_id}/answers"
    assert _fields(_json(client, "post", path, {"answers": {"gad7_1": "3"}})) == ["answers.gad7_1"]
    assert _json(client, "post", path, {"answers": {"gad7_1": 3}}).status_code == 200
