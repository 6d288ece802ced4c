"""Plan API: a plan written, signed and reviewed through the API; access; problem bodies naming the field."""

from __future__ import annotations

import pytest

from openiop.conftest import login
from openiop.plans import actions
from openiop.testing.plans import active, draft

JSON = "application/json"


def api(path: str) -> str:
    return f"/api/v1{path}"


def test_a_plan_through_the_api(client, clinic, patient):
    version = draft(patient, clinic.clinician)
    c = login(client, clinic.clinician)
    r = c.post(api(f"/plan-versions/{version.public_id}/items"), {"statement": "Low mood."}, content_type=JSON)
    assert r.status_code == 201, r.content
    problem = r.json()["id"]
    r = c.post(api(f"/plan-problems/{problem}/items"), {"statement": "Mood lifts."}, content_type=JSON)
    goal = r.json()["id"]
    r = c.post(api(f"/plan-goals/{goal}/items"), {"statement": "Walks daily.", "target_date": "2026-12-15"},
               content_type=JSON)  # fmt: skip
    objective = r.json()["id"]
    r = c.post(api(f"/plan-objectives/{objective}/items"), {"modality": "cbt_skills", "frequency": "3x weekly"},
               content_type=JSON)  # fmt: skip
    assert r.status_code == 201
    r = c.patch(api(f"/plan-versions/{version.public_id}"), {"strengths": "Family."}, content_type=JSON)
    assert r.status_code == 200 and r.json()["problems"][0]["goals"][0]["objectives"][0]["interventions"]
    r = c.post(api(f"/plan-versions/{version.public_id}/sign"))
    assert r.status_code == 200 and r.json()["status"] == "awaiting_patient"
    r = c.get(api(f"/plans/{version.plan.public_id}"))
    assert r.status_code == 200 and r.json()["versions"][0]["number"] == 1


def test_errors_name_the_field(client, clinic, patient):
    version = draft(patient, clinic.clinician)
    c = login(client, clinic.clinician)
    r = c.post(api(f"/plan-versions/{version.public_id}/items"), {"statement": " "}, content_type=JSON)
    assert r.status_code == 422 and r["Content-Type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "statement"
    r = c.post(api(f"/plan-versions/{version.public_id}/items"), {"statement": "x", "frequency": "daily"},
               content_type=JSON)  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "frequency"
    r = c.post(api(f"/plan-versions/{version.public_id}/sign"))
    assert r.status_code == 422 and "problems" in {e["field"] for e in r.json()["errors"]}


def test_reviews_are_listed_and_completed(client, clinic, patient):
    plan = active(patient, clinic.clinician).plan
    c = login(client, clinic.clinician)
    reviews = c.get(api(f"/plans/{plan.public_id}/reviews")).json()
    assert [r["status"] for r in reviews] == ["due"]
    r = c.post(api(f"/plan-reviews/{reviews[0]['id']}/complete"), {"outcome": "modify_plan", "summary": "Adjust."},
               content_type=JSON)  # fmt: skip
    assert r.status_code == 200 and r.json()["next_version"]


def test_the_cosign_path_through_the_api(client, clinic, patient):
    version = draft(patient, clinic.intern)
    from openiop.testing.plans import fill

    fill(version, clinic.intern)
    actions.do_sign_version(version, acting_user=clinic.intern)
    assert login(client, clinic.intern).post(api(f"/plan-versions/{version.public_id}/cosign")).status_code == 422
    r = login(client, clinic.clinician).post(api(f"/plan-versions/{version.public_id}/cosign"))
    assert r.status_code == 200 and r.json()["status"] == "awaiting_patient"


@pytest.mark.parametrize(
    ("who", "method", "expected"),
    [("outsider", "get", 404), ("stranger", "get", 404), ("frontdesk", "get", 403), ("billing", "get", 403),
     ("auditor", "get", 200), ("auditor", "post", 403), ("clinician", "get", 200)],
)  # fmt: skip
def test_access(client, clinic, patient, who, method, expected):
    version = active(patient, clinic.clinician)
    c = login(client, getattr(clinic, who))
    if method == "get":
        for path in (f"/plans/{version.plan.public_id}", f"/plan-versions/{version.public_id}",
                     f"/plans/{version.plan.public_id}/reviews"):  # fmt: skip
            assert c.get(api(path)).status_code == expected, path
    else:
        assert c.post(api(f"/plan-versions/{version.public_id}/sign")).status_code == expected
