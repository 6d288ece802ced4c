"""Check-ins in the portal: the patient fills a due questionnaire with the measures form (answers saved as given,
the crisis panel on a critical answer, the safety alert raised), then sees their scores in plain words with a
trend; the C-SSRS shows as sent, never as a score; the page costs a fixed number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.measures.models import Administration, SafetyAlert
from openiop.portal.tests.care_support import patient_account
from openiop.testing.measures import all_items, completed, phq9, start

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def account(patient):
    return patient_account(patient)


@pytest.fixture
def logged_in(client, account):
    client.force_login(account.user)
    return client


def _urls(a: Administration) -> tuple[str, str, str]:
    args = [a.public_id]
    return (
        reverse("portal:questionnaire", args=args),
        reverse("portal:questionnaire_answer", args=args),
        reverse("portal:questionnaire_submit", args=args),
    )


def test_the_due_list_links_the_form_which_is_the_measures_form(logged_in, clinic, patient):
    administration = start(patient, clinic.clinician)
    page = logged_in.get(reverse("portal:questionnaires")).content.decode()
    form_url, answer_url, submit_url = _urls(administration)
    assert "Mood" in page and form_url in page
    page = logged_in.get(form_url).content.decode()
    assert 'id="crisis"' in page and "hidden" in page.split('id="crisis"')[1].split(">")[0]
    assert f'hx-post="{answer_url}"' in page and f'action="{submit_url}"' in page
    assert "measures/questionnaire.js" in page
    assert "Call or text <strong>988</strong>" in page


def test_filling_the_phq9_scores_it_and_shows_it_in_my_check_ins(logged_in, clinic, patient, account):
    administration = start(patient, clinic.clinician)
    _, answer_url, submit_url = _urls(administration)
    answers = phq9(11)
    # Saved as given (HTMX), then sent.
    response = logged_in.post(answer_url, {"phq9_1": answers["phq9_1"], "shown": ["phq9_1"]}, **HTMX)
    assert response.status_code == 200
    administration.refresh_from_db()
    assert administration.status == Administration.Status.IN_PROGRESS and administration.answers == {"phq9_1": 3}
    response = logged_in.post(submit_url, answers)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your PHQ-9 score today: <strong>11</strong> out of 27 (moderate range)" in page
    administration.refresh_from_db()
    assert (administration.status, administration.total, administration.band_key) == ("completed", 11, "moderate")
    assert administration.channel == Administration.Channel.LINK and administration.entered_by is None
    # Every write is audited in the patient's own name.
    writes = AuditEvent.objects.filter(object_id=str(administration.public_id)).exclude(
        action=AuditAction.RECORD_VIEWED
    )
    assert {w.actor_id for w in writes if w.action != AuditAction.CREATED} == {account.user.pk}

    page = logged_in.get(reverse("portal:questionnaires")).content.decode()
    assert "Nothing is due right now" in page
    assert "Your latest score is <strong>11</strong> out of 27, in the <strong>moderate</strong> range." in page
    assert "11 of 27 · Moderate" in page
    assert '<svg class="mq-trend"' in page


def test_a_critical_answer_shows_the_crisis_resources_at_once_and_raises_the_alert(logged_in, clinic, patient):
    administration = start(patient, clinic.clinician)
    form_url, answer_url, submit_url = _urls(administration)
    form = logged_in.get(form_url).content.decode()
    # The page marks item 9's non-zero answers, so its script opens the panel on the click itself.
    assert re.search(r'id="phq9_9-1" value="1"\s+autocomplete="off" data-critical="true"', form)
    response = logged_in.post(answer_url, {"phq9_9": "2", "shown": ["phq9_9"]}, **HTMX)
    fragment = response.content.decode()
    assert 'id="crisis"' in fragment and 'hx-swap-oob="true"' in fragment
    assert "hidden" not in fragment.split('id="crisis"')[1].split(">")[0]
    alert = SafetyAlert.objects.get(administration=administration)
    assert alert.items == ["phq9_9"] and alert.status == SafetyAlert.Status.OPEN
    done = logged_in.post(submit_url, phq9(4, item9=2)).content.decode()
    assert "hidden" not in done.split('id="crisis"')[1].split(">")[0]
    assert "You do not have to go through this alone" in done


def test_missing_answers_are_said_once_and_the_form_keeps_what_was_given(logged_in, clinic, patient):
    administration = start(patient, clinic.clinician)
    _, _, submit_url = _urls(administration)
    page = logged_in.post(submit_url, {"phq9_1": "2"}).content.decode()
    assert 'id="missing-warning"' in page and "8 questions are not answered" in page
    assert re.search(r'id="phq9_1-2" value="2"\s+autocomplete="off" checked', page)
    administration.refresh_from_db()
    assert administration.status == Administration.Status.IN_PROGRESS
    page = logged_in.post(submit_url, {"confirm_missing": "1"}).content.decode()
    administration.refresh_from_db()
    assert administration.status == Administration.Status.COMPLETED and administration.total is None


def test_a_bad_answer_comes_back_on_its_item(logged_in, clinic, patient):
    administration = start(patient, clinic.clinician)
    _, _, submit_url = _urls(administration)
    response = logged_in.post(submit_url, {"phq9_1": "7"})
    assert response.status_code == 422
    assert "Pick one of the answers shown." in response.content.decode()


def test_a_completed_questionnaire_cannot_be_opened_again(logged_in, clinic, patient):
    administration = completed(patient, clinic.clinician, "phq9", phq9(3))
    form_url, _, submit_url = _urls(administration)
    assert logged_in.get(form_url).status_code == 404
    assert logged_in.post(submit_url, phq9(3)).status_code == 404


def test_the_cssrs_shows_as_sent_never_as_a_score(logged_in, clinic, patient):
    completed(
        patient,
        clinic.clinician,
        "cssrs_screener",
        {"cssrs_screener_1": 1, "cssrs_screener_2": 0, "cssrs_screener_6": 0},
    )
    page = logged_in.get(reverse("portal:questionnaires")).content.decode()
    assert "Safety check" in page and "Sent to your care team" in page
    assert "C-SSRS over time" not in page and "mq-trend" not in page


def test_history_and_trend_over_several_weeks_in_a_fixed_number_of_queries(logged_in, clinic, patient):
    today = timezone.localdate()

    def load() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert logged_in.get(reverse("portal:questionnaires")).status_code == 200
        return len(ctx.captured_queries)

    completed(patient, clinic.clinician, "phq9", phq9(18), today=today - timedelta(days=21))
    few = load()
    for days, total in ((14, 14), (7, 9)):
        completed(patient, clinic.clinician, "phq9", phq9(total), today=today - timedelta(days=days))
    completed(patient, clinic.clinician, "gad7", all_items("gad7", 1), today=today - timedelta(days=7))
    start(patient, clinic.clinician, "gad7")
    assert load() == few
    page = logged_in.get(reverse("portal:questionnaires")).content.decode()
    assert page.count('<svg class="mq-trend"') == 2
    assert "PHQ-9 totals over time" in page
