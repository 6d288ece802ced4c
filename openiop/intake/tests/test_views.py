"""Intake pages: the access matrix for every view, section saves that keep what was typed, SUD scoping, queries."""

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
from openiop.intake.actions import do_add_diagnosis
from openiop.intake.models import IntakeAssessment
from openiop.patients.actions import do_open_episode
from openiop.testing.fixtures import make_patient
from openiop.testing.intake import complete, signed, start

HTMX = {"HTTP_HX_REQUEST": "true"}


@dataclass
class Ctx:
    clinic: Any
    patient: Any
    draft: IntakeAssessment
    done: IntakeAssessment
    diagnosis: Any


@pytest.fixture
def ctx(clinic, patient) -> Ctx:
    draft = start(patient, clinic.clinician)
    diagnosis = do_add_diagnosis(draft, acting_user=clinic.clinician, code="F41.1", description="GAD")
    done = signed(patient, clinic.clinician)
    return Ctx(clinic, patient, draft, done, diagnosis)


@dataclass(frozen=True)
class Case:
    name: str
    url: Callable[[Ctx], str]
    method: str = "get"
    data: Callable[[Ctx], dict[str, Any]] = field(default=lambda ctx: {})
    member: str = "clinician"
    insufficient: str = "auditor"  # reads clinical data, writes nothing
    htmx: bool = False

    def __str__(self) -> str:
        return self.name


CASES = [
    Case("tab", lambda c: reverse("patients:chart_tab", args=[c.patient.public_id, "intake"]), member="auditor",
         insufficient="frontdesk", htmx=True),
    Case("start_form", lambda c: reverse("intake:start", args=[c.patient.public_id])),
    Case("start", lambda c: reverse("intake:start", args=[c.patient.public_id]), "post",
         lambda c: {"program": str(c.clinic.mh.public_id), "assessed_on": "2026-11-20"}),
    Case("detail", lambda c: reverse("intake:detail", args=[c.done.public_id]), member="auditor",
         insufficient="billing"),
    Case("edit", lambda c: reverse("intake:edit", args=[c.draft.public_id])),
    Case("section", lambda c: reverse("intake:section", args=[c.draft.public_id, "strengths"]), "post",
         lambda c: {"strengths": "Humor."}, htmx=True),
    Case("ratings", lambda c: reverse("intake:ratings", args=[c.draft.public_id, "asam3"]), "post",
         lambda c: {"asam3-rating_d1": "1"}, htmx=True),
    Case("diagnosis_add", lambda c: reverse("intake:diagnosis_add", args=[c.draft.public_id]), "post",
         lambda c: {"code": "F10.20", "description": "AUD", "status": "confirmed"}, htmx=True),
    Case("diagnosis_remove", lambda c: reverse("intake:diagnosis_remove", args=[c.diagnosis.public_id]), "post",
         htmx=True),
    Case("sign", lambda c: reverse("intake:sign", args=[c.draft.public_id]), "post"),
    Case("addendum", lambda c: reverse("intake:addendum", args=[c.done.public_id]), "post",
         lambda c: {"text": "Late collateral."}),
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
    # The outsider is a clinician and the stranger a director: they hold the role, not the program.
    assert _call(login(client, getattr(ctx.clinic, who)), case, ctx).status_code == 404


def test_a_section_save_with_an_error_keeps_what_was_typed(client, clinic, patient):
    assessment = start(patient, clinic.clinician)
    url = reverse("intake:section", args=[assessment.public_id, "substance_use"])
    data = {
        "substance_use_history": "Started drinking at 15.",
        "substance_0": "Alcohol",
        "last_use_0": "not a date",
        "frequency_0": "daily",
    }
    response = login(client, clinic.clinician).post(url, data, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Not saved" in html and "Started drinking at 15." in html and 'value="daily"' in html
    assessment.refresh_from_db()
    assert assessment.substance_use_history == ""
    data["last_use_0"] = "2026-01-03"
    response = client.post(url, data, **HTMX)
    assert "Saved." in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.substances[0]["last_use"] == "2026-01-03"
    # The sign panel refreshes out of band with what is still missing.
    assert 'id="sign-panel"' in response.content.decode() and "hx-swap-oob" in response.content.decode()


def test_an_invalid_rating_grid_keeps_its_values(client, clinic, patient):
    assessment = start(patient, clinic.clinician)
    url = reverse("intake:ratings", args=[assessment.public_id, "asam4"])
    response = login(client, clinic.clinician).post(
        url, {"asam4-rating_d1": "ANY", "asam4-chosen_level": "9.9", "asam4-rationale": "My reasoning"}, **HTMX
    )
    html = response.content.decode()
    assert "Not saved" in html and "My reasoning" in html
    assert not assessment.level_ratings.exists()


def test_signing_from_the_page_locks_it(client, clinic, patient):
    assessment = complete(start(patient, clinic.clinician), clinic.clinician)
    client = login(client, clinic.clinician)
    response = client.post(reverse("intake:sign", args=[assessment.public_id]))
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.is_signed
    assert client.get(reverse("intake:edit", args=[assessment.public_id])).status_code == 302
    response = client.post(
        reverse("intake:section", args=[assessment.public_id, "strengths"]), {"strengths": "x"}, **HTMX
    )
    assert "addendum" in response.content.decode()


def test_a_substance_use_programs_intake_stays_with_its_staff(client, clinic):
    patient = make_patient(clinic)  # in the mental health program
    do_open_episode(patient, acting_user=None, program=clinic.su, status="waitlist")
    sud = signed(patient, clinic.director, program=clinic.su)
    mh = signed(patient, clinic.clinician)
    tab = reverse("patients:chart_tab", args=[patient.public_id, "intake"])
    html = login(client, clinic.clinician).get(tab, **HTMX).content.decode()
    assert str(mh.public_id) in html and str(sud.public_id) not in html and "Substance Use" not in html
    assert client.get(reverse("intake:detail", args=[sud.public_id])).status_code == 404
    html = login(client, clinic.director).get(tab, **HTMX).content.decode()
    assert str(sud.public_id) in html
    assert client.get(reverse("intake:detail", args=[sud.public_id])).status_code == 200


def test_views_are_audited(client, ctx):
    login(client, ctx.clinic.auditor).get(reverse("intake:detail", args=[ctx.done.public_id]))
    assert AuditEvent.objects.filter(
        action=AuditAction.RECORD_VIEWED, object_id=str(ctx.done.public_id), actor=ctx.clinic.auditor
    ).exists()


def test_the_intake_tab_query_count_does_not_grow_with_assessments(client, clinic, patient):
    client = login(client, clinic.clinician)
    tab = reverse("patients:chart_tab", args=[patient.public_id, "intake"])
    signed(patient, clinic.clinician)
    client.get(tab, **HTMX)
    with CaptureQueriesContext(connection) as one:
        client.get(tab, **HTMX)
    for _ in range(4):
        signed(patient, clinic.clinician)
    with CaptureQueriesContext(connection) as five:
        response = client.get(tab, **HTMX)
    assert response.content.decode().count("Signed ") >= 5
    assert len(five) == len(one)


def test_the_read_view_query_count_does_not_grow_with_its_contents(client, clinic, patient):
    from openiop.intake.actions import do_add_addendum

    assessment = signed(patient, clinic.clinician)
    do_add_addendum(assessment, acting_user=clinic.clinician, text="First addendum")
    client = login(client, clinic.clinician)
    url = reverse("intake:detail", args=[assessment.public_id])
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for n in range(3):
        do_add_addendum(assessment, acting_user=clinic.clinician, text=f"Addendum {n}")
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(after) == len(before)


def test_the_assessment_lists_the_instruments_given_at_intake_with_their_scores(client, clinic, patient):
    from openiop.measures.actions import do_complete, do_save_answers, do_schedule_due
    from openiop.measures.models import Administration
    from openiop.testing.measures import episode_of, phq9

    episode = episode_of(patient)
    assert episode.admitted_on is not None
    due = do_schedule_due(episode, today=episode.admitted_on, acting_user=clinic.clinician)
    intake_phq9 = next(a for a in due if a.instrument_code == "phq9" and a.occasion == "intake")
    do_save_answers(intake_phq9, phq9(12), acting_user=clinic.clinician, channel=Administration.Channel.STAFF)
    do_complete(intake_phq9, acting_user=clinic.clinician, channel=Administration.Channel.STAFF)
    assessment = start(patient, clinic.clinician, episode=episode)
    client = login(client, clinic.clinician)
    html = client.get(reverse("intake:detail", args=[assessment.public_id])).content.decode()
    assert "PHQ-9" in html and "12 · Moderate" in html
    assert reverse("measures:detail", args=[intake_phq9.public_id]) in html
    assert f"{patient.get_absolute_url()}?tab=measures" in html
    edit = client.get(reverse("intake:edit", args=[assessment.public_id])).content.decode()
    assert "12 · Moderate" in edit
