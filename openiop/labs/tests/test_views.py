"""The staff pages: the chart's Drug testing tab (audited, scoped to the program, the strip marking the unexpected),
a test's page with its collection / results / review forms (422 with the field named), the import upload and the
program report with its CSV; each with outsider 404 and insufficient role 403."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.labs.models import Result, TestOrder
from openiop.labs.tests.support import collected, resulted, su_clinician, su_episode
from openiop.patients.models import Patient
from openiop.testing.attendance import PRESENT, UNEXCUSED, book, check_in, track_day
from openiop.testing.measures import all_items, completed, phq9

HTMX = {"HTTP_HX_REQUEST": "true"}
# The tab's statements, the chart's own (session, access, audit, tabs) included, with the course's attendance and
# scores reads; a query per week or per score would pass it in the many-weeks test below.
TAB_QUERIES = 14
DATA = Path(__file__).parent / "data"


@pytest.fixture
def tested(clinic) -> TestOrder:
    return resulted(clinic, ("BUP", "FTY"))


def _tab(patient):
    return reverse("patients:chart_tab", args=[patient.public_id, "drug_testing"])


@pytest.mark.parametrize(("who", "status"), [("counselor", 200), ("director", 200), ("auditor", 200),
                                             ("frontdesk", 403), ("billing", 403), ("clinician", 404),
                                             ("outsider", 404), ("stranger", 404)])  # fmt: skip
def test_the_tab_and_the_test_page_access_matrix(client, clinic, tested, who, status):
    client.force_login(getattr(clinic, who))
    assert client.get(_tab(tested.patient), **HTMX).status_code == status
    assert client.get(reverse("labs:test", args=[tested.public_id])).status_code == status


def test_the_tab_shows_the_strip_and_results_and_is_audited(client, clinic, tested):
    client.force_login(su_clinician(clinic))
    page = client.get(_tab(tested.patient), **HTMX).content.decode()
    assert 'class="dt-strip"' in page and 'data-state="unexpected"' in page
    assert 'data-interpretation="unexpected"' in page and "never expected" in page
    row = AuditEvent.objects.latest("chain_index")
    assert (row.action, row.object_type) == (AuditAction.RECORD_VIEWED, "drug_testing")


def test_ordering_collecting_entering_and_reviewing_from_the_pages(client, clinic):
    episode = su_episode(clinic, "Rowan")
    client.force_login(su_clinician(clinic))
    order_url = reverse("labs:order", args=[episode.public_id])
    bad = client.post(order_url, {"kind": "cup", "reason": "clinical", "due_on": ""})
    assert bad.status_code == 422 and "due_on" in bad.context["form"].errors
    made = client.post(order_url, {"kind": "cup", "reason": "random", "due_on": timezone.localdate().isoformat()})
    order = TestOrder.objects.get(episode=episode)
    page = reverse("labs:test", args=[order.public_id])
    assert made.status_code == 302 and made["Location"] == page
    when = (timezone.localtime() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    missing = client.post(page, {"step": "collect", "outcome": "collected", "collected_at": when, "specimen_id": "",
                                 "temperature_in_range": "true"})  # fmt: skip
    assert missing.status_code == 422 and "specimen_id" in missing.context["collection_form"].errors
    assert missing.context["collection_form"]["collected_at"].value() == when  # what was typed is kept
    assert client.post(page, {"step": "collect", "outcome": "collected", "collected_at": when, "specimen_id": "S-9",
                              "observed": "on", "temperature_in_range": "true"}).status_code == 302  # fmt: skip
    assert (
        client.post(page, {"step": "results", "outcome_COC": "positive", "outcome_BUP": "negative"}).status_code == 302
    )
    assert set(Result.objects.filter(order=order).values_list("analyte", "interpretation")) == {
        ("COC", "unexpected"), ("BUP", "expected")}  # fmt: skip
    assert "Request confirmation" in client.get(page).content.decode()
    coc = Result.objects.get(order=order, analyte="COC")
    assert client.post(page, {"step": "confirm", "result": str(coc.public_id)}).status_code == 302
    empty = client.post(page, {"step": "review", "note": ""})
    assert empty.status_code == 422 and "note" in empty.context["review_form"].errors
    assert client.post(page, {"step": "review", "note": "Discussed; plan updated."}).status_code == 302
    order.refresh_from_db()
    assert order.reviewed_at is not None and Result.objects.get(pk=coc.pk).confirmation == "requested"
    client.force_login(clinic.auditor)  # reads, never writes
    assert client.post(page, {"step": "review", "note": "x"}).status_code == 403
    assert client.get(page).status_code == 200


def test_the_import_page(client, clinic):
    episode = su_episode(clinic)
    Patient.objects.filter(pk=episode.patient_id).update(mrn="RR-900001")
    collected(episode, "SPC-26-0001", kind="lab")
    client.force_login(su_clinician(clinic))
    url = reverse("labs:import")
    with (DATA / "oru_r01_malformed.hl7").open("rb") as fh:
        bad = client.post(url, {"format": "hl7", "file": fh})
    assert bad.status_code == 422 and "OBX[2]-3" in bad.content.decode()
    with (DATA / "oru_r01_results.hl7").open("rb") as fh:
        assert client.post(url, {"format": "hl7", "file": fh}).status_code == 302
    with (DATA / "oru_r01_results.hl7").open("rb") as fh:
        again = client.post(url, {"format": "hl7", "file": fh})
    assert again.status_code == 422 and "imported before" in again.content.decode()
    assert Result.objects.count() == 4
    client.force_login(clinic.auditor)
    assert client.get(url).status_code == 403


def test_the_program_report_and_its_csv(client, clinic, tested):
    url = reverse("labs:report", args=[clinic.su.public_id])
    client.force_login(clinic.director)
    page = client.get(url)
    assert page.status_code == 200 and "For internal use" in page.content.decode()
    csv = client.get(url, {"format": "csv"})
    assert csv["Content-Type"] == "text/csv" and b"analyte,FTY,1,1,1" in csv.content
    assert AuditEvent.objects.filter(action=AuditAction.EXPORTED, object_type="drug_testing_report").exists()
    assert client.get(url, {"start": "2026-12-01", "end": "2025-01-01"}).status_code == 422
    client.force_login(clinic.frontdesk)
    assert client.get(url).status_code == 403
    client.force_login(clinic.clinician)  # not a member of the substance-use program
    assert client.get(url).status_code == 404
    client.force_login(clinic.stranger)
    assert client.get(url).status_code == 404


def test_the_tab_draws_the_course_at_a_glance_in_a_fixed_number_of_queries(
    client, clinic, tested, django_assert_max_num_queries
):
    episode, counselor = tested.episode, su_clinician(clinic)
    program = episode.program
    last_week = timezone.localdate() - timedelta(days=7)
    sessions = track_day(program, last_week, hours=(9, 10, 11))
    book(sessions, episode)
    check_in(sessions[0], episode, PRESENT, counselor)
    check_in(sessions[1], episode, UNEXCUSED, counselor)
    check_in(sessions[2], episode, PRESENT, counselor)
    completed(episode.patient, counselor, "phq9", phq9(12), today=last_week, episode=episode)
    completed(episode.patient, counselor, "gad7", all_items("gad7", 1), today=timezone.localdate(), episode=episode)
    client.force_login(counselor)
    with django_assert_max_num_queries(TAB_QUERIES):
        page = client.get(_tab(tested.patient), **HTMX).content.decode()
    assert 'class="dt-course"' in page
    assert 'data-row="Drug tests"' in page and 'data-row="Attendance"' in page
    assert 'data-row="PHQ-9"' in page and 'data-row="GAD-7"' in page
    assert f"week of {last_week - timedelta(days=last_week.weekday()):%b} " in page
    assert "attended 2 of 3" in page and "unexpected result" in page


def test_the_course_costs_no_query_per_week_or_score(client, clinic, tested, django_assert_max_num_queries):
    """Many weeks of sessions and scores cost what one does: the rows are drawn from one read each."""
    episode, counselor = tested.episode, su_clinician(clinic)
    for weeks_ago in range(1, 5):
        day = timezone.localdate() - timedelta(weeks=weeks_ago)
        sessions = track_day(episode.program, day, hours=(9, 11))
        book(sessions, episode)
        for session in sessions:
            check_in(session, episode, PRESENT, counselor)
        completed(episode.patient, counselor, "phq9", phq9(weeks_ago * 3), today=day, episode=episode)
    client.force_login(counselor)
    with django_assert_max_num_queries(TAB_QUERIES):
        page = client.get(_tab(tested.patient), **HTMX).content.decode()
    assert page.count('<rect class="dt-att-full"') == 4 and page.count('<circle class="dt-score"') == 4
