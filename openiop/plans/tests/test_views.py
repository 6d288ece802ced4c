"""Plan pages: the access matrix for every view, editor errors that keep what was typed, SUD scoping, the PDF,
the diff page, queries that do not grow with rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.plans import actions, content_actions
from openiop.plans.models import PlanVersion
from openiop.testing import snapshot
from openiop.testing.fixtures import make_patient
from openiop.testing.pdftext import plain_text as pdf_text
from openiop.testing.plans import active, draft, episode_of, fill, plan_for

HTMX = {"HTTP_HX_REQUEST": "true"}


@dataclass
class Ctx:
    clinic: Any
    patient: Any
    done: PlanVersion  # active version 1
    draft: PlanVersion  # version 2, a draft
    items: tuple[Any, ...]
    review: Any


@pytest.fixture
def ctx(clinic) -> Ctx:
    # Every test reads the same records: built once (a minute at most) per test process, restored for each test.
    return snapshot.restored(__name__, lambda: _build(clinic))


def _build(clinic) -> Ctx:
    patient = make_patient(clinic)
    done = active(patient, clinic.clinician)
    review = done.plan.reviews.get()
    second = actions.do_start_version(done.plan, acting_user=clinic.clinician, reason="other")
    problem = second.problems.get()
    goal = problem.goals.get()
    objective = goal.objectives.get()
    items = (problem, goal, objective, objective.interventions.get())
    return Ctx(clinic, patient, done, second, items, review)


@dataclass(frozen=True)
class Case:
    name: str
    url: Callable[[Ctx], str]
    method: str = "get"
    data: Callable[[Ctx], dict[str, Any]] = field(default=lambda ctx: {})
    member: str = "clinician"
    insufficient: str = "auditor"
    htmx: bool = False

    def __str__(self) -> str:
        return self.name


def _ep(c: Ctx) -> Any:
    return episode_of(c.patient)


CASES = [
    Case("tab", lambda c: reverse("patients:chart_tab", args=[c.patient.public_id, "plan"]), member="auditor",
         insufficient="frontdesk", htmx=True),
    Case("version", lambda c: reverse("plans:version", args=[c.done.public_id]), member="auditor",
         insufficient="billing"),
    Case("diff", lambda c: reverse("plans:diff", args=[c.draft.public_id]), member="auditor", insufficient="billing"),
    Case("pdf", lambda c: reverse("plans:pdf", args=[c.done.public_id]), member="auditor", insufficient="billing"),
    Case("review", lambda c: reverse("plans:review", args=[c.review.public_id]), member="auditor",
         insufficient="billing"),
    Case("review_complete", lambda c: reverse("plans:review", args=[c.review.public_id]), "post",
         lambda c: {"held_on": str(c.review.due_on.replace(year=2026, month=11, day=20)), "outcome": "continue",
                    "summary": "Steady."}),
    Case("due_queue", lambda c: reverse("plans:due_queue"), member="auditor", insufficient="billing"),
    Case("cosign_queue", lambda c: reverse("plans:cosign_queue")),
    Case("start", lambda c: reverse("plans:start", args=[c.patient.public_id, _ep(c).public_id]), "post"),
    Case("text", lambda c: reverse("plans:text", args=[c.draft.public_id]), "post",
         lambda c: {"strengths": "Humor."}, htmx=True),
    Case("add_problem", lambda c: reverse("plans:add", args=["problem", c.draft.public_id]), "post",
         lambda c: {"add-problem-statement": "Sleep."}, htmx=True),
    Case("add_goal", lambda c: reverse("plans:add", args=["goal", c.items[0].public_id]), "post",
         lambda c: {f"add-goal-{c.items[0].public_id}-statement": "Sleep 7 h."}, htmx=True),
    Case("edit_objective", lambda c: reverse("plans:edit", args=["objective", c.items[2].public_id]), "post",
         lambda c: {f"objective-{c.items[2].public_id}-statement": "New", f"objective-{c.items[2].public_id}-status":
                    "in_progress"}, htmx=True),
    Case("move", lambda c: reverse("plans:move", args=["problem", c.items[0].public_id, "up"]), "post", htmx=True),
    Case("remove", lambda c: reverse("plans:remove", args=["intervention", c.items[3].public_id]), "post",
         htmx=True),
    Case("objective_status", lambda c: reverse("plans:objective_status", args=[c.items[2].public_id]), "post",
         lambda c: {"status": "met"}, htmx=True),
    Case("sign", lambda c: reverse("plans:sign", args=[c.draft.public_id]), "post"),
    Case("cosign", lambda c: reverse("plans:cosign", args=[c.draft.public_id]), "post"),
    Case("return", lambda c: reverse("plans:return", args=[c.draft.public_id]), "post"),
    Case("patient_sign_form", lambda c: reverse("plans:patient_sign", args=[c.draft.public_id])),
    Case("patient_declined", lambda c: reverse("plans:patient_declined", args=[c.draft.public_id]), "post",
         lambda c: {"patient_declined_reason": "Does not want to sign anything today."}),
    Case("request_review", lambda c: reverse("plans:request_review", args=[c.done.plan.public_id]), "post",
         lambda c: {"trigger": "recertification"}),
]  # fmt: skip


def _call(client, case: Case, ctx: Ctx):
    extra = HTMX if case.htmx else {}
    return getattr(client, case.method)(case.url(ctx), case.data(ctx), **extra)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_members_get_in(client, ctx, case):
    response = _call(login(client, getattr(ctx.clinic, case.member)), case, ctx)
    assert response.status_code in (200, 302), response.content[:300]


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("role", ["insufficient", "frontdesk", "billing"])
def test_roles_without_the_capability_get_403(client, ctx, case, role):
    user = getattr(ctx.clinic, case.insufficient if role == "insufficient" else role)
    if user.can("edit_clinical") or (case.member == "auditor" and user.can("view_clinical")):
        pytest.skip("this role may use the view")
    assert _call(login(client, user), case, ctx).status_code == 403


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("who", ["outsider", "stranger"])
def test_outsiders_and_strangers_get_404(client, ctx, case, who):
    if case.name in ("due_queue", "cosign_queue"):
        response = _call(login(client, getattr(ctx.clinic, who)), case, ctx)
        assert response.status_code in (200, 403)
        assert ctx.patient.legal_last_name not in response.content.decode()
        return
    assert _call(login(client, getattr(ctx.clinic, who)), case, ctx).status_code == 404


def test_an_editor_error_keeps_what_was_typed(client, clinic, patient):
    version = draft(patient, clinic.clinician)
    problem = content_actions.do_add_problem(version, acting_user=clinic.clinician, statement="Low mood.")
    url = reverse("plans:add", args=["objective", problem.public_id])
    goal = content_actions.do_add_goal(problem, acting_user=clinic.clinician, statement="Mood lifts.")
    url = reverse("plans:add", args=["objective", goal.public_id])
    prefix = f"add-objective-{goal.public_id}"
    data = {f"{prefix}-statement": "Walks 20 minutes daily", f"{prefix}-target_date": "2026-10-01",
            f"{prefix}-status": "not_started"}  # fmt: skip
    response = login(client, clinic.clinician).post(url, data, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "before admission" in html and "Walks 20 minutes daily" in html
    assert goal.objectives.count() == 0


def test_a_substance_use_plan_is_seen_only_by_that_programs_staff(client, clinic):
    person = make_patient(clinic, clinic.su, legal_first_name="Sam")
    version = draft(person, clinic.director)
    url = reverse("plans:version", args=[version.public_id])
    # The clinician sees no patient here; the outsider neither. The director and auditor work in the SUD program.
    assert login(client, clinic.clinician).get(url).status_code == 404
    assert login(client, clinic.outsider).get(url).status_code == 404
    assert login(client, clinic.auditor).get(url).status_code == 200


def test_the_pdf_renders_the_plan_and_is_audited_as_an_export(client, clinic, patient):
    version = active(patient, clinic.clinician)
    response = login(client, clinic.clinician).get(reverse("plans:pdf", args=[version.public_id]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Treatment plan" in text and "Depressed mood most days." in text
    assert "Jordan Rivera" in text and "3x weekly" in text
    row = AuditEvent.objects.filter(action=AuditAction.EXPORTED).get()
    assert row.object_id == str(version.public_id) and row.changed_fields == []


def test_the_substance_use_pdf_carries_the_redisclosure_notice(client, clinic):
    person = make_patient(clinic, clinic.su, legal_first_name="Sam")
    version = draft(person, clinic.director)
    fill(version, clinic.director)
    text = pdf_text(login(client, clinic.director).get(reverse("plans:pdf", args=[version.public_id])).content)
    assert "42 CFR" in text or "redisclos" in text.lower()


def test_the_diff_page_shows_what_changed(client, clinic, patient):
    first = active(patient, clinic.clinician)
    second = actions.do_start_version(first.plan, acting_user=clinic.clinician, reason="other")
    problem = second.problems.get()
    content_actions.do_update_problem(problem, acting_user=clinic.clinician, statement="Depressed mood, improving.")
    content_actions.do_add_problem(second, acting_user=clinic.clinician, statement="Poor sleep.")
    content_actions.do_remove_item(
        problem.goals.get().objectives.get().interventions.get(), acting_user=clinic.clinician
    )
    actions.do_update_version_text(second, acting_user=clinic.clinician, barriers="Night shifts.")
    html = login(client, clinic.clinician).get(reverse("plans:diff", args=[second.public_id])).content.decode()
    assert "1 added, 1 removed, 1 changed" in html
    assert "Poor sleep." in html and "Depressed mood, improving." in html and "Night shifts." in html


def test_the_chart_tab_makes_the_plan_and_shows_it_due(client, clinic, patient):
    response = login(client, clinic.clinician).get(
        reverse("patients:chart_tab", args=[patient.public_id, "plan"]), **HTMX
    )
    assert response.status_code == 200
    plan = plan_for(patient)
    assert "Write the plan" in response.content.decode()
    chart = client.get(patient.get_absolute_url()).content.decode()
    # Admitted Nov 2, 2026; today is later, so the first plan is overdue in the header.
    assert "Plan overdue" in chart and plan.due_on.strftime("%b") in chart


def test_the_due_queue_does_not_grow_in_queries_with_rows(client, clinic):
    user = login(client, clinic.clinician)
    make_patient(clinic, legal_first_name="A")
    for p in list(clinic.mh.registered_patients.all()):
        plan_for(p)
    with CaptureQueriesContext(connection) as few:
        assert user.get(reverse("plans:due_queue")).status_code == 200
    for name in ("B", "C", "D"):
        plan_for(make_patient(clinic, legal_first_name=name))
    with CaptureQueriesContext(connection) as more:
        html = user.get(reverse("plans:due_queue")).content.decode()
    assert html.count("First treatment plan") == 4
    assert len(more.captured_queries) == len(few.captured_queries)
