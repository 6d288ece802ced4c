"""The drug-testing API: the access matrix (outsider organization and program 404, insufficient role 403), the
whole flow from order to review with problem bodies naming the field, lab imports (201, 409 for a duplicate, 422
naming the segment), the schedule's draws and the report, and Part 2: an outside system reads results only under a
consent covering all SUD records."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.labs import actions
from openiop.labs.jobs import draw_for
from openiop.labs.models import TestOrder
from openiop.labs.tests.support import collected, resulted, su_clinician, su_episode, take
from openiop.patients.models import Patient
from openiop.testing.consents import part2_tpo
from openiop.worklist.models import WorkTask

API = "/api/v1"
DATA = Path(__file__).parent / "data"


@pytest.fixture
def tested(clinic) -> TestOrder:
    return resulted(clinic)


def _post(client, path, body):
    return client.post(f"{API}{path}", body, content_type="application/json")


@pytest.mark.parametrize(("who", "status"), [("counselor", 200), ("director", 200), ("auditor", 200),
                                             ("frontdesk", 403), ("billing", 403), ("clinician", 404),
                                             ("outsider", 404), ("stranger", 404)])  # fmt: skip
def test_reading_a_patients_tests_access_matrix(client, clinic, tested, who, status):
    response = login(client, getattr(clinic, who)).get(f"{API}/patients/{tested.patient.public_id}/drug-tests")
    assert response.status_code == status
    if status == 200:
        [body] = response.json()
        assert body["results"][0]["interpretation"] == "expected" and body["collection"]["specimen_id"] == "S-1001"
        row = AuditEvent.objects.filter(patient=tested.patient, object_type="drug_tests").latest("chain_index")
        assert row.action == AuditAction.RECORD_VIEWED


@pytest.mark.parametrize(("who", "status"), [("auditor", 403), ("frontdesk", 403), ("outsider", 404),
                                             ("stranger", 404)])  # fmt: skip
def test_writes_need_the_clinical_edit_role_and_the_program(client, clinic, tested, who, status):
    login(client, getattr(clinic, who))
    day = timezone.localdate().isoformat()
    assert _post(client, f"/episodes/{tested.episode.public_id}/drug-tests",
                 {"kind": "cup", "reason": "clinical", "due_on": day}).status_code == status  # fmt: skip
    assert _post(client, f"/drug-tests/{tested.public_id}/review", {"note": "Fine."}).status_code == status
    assert _post(client, "/lab-imports", {"format": "csv", "content": "x"}).status_code == (
        403 if status == 403 else 422  # the import names no patient until it is read: the outsider's file matches none
    )


def test_the_flow_from_order_to_review_with_problems_naming_the_field(client, clinic):
    episode = su_episode(clinic, "Riley")
    take(episode, "methadone-otp")
    login(client, su_clinician(clinic))
    today = timezone.localdate().isoformat()
    bad = _post(client, f"/episodes/{episode.public_id}/drug-tests", {"kind": "hair", "reason": "clinical",
                                                                     "due_on": today})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"
    made = _post(client, f"/episodes/{episode.public_id}/drug-tests",
                 {"kind": "cup", "reason": "clinical", "due_on": timezone.localdate().isoformat()})  # fmt: skip
    assert made.status_code == 201
    order = made.json()["id"]
    when = (timezone.now() - timedelta(minutes=3)).isoformat()
    missing = _post(client, f"/drug-tests/{order}/collection", {"collected_at": when})
    assert missing.status_code == 422 and [e["field"] for e in missing.json()["errors"]] == ["specimen_id"]
    specimen = {"collected_at": when, "specimen_id": "S-77", "observed": True, "ph": "pass"}
    assert _post(client, f"/drug-tests/{order}/collection", specimen).status_code == 200
    wrong = _post(client, f"/drug-tests/{order}/results", {"results": [{"analyte": "MTD", "outcome": "maybe"}]})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "results[0].outcome"
    typed = _post(client, f"/drug-tests/{order}/results", {"results": [{"analyte": "MTD", "outcome": 3}]})
    assert typed.status_code == 422 and "results" in typed.json()["detail"]
    entered = [{"analyte": "MTD", "outcome": "negative"}, {"analyte": "FTY", "outcome": "positive", "value": "3.1"}]
    body = _post(client, f"/drug-tests/{order}/results", {"results": entered}).json()
    assert {r["analyte"]: r["interpretation"] for r in body["results"]} == {"FTY": "unexpected", "MTD": "unexpected"}
    assert WorkTask.objects.get(patient=episode.patient, status="open").kind == "drug_test_review"
    fty = next(r["id"] for r in body["results"] if r["analyte"] == "FTY")
    confirmed = _post(client, f"/drug-tests/{order}/results/{fty}/confirmation", {"sent_out": True}).json()
    assert next(r for r in confirmed["results"] if r["id"] == fty)["confirmation"] == "sent_out"
    assert _post(client, f"/drug-tests/{order}/results/{order}/confirmation", {}).json()["errors"][0]["field"] == (
        "result_id"
    )
    assert _post(client, f"/drug-tests/{order}/review", {"note": ""}).json()["errors"][0]["field"] == "note"
    reviewed = _post(client, f"/drug-tests/{order}/review", {"note": "Talked it through; plan updated."})
    assert reviewed.status_code == 200 and reviewed.json()["reviewed_at"]
    assert not WorkTask.objects.filter(patient=episode.patient, status="open").exists()


def test_lab_imports_through_the_api(client, clinic):
    episode = su_episode(clinic)
    Patient.objects.filter(pk=episode.patient_id).update(mrn="RR-900001")
    collected(episode, "SPC-26-0001", kind="lab")
    login(client, su_clinician(clinic))
    content = (DATA / "oru_r01_results.hl7").read_text()
    malformed = _post(
        client, "/lab-imports", {"format": "hl7", "content": (DATA / "oru_r01_malformed.hl7").read_text()}
    )
    assert malformed.status_code == 422 and {e["field"] for e in malformed.json()["errors"]} == {"OBX[2]-3", "OBX[3]-5"}
    assert _post(client, "/lab-imports", {"format": "xml", "content": content}).json()["errors"][0]["field"] == "format"
    made = _post(client, "/lab-imports", {"format": "hl7", "content": content})
    assert made.status_code == 201 and made.json()["result_count"] == 4
    again = _post(client, "/lab-imports", {"format": "hl7", "content": content})
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "MSH-10"


def test_schedule_draws_and_the_report(client, clinic, tested):
    schedule = actions.do_set_schedule(clinic.su, acting_user=clinic.director, mode="random", percent=100,
                                       weekdays=[], kind="cup", is_active=True)  # fmt: skip
    draw_for(schedule, timezone.localdate())
    picks = f"{API}/programs/{clinic.su.public_id}/drug-testing/picks"
    [pick] = login(client, clinic.director).get(picks).json()
    assert pick["reproduces"] and pick["seed"] is not None and pick["population"] == [str(tested.episode.public_id)]
    assert AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED, object_type="drug_test_picks").exists()
    today = timezone.localdate()
    report = f"{API}/programs/{clinic.su.public_id}/drug-testing/report"
    window = {"start": (today - timedelta(days=6)).isoformat(), "end": (today + timedelta(days=7)).isoformat()}
    body = client.get(report, window).json()
    assert sum(w["ordered"] for w in body["weeks"]) == 2 and sum(w["collected"] for w in body["weeks"]) == 1
    bup = next(a for a in body["analytes"] if a["code"] == "BUP")
    assert (bup["results"], bup["positive"], bup["unexpected"], bup["positive_rate"]) == (1, 1, 0, 100.0)
    backwards = client.get(report, {"start": window["end"], "end": window["start"]})
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "end"
    assert login(client, clinic.frontdesk).get(picks).status_code == 403
    assert login(client, clinic.clinician).get(report, window).status_code == 404  # not a member of the program
    assert login(client, clinic.stranger).get(picks).status_code == 404


def _token(capsys, *args: str) -> dict[str, str]:
    call_command("api_token", "create", "counselor", "--name", "hope-ehr", *args)
    return {"Authorization": f"Bearer {capsys.readouterr().out.strip().splitlines()[-1]}"}


def test_an_outside_system_reads_results_only_under_a_consent_for_all_sud_records(client, clinic, tested, capsys):
    outside = _token(capsys, "--recipient", "provider:Hope Clinic", "--recipient-name", "Hope Clinic")
    path = f"{API}/patients/{tested.patient.public_id}/drug-tests"
    refused = client.get(path, headers=outside)
    assert refused.status_code == 403 and "BUP" not in refused.content.decode()
    # A release of medications only does not cover drug-test results.
    _release(tested.patient, clinic.director, "medications")
    assert client.get(path, headers=outside).status_code == 403
    # The schedule's draws list patients: never for an outside system.
    assert client.get(f"{API}/programs/{clinic.su.public_id}/drug-testing/picks", headers=outside).status_code == 403
    _release(tested.patient, clinic.director, "all_records")
    answer = client.get(path, headers=outside)
    assert answer.status_code == 200, answer.json()
    assert answer.json()[0]["results"][0]["analyte"] == "BUP"


def _release(patient, user, data_class):
    """A Part 2 consent naming Hope Clinic, for treatment, covering ``data_class``."""
    return part2_tpo(patient, user, data_classes=[data_class], recipient_kind="outside_provider",
                     recipient_organization="Hope Clinic", recipient_name="", purposes=["treatment"],
                     expiry_kind="event", expiry_event="Discharge from the program")  # fmt: skip


def test_a_programs_schedule_and_panel_are_set_by_its_managers(client, clinic):
    schedule = f"{API}/programs/{clinic.su.public_id}/drug-testing/schedule"
    panel = f"{API}/programs/{clinic.su.public_id}/drug-testing/panel"
    login(client, clinic.director)
    set_ = client.put(schedule, {"mode": "random", "percent": 20}, content_type="application/json")
    assert set_.status_code == 200 and set_.json()["percent"] == 20
    bad = client.put(schedule, {"mode": "fixed", "weekdays": [8]}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "weekdays"
    assert client.put(panel, {"analytes": ["BUP", "FTY"]}, content_type="application/json").json()["analytes"] == [
        "BUP", "FTY"]  # fmt: skip
    assert client.put(panel, {"analytes": ["LSD"]}, content_type="application/json").json()["errors"][0]["field"] == (
        "analytes"
    )
    assert login(client, su_clinician(clinic)).put(schedule, {"mode": "random"}, content_type="application/json"
                                                   ).status_code == 403  # fmt: skip
    assert login(client, clinic.stranger).put(panel, {"analytes": ["BUP"]}, content_type="application/json"
                                              ).status_code == 404  # fmt: skip
