"""Discharge API: access for every endpoint, problem bodies naming the field, the whole flow through the API."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from openiop.conftest import login
from openiop.discharge.models import FollowUp
from openiop.testing.discharge import FILLED_AFTERCARE, drafted, signed, today
from openiop.testing.scheduling import admit

PROBLEM = "application/problem+json"


def api(path: str) -> str:
    return f"/api/v1{path}"


@dataclass
class Ctx:
    clinic: Any
    episode: Any
    draft: Any
    done: Any


@pytest.fixture
def ctx(clinic) -> Ctx:
    return Ctx(
        clinic,
        admit(clinic, "Avery", admitted_days_ago=30),
        drafted(admit(clinic, "Blake", admitted_days_ago=30), clinic.clinician),
        signed(admit(clinic, "Casey", admitted_days_ago=30), clinic.clinician),
    )


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: Callable[[Ctx], str]
    body: Callable[[Ctx], dict[str, Any] | None] = field(default=lambda c: None)
    denied: tuple[str, ...] = ("frontdesk", "billing", "auditor")

    def __str__(self) -> str:
        return self.name


CASES = [
    Case("read", "get", lambda c: api(f"/episodes/{c.done.episode.public_id}/discharge"),
         denied=("frontdesk", "billing")),
    Case("fhir", "get", lambda c: api(f"/discharge/{c.done.public_id}/fhir"), denied=("frontdesk", "billing")),
    Case("start", "post", lambda c: api(f"/episodes/{c.episode.public_id}/discharge"),
         lambda c: {"reason": "1", "discharge_on": today(c.episode).isoformat()}),
    Case("summary", "patch", lambda c: api(f"/discharge/{c.draft.public_id}/summary"),
         lambda c: {"course_of_treatment": "Updated."}),
    Case("aftercare", "patch", lambda c: api(f"/discharge/{c.draft.public_id}/aftercare"),
         lambda c: {"medications": ["Bupropion 150 mg"]}),
    Case("sign", "post", lambda c: api(f"/discharge/{c.draft.public_id}/sign")),
    Case("outcome", "post",
         lambda c: api(f"/follow-ups/{FollowUp.objects.filter(episode=c.done.episode).first().public_id}/outcome"),  # type: ignore[union-attr]
         lambda c: {"outcome": "unable_to_reach"}),
]  # fmt: skip


def _call(client, case: Case, ctx: Ctx):
    body = case.body(ctx)
    if case.method == "get":
        return client.get(case.url(ctx))
    return getattr(client, case.method)(case.url(ctx), json.dumps(body or {}), content_type="application/json")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_members_get_in(client, ctx, case):
    response = _call(login(client, ctx.clinic.clinician), case, ctx)
    assert response.status_code in (200, 201), response.content[:400]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_roles_without_the_capability_get_403(client, ctx, case):
    for role in case.denied:
        client.logout()
        response = _call(login(client, getattr(ctx.clinic, role)), case, ctx)
        assert response.status_code == 403, role
        assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("who", ["outsider", "stranger"])
def test_outsiders_and_strangers_get_404(client, ctx, case, who):
    assert _call(login(client, getattr(ctx.clinic, who)), case, ctx).status_code == 404


def test_the_follow_ups_list_is_scoped_and_needs_clinical_access(client, ctx):
    late = signed(admit(ctx.clinic, "Devon", admitted_days_ago=60), ctx.clinic.clinician, days_ago=10)
    body = login(client, ctx.clinic.clinician).get(api("/discharge/follow-ups")).json()
    assert [item["episode"] for item in body] == [str(late.episode.public_id)]
    for who, status in (("frontdesk", 403), ("outsider", 200)):
        client.logout()
        response = login(client, getattr(ctx.clinic, who)).get(api("/discharge/follow-ups"))
        assert response.status_code == status
        if status == 200:
            assert response.json() == []


def test_the_whole_discharge_through_the_api(client, ctx):
    client = login(client, ctx.clinic.clinician)
    response = client.post(
        api(f"/episodes/{ctx.episode.public_id}/discharge"),
        json.dumps({"reason": "4", "discharge_on": today(ctx.episode).isoformat()}),
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body["signing_problems"]) == {"course_of_treatment", "step_down_level"}
    summary_id = body["id"]
    client.patch(api(f"/discharge/{summary_id}/summary"), json.dumps({"course_of_treatment": "Transferred."}),
                 content_type="application/json")  # fmt: skip
    aftercare = {**FILLED_AFTERCARE, "appointment_at": "2026-12-20T15:30:00-05:00"}
    response = client.patch(api(f"/discharge/{summary_id}/aftercare"), json.dumps(aftercare),
                            content_type="application/json")  # fmt: skip
    assert response.status_code == 200 and response.json()["signing_problems"] == {}
    body = client.post(api(f"/discharge/{summary_id}/sign")).json()
    assert body["status"] == "signed" and [f["days_after"] for f in body["follow_ups"]] == [7, 30, 90]
    assert body["aftercare"]["support_groups"] == [{"name": "SMART Recovery", "schedule": "Tuesdays 7 pm"}]
    ctx.episode.refresh_from_db()
    assert ctx.episode.status == "discharged" and ctx.episode.discharge_reason == "4"
    first = body["follow_ups"][0]["id"]
    outcome = {"outcome": "reached_aftercare", "attending_aftercare": True, "readmitted": False}
    response = client.post(api(f"/follow-ups/{first}/outcome"), json.dumps(outcome), content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "done"


@pytest.mark.parametrize(
    ("path", "body", "field_name"),
    [
        ("start", {"reason": "8", "discharge_on": "2026-11-30"}, "reason"),
        ("summary", {"discharge_on": "2000-01-01"}, "discharge_on"),
        ("aftercare", {"step_down_level": "hospital"}, "step_down_level"),
        ("aftercare", {"safety_plan": {"nonsense": ["x"]}}, "safety_plan"),
        ("outcome", {"outcome": "reached_well"}, "attending_aftercare"),
        ("sign_problems", {}, "course_of_treatment"),
    ],
)
def test_bad_input_answers_a_problem_naming_the_field(client, ctx, path, body, field_name):
    client = login(client, ctx.clinic.clinician)
    if path == "sign_problems":
        fresh = admit(ctx.clinic, "Emery", admitted_days_ago=30)
        made = client.post(api(f"/episodes/{fresh.public_id}/discharge"),
                           json.dumps({"reason": "1", "discharge_on": today(fresh).isoformat()}),
                           content_type="application/json").json()  # fmt: skip
        response = client.post(api(f"/discharge/{made['id']}/sign"))
    else:
        url = {
            "start": api(f"/episodes/{ctx.episode.public_id}/discharge"),
            "summary": api(f"/discharge/{ctx.draft.public_id}/summary"),
            "aftercare": api(f"/discharge/{ctx.draft.public_id}/aftercare"),
            "outcome": api(
                f"/follow-ups/{FollowUp.objects.filter(episode=ctx.done.episode).first().public_id}/outcome"  # type: ignore[union-attr]
            ),
        }[path]
        method = client.patch if path in ("summary", "aftercare") else client.post
        response = method(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert field_name in [e["field"] for e in response.json()["errors"]]


def test_the_fhir_document_reference_is_exported_and_audited(client, ctx):
    from fhir.resources.R4B.documentreference import DocumentReference

    from openiop.core.models import AuditAction, AuditEvent

    response = login(client, ctx.clinic.clinician).get(api(f"/discharge/{ctx.done.public_id}/fhir"))
    assert response.status_code == 200
    body = response.json()
    parsed = DocumentReference.model_validate(body)
    assert parsed.status == "current" and parsed.docStatus == "final"
    assert body["type"]["coding"][0]["code"] == "18842-5"
    assert body["subject"] == {"reference": f"Patient/{ctx.done.patient.public_id}"}
    assert body["content"][0]["attachment"]["url"] == (f"http://testserver/discharge/{ctx.done.public_id}/summary.pdf")
    pdf = client.get(body["content"][0]["attachment"]["url"].removeprefix("http://testserver"))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    exported = AuditEvent.objects.filter(action=AuditAction.EXPORTED, patient=ctx.done.patient).order_by("pk")
    assert [e.changed_fields for e in exported] == [["document_reference"], ["pdf"]]
