"""Discharge pages: the access matrix, section saves that keep what was typed, signing, follow-up outcomes, the
staff follow-ups list (audited, fixed query count), the PDFs' text, 42 CFR Part 2 scoping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.discharge.models import AftercarePlan, DischargeSummary, FollowUp
from openiop.patients.models import EpisodeOfCare
from openiop.testing import snapshot
from openiop.testing.discharge import drafted, signed, today
from openiop.testing.measures import completed, phq9
from openiop.testing.pdftext import plain_text
from openiop.testing.scheduling import admit

HTMX = {"HTTP_HX_REQUEST": "true"}


@dataclass
class Ctx:
    clinic: Any
    episode: EpisodeOfCare  # open, no discharge yet
    draft: DischargeSummary
    done: DischargeSummary  # signed, follow-ups scheduled

    @property
    def follow_up(self) -> FollowUp:
        return FollowUp.objects.filter(episode=self.done.episode).order_by("due_on").first()  # type: ignore[return-value]


@pytest.fixture
def ctx(clinic) -> Ctx:
    # Every test starts from the same records: built once (a minute at most) per test process, restored for each.
    return snapshot.restored(__name__, lambda: _build(clinic))


def _build(clinic) -> Ctx:
    episode = admit(clinic, "Avery", admitted_days_ago=30)
    draft = drafted(admit(clinic, "Blake", admitted_days_ago=30), clinic.clinician)
    done = signed(admit(clinic, "Casey", admitted_days_ago=40), clinic.clinician)
    return Ctx(clinic, episode, draft, done)


@dataclass(frozen=True)
class Case:
    name: str
    url: Callable[[Ctx], str]
    method: str = "get"
    data: Callable[[Ctx], dict[str, Any]] = field(default=lambda ctx: {})
    denied: tuple[str, ...] = ("frontdesk", "billing")
    htmx: bool = False

    def __str__(self) -> str:
        return self.name


WRITE_DENIED = ("frontdesk", "billing", "auditor")
CASES = [
    Case("tab", lambda c: reverse("patients:chart_tab", args=[c.done.patient.public_id, "discharge"]), htmx=True),
    Case("detail", lambda c: reverse("discharge:detail", args=[c.done.public_id])),
    Case("summary_pdf", lambda c: reverse("discharge:summary_pdf", args=[c.done.public_id])),
    Case("aftercare_pdf", lambda c: reverse("discharge:aftercare_pdf", args=[c.done.public_id])),
    Case("start_form", lambda c: reverse("discharge:start", args=[c.episode.public_id]), denied=WRITE_DENIED),
    Case("start", lambda c: reverse("discharge:start", args=[c.episode.public_id]), "post",
         lambda c: {"reason": "1", "discharge_on": today(c.episode).isoformat()}, denied=WRITE_DENIED),
    Case("section", lambda c: reverse("discharge:section", args=[c.draft.public_id, "summary"]), "post",
         lambda c: {"reason": "1", "discharge_on": today(c.episode).isoformat(), "course_of_treatment": "Went well."},
         denied=WRITE_DENIED, htmx=True),
    Case("sign", lambda c: reverse("discharge:sign", args=[c.draft.public_id]), "post", denied=WRITE_DENIED),
    Case("record_follow_up", lambda c: reverse("discharge:record_follow_up", args=[c.follow_up.public_id]), "post",
         lambda c: {"outcome": "unable_to_reach"}, denied=WRITE_DENIED),
]  # fmt: skip


def _call(client, case: Case, ctx: Ctx):
    return getattr(client, case.method)(case.url(ctx), case.data(ctx), **(HTMX if case.htmx else {}))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_members_get_in(client, ctx, case):
    response = _call(login(client, ctx.clinic.clinician), case, ctx)
    assert response.status_code in (200, 302), response.content[:400]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_roles_without_the_capability_get_403(client, ctx, case):
    for role in case.denied:
        client.logout()
        assert _call(login(client, getattr(ctx.clinic, role)), case, ctx).status_code == 403, role


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("who", ["outsider", "stranger"])
def test_outsiders_and_strangers_get_404(client, ctx, case, who):
    assert _call(login(client, getattr(ctx.clinic, who)), case, ctx).status_code == 404


@pytest.mark.parametrize("who", ["frontdesk", "billing"])
def test_the_follow_ups_page_needs_clinical_access(client, clinic, who):
    assert login(client, getattr(clinic, who)).get(reverse("discharge:follow_ups")).status_code == 403


def test_the_kpi_page_is_for_members_of_the_program(client, ctx):
    url = reverse("discharge:kpis", args=[ctx.clinic.mh.public_id])
    assert login(client, ctx.clinic.director).get(url).status_code == 200
    for who in ("outsider", "stranger"):
        client.logout()
        assert login(client, getattr(ctx.clinic, who)).get(url).status_code == 404
    client.logout()
    assert login(client, ctx.clinic.sysadmin).get(url).status_code == 403


def test_starting_from_the_tab_then_signing_discharges_with_follow_ups(client, ctx):
    client = login(client, ctx.clinic.clinician)
    response = client.post(
        reverse("discharge:start", args=[ctx.episode.public_id]),
        {"reason": "1", "discharge_on": today(ctx.episode).isoformat()},
    )
    summary = DischargeSummary.objects.get(episode=ctx.episode)
    assert response.status_code == 302 and response["Location"] == summary.get_absolute_url()
    page = client.get(summary.get_absolute_url()).content.decode()
    assert "Describe the course of treatment." in page and "Sign the summary and discharge" in page
    section = lambda slug: reverse("discharge:section", args=[summary.public_id, slug])  # noqa: E731
    today_iso = today(ctx.episode).isoformat()
    summary_data = {"reason": "1", "discharge_on": today_iso, "course_of_treatment": "Engaged in every group."}
    assert "Saved." in client.post(section("summary"), summary_data, **HTMX).content.decode()
    step_down = {"step_down_level": "asam_1", "appointment_provider": "Dr. Lee", "appointment_at": "2026-12-20T15:30"}
    html = client.post(section("step_down"), step_down, **HTMX).content.decode()
    assert "Saved." in html and 'hx-swap-oob="true"' in html
    plan = AftercarePlan.objects.get(episode=ctx.episode)
    local = plan.appointment_at.astimezone(ctx.episode.program.tz())  # type: ignore[union-attr]
    assert (local.hour, local.minute) == (15, 30)
    assert client.post(reverse("discharge:sign", args=[summary.public_id])).status_code == 302
    ctx.episode.refresh_from_db()
    assert ctx.episode.status == "discharged" and ctx.episode.discharge_reason == "1"
    assert FollowUp.objects.filter(episode=ctx.episode).count() == 3
    tab = client.get(reverse("patients:chart_tab", args=[ctx.episode.patient.public_id, "discharge"]), **HTMX)
    assert "Summary signed" in tab.content.decode() and "90 days" in tab.content.decode()


def test_a_section_with_errors_keeps_what_was_typed(client, ctx):
    client = login(client, ctx.clinic.clinician)
    url = reverse("discharge:section", args=[ctx.draft.public_id, "step_down"])
    data = {"step_down_level": "other", "appointment_provider": "Dr. Ana Lee", "appointment_at": "next tuesday"}
    html = client.post(url, data, **HTMX).content.decode()
    assert "Not saved" in html and "Give the date and time" in html
    assert 'value="Dr. Ana Lee"' in html and 'value="next tuesday"' in html
    assert AftercarePlan.objects.get(episode=ctx.draft.episode).appointment_provider == "Dr. Ana Lee"  # earlier save
    html = client.post(url, {**data, "appointment_at": ""}, **HTMX).content.decode()
    assert "Say what the other level or service is." in html and 'value="Dr. Ana Lee"' in html
    # Without HTMX the whole page comes back with the error, status 422.
    response = client.post(url, {**data, "appointment_at": ""})
    assert response.status_code == 422 and "Say what the other level" in response.content.decode()


def test_a_start_with_errors_shows_the_form_again(client, ctx):
    client = login(client, ctx.clinic.clinician)
    url = reverse("discharge:start", args=[ctx.episode.public_id])
    response = client.post(url, {"reason": "", "discharge_on": "2020-01-01"})
    assert response.status_code == 422
    assert 'value="2020-01-01"' in response.content.decode()
    response = client.post(url, {"reason": "1", "discharge_on": "2020-01-01"})
    assert response.status_code == 422 and "on or after admission" in response.content.decode()


def test_recording_a_follow_up_with_htmx_returns_the_row(client, ctx):
    client = login(client, ctx.clinic.intern)
    follow_up = ctx.follow_up
    url = reverse("discharge:record_follow_up", args=[follow_up.public_id])
    html = client.post(url, {"outcome": "reached_well", "note": "Doing fine."}, **HTMX).content.decode()
    assert "Say whether they are attending aftercare." in html and "Doing fine." in html
    data = {"outcome": "reached_well", "attending_aftercare": "yes", "readmitted": "no", "note": "Doing fine."}
    html = client.post(url, data, **HTMX).content.decode()
    assert "Recorded." in html and "Reached: doing well" in html
    follow_up.refresh_from_db()
    assert follow_up.status == "done" and follow_up.attending_aftercare is True
    assert follow_up.task is not None and follow_up.task.status == "done"


def test_the_follow_ups_page_lists_overdue_and_due_this_week_and_is_audited(client, ctx):
    late = signed(admit(ctx.clinic, "Devon", admitted_days_ago=60), ctx.clinic.clinician, days_ago=10)
    left = drafted(
        admit(ctx.clinic, "Emery", admitted_days_ago=30), ctx.clinic.clinician, days_ago=2, discharge_now=True
    )
    client = login(client, ctx.clinic.clinician)
    html = client.get(reverse("discharge:follow_ups")).content.decode()
    assert html.count("follow-up-overdue") == 1 and late.patient.display_name in html
    # Devon's 7-day check-in is 3 days late; Emery's falls in 5 days; the fixture's (signed today) after the week.
    assert html.count("follow-up-due") == 1
    assert left.patient.display_name in html and "due " in html  # unsigned summary after leaving
    assert AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED, object_type="discharge_follow_ups").exists()


def test_the_follow_ups_page_query_count_does_not_grow_with_rows(client, ctx):
    client = login(client, ctx.clinic.clinician)
    url = reverse("discharge:follow_ups")
    signed(admit(ctx.clinic, "Finley", admitted_days_ago=60), ctx.clinic.clinician, days_ago=3)
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for index, name in enumerate(("Gray", "Harper", "Indy")):
        signed(admit(ctx.clinic, name, admitted_days_ago=60), ctx.clinic.clinician, days_ago=3 + index)
    with CaptureQueriesContext(connection) as after:
        html = client.get(url).content.decode()
    assert html.count("follow-up-due") == 4
    assert len(after) == len(before)


def test_the_tab_query_count_does_not_grow_with_follow_ups(client, ctx):
    client = login(client, ctx.clinic.clinician)
    patient = ctx.done.patient
    url = reverse("patients:chart_tab", args=[patient.public_id, "discharge"])
    client.get(url, **HTMX)
    with CaptureQueriesContext(connection) as before:
        client.get(url, **HTMX)
    second = admit(ctx.clinic, "Casey", program=ctx.clinic.su, admitted_days_ago=20)
    assert second.patient != patient  # (another patient: the tab shows only this one's)
    with CaptureQueriesContext(connection) as after:
        client.get(url, **HTMX)
    assert len(after) == len(before)


def test_the_summary_pdf_renders_the_summary_and_the_aftercare_plan(client, ctx):
    episode = admit(ctx.clinic, "Jules", admitted_days_ago=40)
    completed(episode.patient, ctx.clinic.clinician, "phq9", phq9(18), today=today(episode) - timedelta(days=35))
    completed(episode.patient, ctx.clinic.clinician, "phq9", phq9(4), today=today(episode) - timedelta(days=1))
    summary = signed(episode, ctx.clinic.clinician)
    assert summary.measures[0]["first_score"] == 18 and summary.measures[0]["last_score"] == 4
    response = login(client, ctx.clinic.clinician).get(reverse("discharge:summary_pdf", args=[summary.public_id]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"] and "Jules" not in response["Content-Disposition"]
    text = plain_text(response.content)
    for expected in (
        "Discharge summary",
        "Jules Rivera",
        episode.patient.mrn,
        "Completed treatment (TEDS-D code 1)",
        "Attended groups; learned DBT skills.",
        "PHQ-9",
        "Remission",
        "Outpatient treatment (ASAM 1.0 / 1.5)",
        "Dr. Ana Lee, Lakeside Counseling",
        "SMART Recovery: Tuesdays 7 pm",
        "Sertraline 100 mg daily",
        "Not sleeping",
        "Payday Fridays",
        "988 Suicide & Crisis Lifeline",
        "7 days",
        "Signed electronically by Clinician Tester, LCSW",
    ):
        assert expected in text, expected
    assert AuditEvent.objects.filter(action=AuditAction.EXPORTED, object_id=str(summary.public_id)).exists()


def test_the_patient_copy_has_the_aftercare_plan_and_crisis_lines_only(client, ctx):
    response = login(client, ctx.clinic.clinician).get(reverse("discharge:aftercare_pdf", args=[ctx.done.public_id]))
    text = plain_text(response.content)
    assert "My aftercare plan" in text and "Dr. Ana Lee" in text and "988" in text and "SAMHSA" in text
    assert "Attended groups" not in text and "TEDS-D" not in text and ctx.done.patient.mrn not in text


def test_substance_use_discharges_are_visible_only_to_that_programs_staff(client, clinic):
    episode = admit(clinic, "Kai", program=clinic.su, admitted_days_ago=30)
    # The same patient is also in the mental health program, where the clinician works.
    from openiop.patients.actions import do_open_episode

    do_open_episode(episode.patient, acting_user=None, program=clinic.mh, admitted_on=episode.admitted_on)
    summary = signed(episode, clinic.director)
    client = login(client, clinic.clinician)
    tab = client.get(reverse("patients:chart_tab", args=[episode.patient.public_id, "discharge"]), **HTMX)
    assert tab.status_code == 200 and str(summary.public_id) not in tab.content.decode()
    assert "Adult Substance Use IOP" not in tab.content.decode()
    assert client.get(reverse("discharge:detail", args=[summary.public_id])).status_code == 404
    assert client.get(reverse("discharge:summary_pdf", args=[summary.public_id])).status_code == 404
    assert "Kai" not in client.get(reverse("discharge:follow_ups")).content.decode()
    client.logout()
    assert login(client, clinic.director).get(reverse("discharge:detail", args=[summary.public_id])).status_code == 200


@pytest.mark.parametrize(
    "who, shown", [("clinician", True), ("intern", True), ("frontdesk", False), ("billing", False)]
)
def test_the_staff_menu_links_the_follow_ups_page_for_clinical_roles(client, clinic, who, shown):
    html = login(client, clinic.people[who]).get(reverse("core:home")).content.decode()
    assert (f'href="{reverse("discharge:follow_ups")}"' in html) is shown


def test_the_attendance_report_and_the_follow_ups_page_link_the_discharge_measures(client, clinic):
    kpis = reverse("discharge:kpis", args=[clinic.mh.public_id])
    login(client, clinic.director)
    assert kpis in client.get(reverse("attendance:program_report", args=[clinic.mh.public_id])).content.decode()
    assert kpis in client.get(reverse("discharge:follow_ups")).content.decode()
