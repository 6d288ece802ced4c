"""What the API answers before a router runs: 401 (with WWW-Authenticate) for a write without credentials or with a
bad token, 403 for a real staff session writing without its CSRF token, 415 for a body that is not JSON."""

from __future__ import annotations

import json

from django.test import Client

from openiop.api.models import ApiToken, hash_token
from openiop.conftest import login

PROBLEM = "application/problem+json"
PATIENTS = "/api/v1/patients"
ME = "/api/v1/me"


def new_patient(clinic) -> str:
    return json.dumps(
        {
            "home_program": str(clinic.mh.public_id),
            "legal_first_name": "Avery",
            "legal_last_name": "Stone",
            "date_of_birth": "1988-02-29",
        }
    )


def assert_401(response) -> None:
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["title"] == "Authentication required"


def test_no_or_bad_credentials_are_401_not_a_csrf_refusal(db):
    client = Client(enforce_csrf_checks=True)  # CSRF on, as a browser or a script meets it
    for headers in ({}, {"Authorization": "Bearer oiop_wrong"}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        assert_401(client.post(PATIENTS, "{}", content_type="application/json", headers=headers))
        assert_401(client.get(ME, headers=headers))


def test_session_write_needs_its_csrf_token_and_a_bad_token_beside_it_is_401(clinic):
    client = login(Client(enforce_csrf_checks=True), clinic.clinician)
    refused = client.post(PATIENTS, new_patient(clinic), content_type="application/json")
    assert refused.status_code == 403
    assert refused["Content-Type"] == PROBLEM
    assert refused.json()["title"] == "CSRF check failed"
    # The Authorization header chose the credentials: a wrong token is not rescued by the cookie.
    assert_401(client.get(ME, headers={"Authorization": "Bearer oiop_wrong"}))
    client.cookies["csrftoken"] = token = "k" * 32  # what a page leaves in the browser, without rendering one
    created = client.post(
        PATIENTS, new_patient(clinic), content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert created.status_code == 201


def test_bearer_token_writes_without_csrf_and_json_variants_are_accepted(clinic):
    raw = ApiToken.generate()
    ApiToken.objects.create(user=clinic.clinician, name="guards", token_hash=hash_token(raw), hint=raw[:8])
    bearer = {"Authorization": f"Bearer {raw}"}
    client = Client(enforce_csrf_checks=True)
    created = client.post(PATIENTS, new_patient(clinic), content_type="application/json; charset=utf-8", headers=bearer)
    assert created.status_code == 201
    patch = json.dumps({"preferred_name": "Ave"})
    url = f"{PATIENTS}/{created.json()['id']}"
    assert client.patch(url, patch, content_type="application/merge-patch+json", headers=bearer).status_code == 200
    # No body at all: nothing to parse, so the router answers (the body it needed is missing: 422, not 415).
    assert client.generic("POST", PATIENTS, b"", content_type="text/plain", headers=bearer).status_code == 422
    assert client.get(ME, content_type="text/plain", headers=bearer).status_code == 200
    # An empty form (the test client's POST without data) is no body either: JSON parsing refuses it, not the guard.
    assert client.post(PATIENTS, headers=bearer).status_code == 400


def test_body_that_is_not_json_is_415_before_anything_reads_it():
    client = Client()
    sent = [
        client.post(PATIENTS, '{"legal_first_name": "Avery"}', content_type="text/plain"),
        client.post(PATIENTS, '{"legal_first_name": "Avery"}', content_type=""),
        client.post(PATIENTS, "legal_first_name=Avery", content_type="application/x-www-form-urlencoded"),
        client.post(PATIENTS, {"legal_first_name": "Avery"}),  # multipart, a field in it
        client.post(PATIENTS, "not a form", content_type="multipart/form-data"),  # no boundary: unparseable
    ]
    for response in sent:
        assert response.status_code == 415
        assert response["Content-Type"] == PROBLEM
        assert response.json()["title"] == "Unsupported media type"
        assert response["Accept-Post"] == "application/json"
        assert response["Cache-Control"] == "no-store"
    patch = client.generic("PATCH", f"{PATIENTS}/x", "{}", content_type="text/plain")
    assert (patch.status_code, patch["Accept-Patch"]) == (415, "application/json")
