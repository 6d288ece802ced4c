"""Medications API: the list, allergies, reconciliations and the FHIR Bundle, with the chart's access rules (403 for
a role without the capability, 404 outside the user's programs), problem bodies naming the field, audited reads,
and the Part 2 consent gate on an outside system's token."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from fhir.resources.R4B.bundle import Bundle

from openiop.conftest import login
from openiop.consents.models import Disclosure
from openiop.core.models import AuditAction, AuditEvent
from openiop.medications.models import Medication, Reconciliation
from openiop.testing.medications import add_medication, part2_to_provider
from openiop.testing.scheduling import admit

API = "/api/v1"


@pytest.fixture
def su(clinic):
    episode = admit(clinic, "Casey", program=clinic.su)
    add_medication(episode, clinic.director, "methadone-otp", dose="80 mg", frequency="daily", source="otp")
    return episode


def _post(client, path, body):
    return client.post(f"{API}{path}", json.dumps(body), content_type="application/json")


def _patch(client, path, body):
    return client.patch(f"{API}{path}", json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(("who", "status"), [("director", 200), ("auditor", 200), ("billing", 403),
                                             ("frontdesk", 403), ("outsider", 404), ("stranger", 404)])  # fmt: skip
def test_reads_follow_chart_access(client, clinic, su, who, status):
    login(client, getattr(clinic, who))
    pid = su.patient.public_id
    for path in ("medications", "allergies", "medications/reconciliations", "medications/fhir"):
        response = client.get(f"{API}/patients/{pid}/{path}")
        assert response.status_code == status, path
        if status >= 400:
            assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(("who", "status"), [("auditor", 403), ("outsider", 404), ("stranger", 404)])
def test_writes_need_edit_clinical_in_the_patients_program(client, clinic, su, who, status):
    login(client, getattr(clinic, who))
    pid, mid = su.patient.public_id, Medication.objects.get().public_id
    assert _post(client, f"/patients/{pid}/medications", {"name": "X"}).status_code == status
    assert _patch(client, f"/medications/{mid}", {"dose": "1"}).status_code == status
    assert _post(client, f"/medications/{mid}/stop", {"stop_date": "2026-01-01", "stop_reason": "x"}).status_code == (
        status
    )
    assert _post(client, f"/patients/{pid}/allergies", {"substance": "X"}).status_code == status
    body = {"episode": str(su.public_id), "occasion": "intake"}
    assert _post(client, f"/patients/{pid}/medications/reconciliations", body).status_code == status
    assert Medication.objects.count() == 1 and not Reconciliation.objects.exists()


def test_add_patch_stop_and_list_a_medication(client, clinic, su):
    login(client, clinic.director)
    pid = su.patient.public_id
    created = _post(client, f"/patients/{pid}/medications", {"formulary_key": "buprenorphine-er-injection",
                                                              "dose": "300 mg", "frequency": "monthly"})  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    assert (body["rxcuis"], body["is_moud"], body["episode"]) == (["1819"], True, str(su.public_id))
    patched = _patch(client, f"/medications/{body['id']}", {"dose": "100 mg"})
    assert patched.status_code == 200 and patched.json()["dose"] == "100 mg"
    methadone = Medication.objects.get(formulary_key="methadone-otp")
    stopped = _post(client, f"/medications/{methadone.public_id}/stop",
                    {"stop_date": su.admitted_on.isoformat(), "stop_reason": "Switched to injection"})  # fmt: skip
    assert stopped.status_code == 200 and stopped.json()["stop_date"] == su.admitted_on.isoformat()
    listed = client.get(f"{API}/patients/{pid}/medications").json()
    assert [m["name"] for m in listed] == ["Buprenorphine extended-release injection",
                                           "Methadone (dispensed by an opioid treatment program)"]  # fmt: skip
    row = AuditEvent.objects.filter(patient=su.patient, action=AuditAction.RECORD_VIEWED).latest("chain_index")
    assert row.object_type == "medication"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"formulary_key": "nope"}, "formulary_key"),
        ({"name": "A", "source": "guess"}, "source"),
        ({"name": "A", "start_date": "soon"}, "start_date"),
        ({"name": "A", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(client, clinic, su, body, field):
    login(client, clinic.director)
    response = _post(client, f"/patients/{su.patient.public_id}/medications", body)
    assert response.status_code == 422 and response["Content-Type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]


def test_allergies_and_no_known_allergies(client, clinic, su):
    login(client, clinic.director)
    pid = su.patient.public_id
    assert client.get(f"{API}/patients/{pid}/allergies").json() == {
        "no_known_allergies": False, "stated_on": None, "allergies": []
    }  # fmt: skip
    assert _post(client, f"/patients/{pid}/allergies/none", {}).json()["no_known_allergies"] is True
    added = _post(client, f"/patients/{pid}/allergies", {"substance": "Sulfa", "reaction": "Rash", "severity": "mild"})
    assert added.status_code == 201
    assert added.json()["no_known_allergies"] is False and added.json()["allergies"][0]["substance"] == "Sulfa"
    refused = _post(client, f"/patients/{pid}/allergies/none", {})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "no_known_allergies"
    bad = _post(client, f"/patients/{pid}/allergies", {"substance": "X", "severity": "awful"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "severity"


def test_a_reconciliation_posted_is_signed(client, clinic, su):
    login(client, clinic.director)
    path = f"/patients/{su.patient.public_id}/medications/reconciliations"
    signed = _post(client, path, {"episode": str(su.public_id), "occasion": "intake", "note": "From the OTP."})
    assert signed.status_code == 201
    body = signed.json()
    assert body["signed_by"] == clinic.director.display_name and body["changes"][0]["change"] == "started"
    assert [r["id"] for r in client.get(f"{API}{path}").json()] == [body["id"]]
    other = admit(clinic, "Robin", program=clinic.su)
    wrong = _post(client, path, {"episode": str(other.public_id), "occasion": "intake"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "episode"
    login(client, clinic.intake)  # may write the list, may not sign it
    refused = _post(client, path, {"episode": str(su.public_id), "occasion": "discharge"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "signed_by"


def test_the_fhir_bundle_validates_and_is_audited_as_an_export(client, clinic, su):
    add_medication(su, clinic.director, "buprenorphine-naloxone-film", dose="1 film", source="external_prescriber",
                   prescriber="Dr. Ana Ortiz")  # fmt: skip
    add_medication(su, clinic.director, name="Melatonin")
    login(client, clinic.director)
    body = client.get(f"{API}/patients/{su.patient.public_id}/medications/fhir").json()
    bundle = Bundle.model_validate(body)
    assert bundle.type == "collection" and len(bundle.entry or []) == 3
    row = AuditEvent.objects.filter(patient=su.patient).latest("chain_index")
    assert (row.action, row.changed_fields) == (AuditAction.EXPORTED, ["medication_statement"])


def _token(capsys, *args: str) -> dict[str, str]:
    call_command("api_token", "create", "director", "--name", "harbor-otp", *args)
    return {"Authorization": f"Bearer {capsys.readouterr().out.strip().splitlines()[-1]}"}


def test_an_outside_systems_read_needs_a_part2_consent_and_is_accounted(client, clinic, su, capsys):
    outside = _token(capsys, "--recipient", "provider:Harbor OTP", "--recipient-name", "Harbor OTP")
    pid = su.patient.public_id
    for path in ("medications", "medications/fhir"):
        refused = client.get(f"{API}/patients/{pid}/{path}", headers=outside)
        assert refused.status_code == 403 and "Part 2" in refused.json()["detail"], path
    assert not Disclosure.objects.exists()
    consent = part2_to_provider(su.patient, clinic.director, "Harbor OTP", clinic.su)
    assert client.get(f"{API}/patients/{pid}/medications/fhir", headers=outside).status_code == 200
    entry = Disclosure.objects.get()
    assert (entry.channel, entry.consent, entry.data_classes) == ("fhir", consent, ["medications"])
