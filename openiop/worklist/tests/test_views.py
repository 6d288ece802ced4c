"""The work queue pages: access matrix, filters, overdue, closing and reassigning with HTMX, audit, query counts,
the nav badge and the home panel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.worklist.models import WorkTask
from openiop.worklist.tests.conftest import UNEXCUSED, person_with_sessions

HTMX = {"HTTP_HX_REQUEST": "true"}
LIST = "/worklist/"


@pytest.fixture
def task(clinic, robin) -> WorkTask:
    robin.mark(0, UNEXCUSED)
    robin.mark(1, UNEXCUSED)
    return WorkTask.objects.get(episode=robin.episode)


def _close_url(task: WorkTask) -> str:
    return reverse("worklist:close", args=[task.public_id])


def _reassign_url(task: WorkTask) -> str:
    return reverse("worklist:reassign", args=[task.public_id])


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("clinician", 200),
        ("intern", 200),
        ("director", 200),
        ("auditor", 200),
        ("intake", 200),
        ("frontdesk", 403),
        ("billing", 403),
        ("sysadmin", 403),
        ("outsider", 200),
        ("stranger", 200),
    ],
)
def test_the_work_queue_needs_clinical_read_access(client, clinic, task, who, expected):
    login(client, getattr(clinic, who))
    response = client.get(LIST, {"scope": "programs"})
    assert response.status_code == expected
    if who in ("outsider", "stranger"):
        assert task.patient.display_name not in response.content.decode()


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("clinician", 200),
        ("director", 200),
        ("intern", 200),
        ("auditor", 403),
        ("frontdesk", 403),
        ("billing", 403),
        ("outsider", 404),
        ("stranger", 404),
    ],
)
def test_the_close_form_needs_clinical_edit_access_in_the_program(client, clinic, task, who, expected):
    login(client, getattr(clinic, who))
    assert client.get(_close_url(task), **HTMX).status_code == expected
    response = client.post(_close_url(task), {"outcome": "reached"}, **HTMX)
    assert response.status_code == expected
    task.refresh_from_db()
    assert (task.status == WorkTask.Status.DONE) == (expected == 200)


@pytest.mark.parametrize(("who", "expected"), [("auditor", 403), ("outsider", 404), ("stranger", 404)])
def test_reassigning_needs_clinical_edit_access_in_the_program(client, clinic, task, who, expected):
    login(client, getattr(clinic, who))
    response = client.post(_reassign_url(task), {"assigned_to": clinic.intern.pk}, **HTMX)
    assert response.status_code == expected
    task.refresh_from_db()
    assert task.assigned_to == clinic.clinician


def test_my_tasks_list_the_patient_and_reason_and_audit_the_listing(client, clinic, task):
    login(client, clinic.clinician)
    html = client.get(LIST).content.decode()
    assert task.patient.display_name in html
    assert task.reason in html
    listed = AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED, actor=clinic.clinician)
    assert listed.filter(object_type="worktask").count() == 1
    assert listed.get().patient_id is None


def test_an_empty_queue_writes_no_listing_audit(client, clinic):
    login(client, clinic.clinician)
    assert "No tasks match" in client.get(LIST).content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED).exists()


def test_directors_see_their_programs_tasks_and_clinicians_only_their_own(client, clinic, task):
    login(client, clinic.director)
    assert task.patient.display_name not in client.get(LIST).content.decode()
    assert task.patient.display_name in client.get(LIST, {"scope": "programs"}).content.decode()
    login(client, clinic.intern)
    assert task.patient.display_name not in client.get(LIST, {"scope": "programs"}).content.decode()


def test_filters_by_kind_status_and_overdue(client, clinic, task):
    WorkTask.objects.filter(pk=task.pk).update(due_on=clinic.mh.now().date() - timedelta(days=2))
    login(client, clinic.clinician)
    name = task.patient.display_name
    html = client.get(LIST, {"overdue": "on"}).content.decode()
    assert name in html and "Overdue" in html and "table-danger" in html
    assert name not in client.get(LIST, {"kind": "discharge_review"}).content.decode()
    assert name in client.get(LIST, {"kind": "outreach"}).content.decode()
    assert name not in client.get(LIST, {"status": "done"}).content.decode()
    WorkTask.objects.filter(pk=task.pk).update(due_on=clinic.mh.now().date())
    assert name not in client.get(LIST, {"overdue": "on"}).content.decode()


def test_closing_with_htmx_returns_the_closed_row_and_audits_field_names(client, clinic, task):
    login(client, clinic.clinician)
    panel = client.get(_close_url(task), **HTMX).content.decode()
    assert "Left a message" in panel and "Not needed" not in panel
    response = client.post(_close_url(task), {"outcome": "left_message", "note": "Voicemail, try Thu"}, **HTMX)
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="task-{task.public_id}"')
    assert "Left a message" in html and "Voicemail, try Thu" in html
    task.refresh_from_db()
    assert (task.status, task.outcome, task.outcome_note, task.closed_by) == (
        WorkTask.Status.DONE,
        WorkTask.Outcome.LEFT_MESSAGE,
        "Voicemail, try Thu",
        clinic.clinician,
    )
    event = AuditEvent.objects.filter(action=AuditAction.STATUS_CHANGED, object_id=str(task.public_id)).get()
    assert event.changed_fields == ["outcome", "outcome_note", "status"]
    assert "Voicemail" not in str(event.changed_fields)


def test_closing_without_an_outcome_keeps_the_note_and_names_the_field(client, clinic, task):
    login(client, clinic.clinician)
    html = client.post(_close_url(task), {"note": "Tried twice"}, **HTMX).content.decode()
    assert "This field is required" in html
    assert "Tried twice" in html
    task.refresh_from_db()
    assert task.status == WorkTask.Status.OPEN


def test_a_closed_task_cannot_be_closed_again(client, clinic, task):
    login(client, clinic.clinician)
    client.post(_close_url(task), {"outcome": "reached"}, **HTMX)
    html = client.post(_close_url(task), {"outcome": "no_answer"}, **HTMX).content.decode()
    assert "already closed" in html
    task.refresh_from_db()
    assert task.outcome == WorkTask.Outcome.REACHED


def test_closing_without_javascript_redirects_to_the_queue(client, clinic, task):
    login(client, clinic.clinician)
    response = client.post(_close_url(task), {"outcome": "no_answer"})
    assert response.status_code == 302 and response.url == LIST


def test_reassigning_to_a_program_clinician_and_refusing_anyone_else(client, clinic, task):
    login(client, clinic.clinician)
    response = client.post(_reassign_url(task), {"assigned_to": clinic.outsider.pk}, **HTMX)
    assert "valid choice" in response.content.decode()
    client.post(_reassign_url(task), {"assigned_to": clinic.intern.pk}, **HTMX)
    task.refresh_from_db()
    assert task.assigned_to == clinic.intern
    event = AuditEvent.objects.filter(action=AuditAction.UPDATED, object_id=str(task.public_id)).get()
    assert event.changed_fields == ["assigned_to"]


def test_the_nav_badge_counts_my_open_tasks_in_one_query(client, clinic, task):
    from openiop.worklist.queries import open_task_count

    login(client, clinic.clinician)
    html = client.get("/patients/").content.decode()
    assert 'data-count="worklist">1<' in html
    with CaptureQueriesContext(connection) as ctx:
        assert open_task_count(clinic.clinician) == 1
    assert len(ctx.captured_queries) == 1
    login(client, clinic.frontdesk)
    assert 'data-count="worklist"' not in client.get("/patients/").content.decode()


def test_the_home_page_loads_my_task_panel(client, clinic, task):
    login(client, clinic.clinician)
    assert reverse("worklist:home_panel") in client.get("/").content.decode()
    html = client.get(reverse("worklist:home_panel"), **HTMX).content.decode()
    assert task.patient.display_name in html
    login(client, clinic.billing)
    assert reverse("worklist:home_panel") not in client.get("/").content.decode()
    assert client.get(reverse("worklist:home_panel"), **HTMX).status_code == 403


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(LIST, {"scope": "programs"})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_queue_query_count_does_not_grow_with_tasks(client, clinic, task):
    login(client, clinic.director)
    client.get(LIST)
    one = _list_queries(client)
    for n in range(5):
        person = person_with_sessions(clinic, [6, 4], f"Extra{n}", primary_clinician=clinic.intern)
        person.mark(0, UNEXCUSED)
        person.mark(1, UNEXCUSED)
    assert WorkTask.objects.count() == 6
    assert _list_queries(client) == one
