"""The utilization API: list, get with live units, create, update, reviews; problem bodies naming the field."""

from __future__ import annotations

from datetime import timedelta

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_add_coverage
from openiop.utilization.models import Authorization
from openiop.utilization.tests.conftest import make_stay

BASE = "/api/v1/authorizations"


def _body(stay, **extra):
    body = {
        "episode": str(stay.episode.public_id),
        "coverage": str(stay.coverage.public_id),
        "number": "P-1",
        "level_of_care": "iop",
        "status": "approved",
        "start_date": stay.ago(5).isoformat(),
        "end_date": (stay.today + timedelta(days=5)).isoformat(),
        "units_authorized": 3,
    }
    body.update(extra)
    return body


def _errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_create_get_and_list_with_live_units_and_flags(client, clinic, stay):
    stay.day(2)
    login(client, clinic.billing)
    created = client.post(BASE, _body(stay), content_type="application/json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["units_used"], data["units_remaining"]) == (1, 2)
    assert set(data["flags"]) == {"expiring", "units_low", "review_due"}
    got = client.get(f"{BASE}/{data['id']}").json()
    assert got["units_remaining"] == 2 and got["reviews"] == []
    listed = client.get(BASE, {"flag": "units_low", "program": str(clinic.mh.public_id)}).json()
    assert [r["id"] for r in listed["results"]] == [data["id"]] and listed["count"] == 1
    assert client.get(BASE, {"episode": str(stay.episode.public_id), "status": "denied"}).json()["count"] == 0
    assert AuditEvent.objects.filter(action=AuditAction.RECORD_VIEWED, object_id=data["id"]).exists()


def test_bad_input_is_a_422_naming_the_field(client, clinic, stay):
    login(client, clinic.billing)
    end_first = _body(stay, end_date=stay.ago(6).isoformat())
    response = client.post(BASE, end_first, content_type="application/json")
    assert response.status_code == 422 and "end_date" in _errors(response)
    other = make_stay(clinic, "Other")
    response = client.post(BASE, _body(stay, coverage=str(other.coverage.public_id)), content_type="application/json")
    assert response.status_code == 422 and "coverage" in _errors(response)
    response = client.post(BASE, _body(stay, level_of_care="icu"), content_type="application/json")
    assert response.status_code == 422 and "level_of_care" in _errors(response)
    assert client.get(BASE, {"flag": "soon"}).status_code == 422
    assert not Authorization.objects.exists()


def test_update_and_a_review_that_extends(client, clinic, stay):
    auth = stay.authorize(start_ago=5, end_ahead=5, units=3)
    login(client, clinic.billing)
    url = f"{BASE}/{auth.public_id}"
    patched = client.patch(url, {"number": "P-2"}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["number"] == "P-2"
    bad = client.patch(url, {"end_date": stay.ago(9).isoformat()}, content_type="application/json")
    assert bad.status_code == 422 and "end_date" in _errors(bad)
    assert client.patch(url, {"units_authorized": None}, content_type="application/json").status_code == 422
    new_end = (stay.today + timedelta(days=30)).isoformat()
    review = {
        "kind": "concurrent",
        "requested_on": stay.ago(1).isoformat(),
        "outcome": "extended",
        "decided_on": stay.today.isoformat(),
        "units_granted": 10,
        "new_end_date": new_end,
    }
    added = client.post(f"{url}/reviews", review, content_type="application/json")
    assert added.status_code == 201
    data = added.json()
    assert (data["units_authorized"], data["end_date"], len(data["reviews"])) == (13, new_end, 1)
    bad = client.post(f"{url}/reviews", {**review, "outcome": "denied"}, content_type="application/json")
    assert bad.status_code == 422 and "units_granted" in _errors(bad)


def test_access(client, clinic, stay):
    auth = stay.authorize(start_ago=5, end_ahead=5, units=3)
    login(client, clinic.clinician)
    assert client.get(BASE).status_code == 403
    assert client.get(f"{BASE}/{auth.public_id}").status_code == 403
    assert client.post(BASE, _body(stay), content_type="application/json").status_code == 403
    login(client, clinic.director)
    assert client.get(f"{BASE}/{auth.public_id}").status_code == 200
    assert client.patch(f"{BASE}/{auth.public_id}", {"number": "X"}, content_type="application/json").status_code == 403
    login(client, clinic.stranger)
    assert client.get(f"{BASE}/{auth.public_id}").status_code == 404
    assert client.get(BASE).json()["count"] == 0


def test_a_second_coverage_of_the_same_patient_is_accepted(client, clinic, stay):
    second = do_add_coverage(
        stay.episode.patient, acting_user=None, priority=2, payer_kind="medicaid", payer_name="State", member_id="M1"
    )
    login(client, clinic.billing)
    response = client.post(BASE, _body(stay, coverage=str(second.public_id)), content_type="application/json")
    assert response.status_code == 201 and response.json()["payer_name"] == "State"


def test_a_pending_review_is_decided_through_the_api(client, clinic, stay):
    auth = stay.authorize(start_ago=5, end_ahead=5, units=3)
    login(client, clinic.billing)
    pending = {"kind": "concurrent", "requested_on": stay.ago(1).isoformat()}
    review_id = client.post(f"{BASE}/{auth.public_id}/reviews", pending, content_type="application/json").json()[
        "reviews"
    ][0]["id"]
    url = f"/api/v1/utilization-reviews/{review_id}/decision"
    decision = {"outcome": "approved", "decided_on": stay.today.isoformat(), "units_granted": 4}
    login(client, clinic.director)
    assert client.post(url, decision, content_type="application/json").status_code == 403
    login(client, clinic.billing)
    done = client.post(url, decision, content_type="application/json")
    assert done.status_code == 200 and done.json()["units_authorized"] == 7
    again = client.post(url, decision, content_type="application/json")
    assert again.status_code == 422 and "outcome" in _errors(again)
