"""The work queue API: access, filters, closing with a problem body naming the field, reassigning."""

from __future__ import annotations

import pytest

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.worklist.models import WorkTask
from openiop.worklist.tests.conftest import UNEXCUSED

PROBLEM = "application/problem+json"
TASKS = "/api/v1/worklist/tasks"


@pytest.fixture
def task(clinic, robin) -> WorkTask:
    robin.mark(0, UNEXCUSED)
    robin.mark(1, UNEXCUSED)
    return WorkTask.objects.get(episode=robin.episode)


def _close(client, task, body):
    return client.post(f"{TASKS}/{task.public_id}/close", body, content_type="application/json")


@pytest.mark.parametrize(
    ("who", "expected"), [("clinician", 200), ("auditor", 200), ("frontdesk", 403), ("billing", 403)]
)
def test_listing_needs_clinical_read_access(client, clinic, task, who, expected):
    login(client, getattr(clinic, who))
    assert client.get(TASKS).status_code == expected


def test_the_list_shows_my_tasks_with_overdue_and_audits_the_listing(client, clinic, task):
    login(client, clinic.clinician)
    body = client.get(TASKS).json()
    assert body["count"] == 1
    [row] = body["results"]
    assert row["id"] == str(task.public_id)
    assert row["patient"] == str(task.patient.public_id)
    assert row["kind"] == "outreach" and row["overdue"] is False
    assert AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED, object_type="worktask").count() == 1
    assert client.get(TASKS, {"kind": "discharge_review"}).json()["count"] == 0


def test_outsiders_and_strangers_see_no_task_and_cannot_close_it(client, clinic, task):
    for who in ("outsider", "stranger"):
        login(client, getattr(clinic, who))
        assert client.get(TASKS, {"scope": "programs"}).json()["count"] == 0
        response = _close(client, task, {"outcome": "reached"})
        assert response.status_code == 404 and response["Content-Type"] == PROBLEM


def test_closing_through_the_api(client, clinic, task):
    login(client, clinic.clinician)
    response = _close(client, task, {"outcome": "plan_changed", "note": "Moved to evening track"})
    assert response.status_code == 200
    assert response.json()["status"] == "done" and response.json()["outcome"] == "plan_changed"


@pytest.mark.parametrize("outcome", ["not_needed", "maybe", ""])
def test_a_bad_outcome_is_a_problem_naming_the_field(client, clinic, task, outcome):
    login(client, clinic.clinician)
    response = _close(client, task, {"outcome": outcome})
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == ["outcome"]


def test_a_missing_outcome_and_a_bad_filter_name_their_fields(client, clinic, task):
    login(client, clinic.clinician)
    response = _close(client, task, {"note": "x"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["outcome"]
    response = client.get(TASKS, {"status": "closed"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "status"


def test_an_auditor_cannot_close(client, clinic, task):
    login(client, clinic.auditor)
    assert _close(client, task, {"outcome": "reached"}).status_code == 403


def test_reassigning_through_the_api(client, clinic, task):
    login(client, clinic.director)
    url = f"{TASKS}/{task.public_id}/reassign"
    response = client.post(url, {"assigned_to": str(clinic.intern.public_id)}, content_type="application/json")
    assert response.status_code == 200 and response.json()["assigned_to"] == str(clinic.intern.public_id)
    response = client.post(url, {"assigned_to": str(clinic.outsider.public_id)}, content_type="application/json")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "assigned_to"
