from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command

from openiop.api.models import ApiToken
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.testing.fixtures import make_patient

PROBLEM = "application/problem+json"


def url(path: str) -> str:
    return f"/api/v1{path}"


def new_patient_body(clinic, **extra):
    body = {
        "home_program": str(clinic.mh.public_id),
        "legal_first_name": "Avery",
        "legal_last_name": "Stone",
        "date_of_birth": "1988-02-29",
    }
    body.update(extra)
    return body


def test_anonymous_gets_401_problem(client, db):
    response = client.get(url("/patients"))
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize("who", ["outsider", "stranger"])
@pytest.mark.parametrize(
    "path",
    ["/patients/{p}", "/patients/{p}/episodes", "/patients/{p}/coverages", "/patients/{p}/contacts", "/episodes/{e}"],
)
def test_outsiders_get_404(client, clinic, patient, who, path):
    episode = patient.episodes.get()
    response = login(client, getattr(clinic, who)).get(url(path.format(p=patient.public_id, e=episode.public_id)))
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


def test_outsider_search_does_not_find_patient(client, clinic, patient):
    body = _search(login(client, clinic.outsider), q=patient.legal_last_name).json()
    assert body == {"count": 0, "results": []}


COVERAGE = {"payer_name": "Acme Health", "member_id": "A1"}
STATUS = {"status": "on_hold", "on_date": "2026-11-20"}


@pytest.mark.parametrize(
    ("who", "method", "path", "body"),
    [
        ("sysadmin", "get", "/patients/{p}", None),
        ("sysadmin", "get", "/patients", None),
        ("billing", "post", "/patients/{p}/episodes", "episode"),
        ("frontdesk", "post", "/episodes/{e}/status", STATUS),
        ("auditor", "post", "/episodes/{e}/status", STATUS),
        ("auditor", "patch", "/patients/{p}", {"pronouns": "she/her"}),
        ("auditor", "post", "/patients/{p}/coverages", COVERAGE),
        ("clinician", "post", "/patients/{p}/coverages", COVERAGE),
        ("billing", "post", "/patients", "patient"),
    ],
)
def test_insufficient_role_gets_403(client, clinic, patient, who, method, path, body):
    episode = patient.episodes.get()
    target = url(path.format(p=patient.public_id, e=episode.public_id))
    if body == "episode":
        body = {"program": str(clinic.mh.public_id), "status": "waitlist"}
    elif body == "patient":
        body = new_patient_body(clinic)
    client = login(client, getattr(clinic, who))
    if method == "get":
        response = client.get(target)
    else:
        response = getattr(client, method)(target, body, content_type="application/json")
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM


def test_member_reads_patient_and_it_is_audited(client, clinic, patient):
    response = login(client, clinic.clinician).get(url(f"/patients/{patient.public_id}"))
    assert response.status_code == 200
    assert response.json()["mrn"] == patient.mrn
    assert (
        AuditEvent.objects.filter(action=AuditAction.RECORD_VIEWED, patient=patient, actor=clinic.clinician).count()
        == 1
    )


def _search(client, **body):
    return client.post(url("/patients/search"), body, content_type="application/json")


def test_search_by_name_mrn_and_birth_date(client, clinic, patient):
    make_patient(clinic, legal_first_name="Casey", legal_last_name="Nguyen", date_of_birth=date(1975, 1, 3))
    login(client, clinic.clinician)
    by_name = _search(client, q="rive").json()
    assert [r["mrn"] for r in by_name["results"]] == [patient.mrn]
    by_mrn = _search(client, q=patient.mrn).json()
    assert by_mrn["count"] == 1
    by_dob = _search(client, date_of_birth="1975-01-03").json()
    assert [r["legal_first_name"] for r in by_dob["results"]] == ["Casey"]
    paged = _search(client, q="", limit=1, offset=1).json()
    assert paged["count"] == 2 and [r["legal_first_name"] for r in paged["results"]] == ["Jordan"]
    searched = AuditEvent.objects.filter(action=AuditAction.PATIENTS_SEARCHED, actor=clinic.clinician)
    assert searched.count() == 3


def test_search_input_access_and_terms_in_a_url(client, clinic):
    params = {"q": "rive", "date_of_birth": "1975-01-03"}
    refused = login(client, clinic.frontdesk).get(url("/patients"), params)
    assert refused.status_code == 422  # refused rather than ignored: an old client never takes the list for a result
    assert refused["Content-Type"] == PROBLEM
    assert set(params) == {e["field"] for e in refused.json()["errors"]}
    for body, field in (({"date_of_birth": "soon"}, "date_of_birth"), ({"limit": 0}, "limit")):
        response = _search(client, **body)
        assert response.status_code == 422
        assert field in {e["field"] for e in response.json()["errors"]}
    assert _search(client, q="a").status_code == 200
    assert _search(login(client, clinic.sysadmin), q="a").status_code == 403


def test_create_patient_then_duplicate_is_refused_until_confirmed(client, clinic):
    login(client, clinic.intake)
    first = client.post(url("/patients"), new_patient_body(clinic), content_type="application/json")
    assert first.status_code == 201
    again = client.post(
        url("/patients"), new_patient_body(clinic, legal_first_name="AVERY "), content_type="application/json"
    )
    assert again.status_code == 409
    body = again.json()
    assert body["duplicates"] == [{"id": first.json()["id"], "mrn": first.json()["mrn"]}]
    assert Patient.objects.filter(search_last="stone").count() == 1
    confirmed = client.post(
        url("/patients"), new_patient_body(clinic, confirm_not_duplicate=True), content_type="application/json"
    )
    assert confirmed.status_code == 201
    assert Patient.objects.filter(search_last="stone").count() == 2


def test_duplicates_outside_my_programs_are_counted_not_named(client, clinic):
    make_patient(
        clinic,
        clinic.teen,
        admit=False,
        legal_first_name="Avery",
        legal_last_name="Stone",
        date_of_birth=date(1988, 2, 29),
    )
    response = login(client, clinic.intake).post(
        url("/patients"), new_patient_body(clinic), content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json()["duplicates"] == []
    assert response.json()["hidden_duplicates"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date_of_birth": "not-a-date"}, "date_of_birth"),
        ({"legal_last_name": ""}, "legal_last_name"),
        ({"sex_assigned_at_birth": "martian"}, "sex_assigned_at_birth"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"home_program": "00000000-0000-0000-0000-000000000000"}, "home_program"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(client, clinic, body, field):
    login(client, clinic.intake)
    before = Patient.objects.count(), AuditEvent.objects.count()
    response = client.post(url("/patients"), new_patient_body(clinic, **body), content_type="application/json")
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert field in {e["field"] for e in response.json()["errors"]}
    assert (Patient.objects.count(), AuditEvent.objects.count()) == before


def test_home_program_outside_mine_is_rejected(client, clinic):
    body = new_patient_body(clinic, home_program=str(clinic.teen.public_id))
    response = login(client, clinic.intake).post(url("/patients"), body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "home_program"


def test_patch_updates_and_audits_field_names_only(client, clinic, patient):
    response = login(client, clinic.frontdesk).patch(
        url(f"/patients/{patient.public_id}"),
        {"preferred_name": "Jo", "pronouns": "they/them"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["preferred_name"] == "Jo"
    event = AuditEvent.objects.filter(action=AuditAction.UPDATED, patient=patient).latest("chain_index")
    assert event.changed_fields == ["preferred_name", "pronouns"]


def test_episode_lifecycle_through_the_api(client, clinic):
    patient = make_patient(clinic, admit=False, legal_first_name="Rowan")
    login(client, clinic.intake)
    created = client.post(
        url(f"/patients/{patient.public_id}/episodes"),
        {"program": str(clinic.mh.public_id), "status": "waitlist"},
        content_type="application/json",
    )
    assert created.status_code == 201
    episode_id = created.json()["id"]
    clash = client.post(
        url(f"/patients/{patient.public_id}/episodes"),
        {"program": str(clinic.mh.public_id), "status": "waitlist"},
        content_type="application/json",
    )
    assert clash.status_code == 422
    assert clash.json()["errors"][0]["field"] == "program"
    admitted = client.post(
        url(f"/episodes/{episode_id}/status"),
        {"status": "active", "on_date": "2026-11-02"},
        content_type="application/json",
    )
    assert admitted.status_code == 200
    assert admitted.json()["admitted_on"] == "2026-11-02"
    assert admitted.json()["expected_discharge_on"] == "2027-01-25"  # 12 weeks, from the program
    no_reason = client.post(
        url(f"/episodes/{episode_id}/status"),
        {"status": "discharged", "on_date": "2026-11-20"},
        content_type="application/json",
    )
    assert no_reason.status_code == 422
    assert {e["field"] for e in no_reason.json()["errors"]} == {"discharge_reason"}
    done = client.post(
        url(f"/episodes/{episode_id}/status"),
        {"status": "discharged", "on_date": "2026-11-20", "discharge_reason": "1"},
        content_type="application/json",
    )
    assert done.json()["status"] == EpisodeOfCare.Status.DISCHARGED


def test_bearer_token_acts_as_its_user_and_revocation_cuts_it(client, clinic, patient, capsys):
    call_command("api_token", "create", "clinician", "--name", "warehouse")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get(url(f"/patients/{patient.public_id}"), headers=headers).status_code == 200
    token = ApiToken.objects.get()
    assert token.token_hash != raw and raw not in token.hint + token.name
    call_command("api_token", "revoke", str(token.public_id))
    assert client.get(url(f"/patients/{patient.public_id}"), headers=headers).status_code == 401
    assert client.get(url("/me"), headers={"Authorization": "Bearer oiop_wrong"}).status_code == 401


def test_session_without_required_mfa_is_refused(client, clinic, settings):
    settings.MFA_REQUIRED_ROLES = ["clinician"]
    response = login(client, clinic.clinician).get(url("/me"))
    assert response.status_code == 401


def test_openapi_schema_is_served(client, db):
    schema = client.get(url("/openapi.json")).json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/patients" in schema["paths"]


def test_programs_lists_only_mine(client, clinic):
    names = {p["name"] for p in login(client, clinic.clinician).get(url("/programs")).json()}
    assert names == {clinic.mh.name}
