"""The chart header at a glance: each app's HeaderFlag on every tab, the named alert banner, and the tabs folded
away before admission."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.conftest import login
from openiop.measures.models import SafetyAlert
from openiop.patients.actions import do_add_support_contact, do_open_episode, do_set_care_team
from openiop.patients.models import EpisodeOfCare
from openiop.testing.consents import part2_tpo, release_to_contact
from openiop.testing.deferred import refuse_deferred_reads
from openiop.testing.fixtures import make_patient
from openiop.testing.intake import signed
from openiop.testing.measures import all_items, completed, phq9
from openiop.testing.plans import active, draft, plan_for
from openiop.testing.scheduling import local_at, make_booking, make_session, make_session_type

HTMX = {"HTTP_HX_REQUEST": "true"}


def _header(client, patient, tab: str = "demographics") -> str:
    """The chart page up to the tab content: the header, its badges and the tab bar."""
    response = client.get(f"{patient.get_absolute_url()}?tab={tab}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "{#" not in html  # a multi-line template comment would print itself
    return html.split('id="chart-tab"')[0]


def _alerting(clinic, patient) -> SafetyAlert:
    administration = completed(patient, clinic.clinician, "phq9", phq9(6, item9=1), today=date(2026, 11, 30))
    return administration.safety_alert


def test_an_open_alert_shows_on_every_tab_with_acknowledge_for_who_may(client, clinic, patient):
    alert = _alerting(clinic, patient)
    acknowledge = reverse("measures:alert_acknowledge", args=[alert.public_id])
    login(client, clinic.clinician)
    for tab in ("demographics", "episodes", "schedule"):
        header = _header(client, patient, tab)
        assert 'data-flag="safety-alert"' in header and "Safety alert" in header
        assert acknowledge in header and ">Acknowledge</button>" in header
    login(client, clinic.auditor)  # reads clinical data, may not acknowledge: sees the alert, not the button
    header = _header(client, patient)
    assert 'data-flag="safety-alert"' in header and acknowledge not in header
    login(client, clinic.frontdesk)  # no clinical data at all
    assert 'data-flag="safety-alert"' not in _header(client, patient)


def test_acknowledging_from_the_header_returns_to_the_chart(client, clinic, patient):
    alert = _alerting(clinic, patient)
    login(client, clinic.clinician)
    response = client.post(reverse("measures:alert_acknowledge", args=[alert.public_id]), {"next": "header"})
    assert response.status_code == 302 and response["Location"] == patient.get_absolute_url()
    alert.refresh_from_db()
    assert alert.status == SafetyAlert.Status.ACKNOWLEDGED and alert.acknowledged_by == clinic.clinician
    assert 'data-flag="safety-alert"' not in _header(client, patient)


def test_a_severe_worsening_phq9_shows_score_band_and_trend(client, clinic, patient):
    completed(patient, clinic.clinician, "phq9", phq9(10), today=date(2026, 11, 9))
    completed(patient, clinic.clinician, "phq9", phq9(24), today=date(2026, 11, 30))
    completed(patient, clinic.clinician, "gad7", all_items("gad7", 1), today=date(2026, 11, 30))
    login(client, clinic.clinician)
    header = _header(client, patient)
    assert 'data-flag="score-phq9"' in header
    assert "PHQ-9 <strong>24</strong> severe ↑ worsening" in header
    assert "GAD-7 <strong>7</strong> mild" in header  # one score: no trend yet


def test_week_of_stay_dose_plan_and_next_session(client, clinic, patient):
    session = make_session(
        clinic.mh, local_at(clinic.mh, 1, 9), session_type=make_session_type(clinic.mh, "DBT skills")
    )
    make_booking(session, patient)
    plan_for(patient)
    login(client, clinic.clinician)
    header = _header(client, patient)
    today = clinic.mh.now().date()
    week = (today - date(2026, 11, 2)).days // 7 + 1
    assert f"IOP · week {week} of {clinic.mh.max_length_weeks} · Day track" in header
    assert 'data-flag="dose"' in header and "Dose 0/9 h" in header
    assert 'data-flag="next-session"' in header and "DBT skills" in header
    assert f"{session.starts_at.astimezone(clinic.mh.tz()):%b} " in header
    assert 'data-flag="plan"' in header and "Plan overdue" in header
    draft(patient, clinic.clinician)
    assert "Plan overdue" in (header := _header(client, patient)) and "· draft" in header
    active(patient, clinic.clinician)
    assert "Plan in force" in _header(client, patient)


def test_part2_consent_shows_for_a_substance_use_patient(client, clinic):
    patient = make_patient(clinic, clinic.su, legal_first_name="Sam")
    login(client, clinic.director)
    assert "No Part 2 consent" in _header(client, patient)
    part2_tpo(patient, clinic.director)
    header = _header(client, patient)
    assert "Part 2 consent on file" in header and "0 active releases" in header


def test_the_chart_query_count_does_not_grow_with_scores_or_alerts(client, clinic, django_assert_max_num_queries):
    small = make_patient(clinic, legal_first_name="Small")
    big = make_patient(clinic, legal_first_name="Big")
    _alerting(clinic, small)
    for day in (2, 9, 16, 23):
        completed(big, clinic.clinician, "phq9", phq9(6, item9=1), today=date(2026, 11, day))
        completed(big, clinic.clinician, "gad7", all_items("gad7", 2), today=date(2026, 11, day))
    assert SafetyAlert.objects.filter(patient=big).count() == 4
    login(client, clinic.clinician)
    client.get(small.get_absolute_url())  # warm the session
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(small.get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        assert client.get(big.get_absolute_url()).status_code == 200


def test_the_banner_names_the_patient_for_the_team_and_not_for_an_outsider(client, clinic, patient):
    _alerting(clinic, patient)
    banner = reverse("measures:alert_banner")
    login(client, clinic.clinician)
    html = client.get(banner, **HTMX).content.decode()
    assert patient.display_name in html and f'href="{patient.get_absolute_url()}"' in html and "{%" not in html
    login(client, clinic.outsider)
    html = client.get(banner, **HTMX).content.decode()
    assert patient.display_name not in html and "safety-alert-banner" not in html


def test_the_banner_names_five_then_counts_the_rest(client, clinic):
    for i in range(7):
        _alerting(clinic, make_patient(clinic, legal_first_name=f"P{i}", legal_last_name="Many"))
    login(client, clinic.clinician)
    html = client.get(reverse("measures:alert_banner"), **HTMX).content.decode()
    assert html.count(" Many</a>") == 5 and "and 2 more" in html


@pytest.mark.parametrize("episode", ["waitlist", "none"])
def test_a_waitlisted_patients_chart_folds_away_empty_tabs(client, clinic, episode):
    patient = make_patient(clinic, admit=False, legal_first_name="Wait")
    if episode == "waitlist":
        do_open_episode(
            patient, acting_user=None, program=clinic.mh, status="waitlist", waitlisted_on=date(2026, 11, 20)
        )
    login(client, clinic.clinician)
    header = _header(client, patient)
    for hidden in ("notes", "plan", "attendance", "measures", "discharge"):
        assert f"?tab={hidden}" not in header
    for shown in ("demographics", "episodes", "consents"):
        assert f"?tab={shown}" in header
    if episode == "waitlist":
        assert "Waitlisted since Nov 20" in header
    # The HTMX tab request redraws the same tab bar.
    html = client.get(reverse("patients:chart_tab", args=[patient.public_id, "episodes"]), **HTMX).content.decode()
    assert "?tab=notes" not in html and "?tab=episodes" in html


def test_an_admitted_patient_keeps_every_tab(client, clinic, patient):
    login(client, clinic.clinician)
    header = _header(client, patient)
    assert all(f"?tab={t}" in header for t in ("notes", "plan", "attendance", "measures", "discharge"))
    assert EpisodeOfCare.objects.get(patient=patient).status == "active"


def test_an_unsigned_note_past_its_deadline_shows_as_overdue(client, clinic, patient):
    from openiop.notes import actions as note_actions
    from openiop.testing.notes import attend, individual_session

    episode = EpisodeOfCare.objects.get(patient=patient)
    old = individual_session(clinic.mh, days_ago=9, facilitators=(clinic.clinician,))
    attend(old, episode, clinic.frontdesk)
    note_actions.do_create_note(patient, acting_user=clinic.clinician, episode=episode, session=old)
    login(client, clinic.clinician)
    header = _header(client, patient)
    assert 'data-flag="overdue-notes"' in header and "1 note overdue" in header


def test_a_session_under_way_reads_now_not_next(clinic, client):
    from datetime import timedelta

    from django.utils import timezone

    patient = make_patient(clinic, clinic.mh)
    started = timezone.now() - timedelta(minutes=20)
    session = make_session(clinic.mh, started, track=clinic.day)
    make_booking(session, patient)
    login(client, clinic.clinician)
    header = _header(client, patient)
    local = started.astimezone(clinic.mh.tz())
    assert 'data-flag="next-session"' in header and f"Now: since {local:%-I:%M %p}" in header, header
    assert "Next:" not in header


def test_every_flag_shows_and_none_reads_a_column_it_left_out(client, clinic, monkeypatch):
    """The flags read only the columns they show (``.only``): a column left out would be fetched row by row."""
    patient = make_patient(clinic, clinic.su, legal_first_name="Every")
    _alerting(clinic, patient)
    completed(patient, clinic.clinician, "phq9", phq9(10), today=date(2026, 11, 9))
    part2_tpo(patient, clinic.director)
    contact = do_add_support_contact(patient, acting_user=None, name="Ana Flag", relationship="sibling")
    release_to_contact(patient, clinic.director, contact)
    signed(patient, clinic.director, program=clinic.su)
    make_booking(make_session(clinic.su, local_at(clinic.su, 1, 9)), patient)
    plan_for(patient)
    draft(patient, clinic.clinician)
    login(client, clinic.director)
    _header(client, patient)  # warm the session

    refuse_deferred_reads(monkeypatch)
    header = _header(client, patient)
    for flag in ("safety-alert", "score-phq9", "part2", "releases", "intake-level", "next-session", "plan"):
        assert f'data-flag="{flag}"' in header, flag
    assert "Part 2 consent on file" in header and "1 active release" in header and "· draft" in header


def test_the_episodes_tab_reads_every_column_of_the_care_team_it_shows(client, clinic, patient, monkeypatch):
    episode = patient.episodes.get()
    do_set_care_team(episode, acting_user=clinic.director, members=[(clinic.intern, "therapist")])
    login(client, clinic.clinician)
    _header(client, patient)
    refuse_deferred_reads(monkeypatch)
    body = client.get(f"{patient.get_absolute_url()}?tab=episodes").content.decode()
    assert f"{clinic.intern.display_name} <span" in body and "(Therapist)" in body
