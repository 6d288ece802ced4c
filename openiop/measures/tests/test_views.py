"""Staff pages: the access matrix for every view, the chart tab, entry, alerts, the banner, the outcome report,
query counts, and 42 CFR Part 2 scoping of substance-use scores."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.core.roles import Role
from openiop.measures import actions
from openiop.measures.models import Administration, SafetyAlert
from openiop.patients.actions import do_change_episode_status, do_open_episode, do_set_care_team
from openiop.testing.fixtures import make_patient, staff
from openiop.testing.measures import all_items, completed, phq9, start

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def scored(clinic, patient):
    """Four weekly PHQ-9s going down, an open GAD-7, and an open alert."""
    for weeks, total in enumerate((18, 15, 11, 7)):
        completed(patient, clinic.clinician, "phq9", phq9(total), today=date(2026, 11, 2) + timedelta(weeks=weeks))
    alerting = completed(patient, clinic.clinician, "phq9", phq9(6, item9=1), today=date(2026, 11, 30))
    open_one = start(patient, clinic.clinician, "gad7")
    return {"alert": alerting.safety_alert, "open": open_one, "done": alerting}


def _urls(clinic, patient, scored) -> dict[str, tuple[str, str, str]]:
    """name -> (method, url, capability group): 'view' pages need VIEW_CLINICAL, 'edit' ones EDIT_CLINICAL."""
    a = scored["alert"].public_id
    return {
        "alerts": ("get", reverse("measures:alerts"), "view"),
        "alert_detail": ("get", reverse("measures:alert_detail", args=[a]), "view"),
        "detail": ("get", reverse("measures:detail", args=[scored["done"].public_id]), "view"),
        "outcomes": ("get", reverse("measures:outcomes", args=[clinic.mh.public_id]), "view"),
        "outcomes_csv": ("get", reverse("measures:outcomes", args=[clinic.mh.public_id]) + "?format=csv", "view"),
        "tab": ("get", reverse("patients:chart_tab", args=[patient.public_id, "measures"]), "view"),
        "acknowledge": ("post", reverse("measures:alert_acknowledge", args=[a]), "edit"),
        "resolve": ("get", reverse("measures:alert_resolve", args=[a]), "edit"),
        "enter": ("get", reverse("measures:enter", args=[scored["open"].public_id]), "edit"),
        "answer": ("post", reverse("measures:answer", args=[scored["open"].public_id]), "edit"),
        "link": ("get", reverse("measures:link", args=[scored["open"].public_id]), "edit"),
        "cancel": ("post", reverse("measures:cancel", args=[scored["open"].public_id]), "edit"),
        "start": ("post", reverse("measures:start", args=[patient.public_id]), "edit"),
        "tablet": ("post", reverse("measures:start_tablet", args=[patient.public_id]), "edit"),
    }


def _call(client, method, url):
    return client.get(url, **HTMX) if method == "get" else client.post(url, {}, **HTMX)


@pytest.mark.parametrize(
    "name",
    ["alerts", "alert_detail", "detail", "outcomes", "outcomes_csv", "tab", "acknowledge", "resolve", "enter",
     "answer", "link", "cancel", "start", "tablet"],
)  # fmt: skip
def test_access_matrix(client, clinic, patient, scored, name):
    method, url, group = _urls(clinic, patient, scored)[name]
    for who in ("outsider", "stranger"):
        login(client, getattr(clinic, who))
        response = _call(client, method, url)
        # Lists are scoped (an empty list, 200); everything naming a record is a 404 outside the user's programs.
        expected = 200 if name == "alerts" else 404
        assert response.status_code == expected, (who, response.status_code)
        if name == "alerts":
            assert patient.legal_last_name not in response.content.decode()
    for who in ("frontdesk", "billing"):
        login(client, getattr(clinic, who))
        assert _call(client, method, url).status_code == 403, who
    login(client, clinic.auditor)  # reads clinical data, writes none
    assert _call(client, method, url).status_code == (403 if group == "edit" else 200)
    login(client, clinic.clinician)
    assert _call(client, method, url).status_code in (200, 302)


def test_setup_page_access(client, clinic):
    url = reverse("measures:setup", args=[clinic.mh.public_id])
    teen_director = staff(clinic.org, "teendirector", Role.DIRECTOR, [clinic.teen])
    for user, status in ((clinic.clinician, 403), (clinic.auditor, 403), (teen_director, 404), (clinic.stranger, 404),
                         (clinic.director, 200), (clinic.sysadmin, 200)):  # fmt: skip
        login(client, user)
        assert client.get(url).status_code == status, user.username


def test_the_measures_tab_shows_trends_bands_change_and_alerts(client, clinic, patient, scored):
    login(client, clinic.clinician)
    response = client.get(reverse("patients:chart_tab", args=[patient.public_id, "measures"]), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and 'class="mq-band-4"' in html and "Moderately severe" in html  # bands shaded
    assert "Reliably improved" in html and "Response" in html
    assert "Change from baseline" in html and "-12" in html  # 18 -> 6
    assert "Safety alerts" in html and "Acknowledge" in html
    assert "Due now" in html and "GAD-7" in html
    assert AuditEvent.objects.filter(
        action=AuditAction.RECORD_VIEWED, patient=patient, object_type="measures", actor=clinic.clinician
    ).exists()
    # The tab is listed for clinical roles only.
    login(client, clinic.frontdesk)
    assert "?tab=measures" not in client.get(patient.get_absolute_url()).content.decode()


def test_substance_use_scores_are_shown_only_to_that_programs_staff(client, clinic, patient):
    """42 CFR Part 2: a patient in MH and SU; the MH-only clinician sees MH scores, never the SU episode's."""
    su_episode = do_open_episode(patient, acting_user=clinic.director, program=clinic.su, status="active",
                                 admitted_on=date(2026, 11, 2))  # fmt: skip
    completed(patient, clinic.director, "auditc", {"auditc_1": 4, "auditc_2": 4, "auditc_3": 4}, episode=su_episode)
    completed(patient, clinic.director, "phq9", phq9(5, item9=2), episode=su_episode)
    su_alert = SafetyAlert.objects.get(episode=su_episode)
    completed(patient, clinic.clinician, "gad7", all_items("gad7", 1), episode=patient.episodes.get(program=clinic.mh))
    tab = reverse("patients:chart_tab", args=[patient.public_id, "measures"])
    login(client, clinic.clinician)
    html = client.get(tab, **HTMX).content.decode()
    assert 'id="mq-panel-gad7"' in html and "AUDIT-C" not in html and 'id="mq-panel-phq9"' not in html
    assert "Safety alerts" not in html
    assert client.get(su_alert.get_absolute_url()).status_code == 404
    assert client.get(reverse("measures:alerts")).content.decode().count(str(su_alert.public_id)) == 0
    su_admin = Administration.objects.get(episode=su_episode, instrument_code="auditc")
    assert client.get(reverse("measures:detail", args=[su_admin.public_id])).status_code == 404
    login(client, clinic.director)  # in both programs
    html = client.get(tab, **HTMX).content.decode()
    assert 'id="mq-panel-auditc"' in html and 'id="mq-panel-phq9"' in html and "Safety alerts" in html


def test_staff_entry_saves_partial_answers_and_completes_with_a_score(client, clinic, patient):
    a = start(patient, clinic.clinician, "gad7")
    login(client, clinic.clinician)
    url = reverse("measures:enter", args=[a.public_id])
    assert client.get(url).status_code == 200
    response = client.post(url, {"gad7_1": "2", "gad7_2": "1", "save": "1"})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.answers == {"gad7_1": 2, "gad7_2": 1} and a.entered_by == clinic.clinician
    # Completing with items missing asks once, then scores by the published rule.
    response = client.post(url, {"complete": "1"})
    assert response.status_code == 200 and "not answered" in response.content.decode()
    response = client.post(url, {"complete": "1", "confirm_missing": "1"})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.status == "completed" and a.total is None and "unanswered" in a.missing_reason


def test_a_bad_answer_re_renders_with_the_item_named_and_keeps_the_rest(client, clinic, patient):
    a = start(patient, clinic.clinician, "gad7")
    login(client, clinic.clinician)
    response = client.post(reverse("measures:enter", args=[a.public_id]), {"gad7_1": "2", "gad7_2": "9", "save": "1"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="gad7_2-error"' in html and "Pick one of the answers shown." in html
    assert re.search(r'id="gad7_1-2" value="2"\s+autocomplete="off" checked', html)
    a.refresh_from_db()
    assert a.answers == {}


def test_the_htmx_answer_returns_the_crisis_panel_when_item_9_is_positive(client, clinic, patient):
    a = start(patient, clinic.clinician, "phq9")
    login(client, clinic.clinician)
    html = client.post(reverse("measures:answer", args=[a.public_id]), {"phq9_9": "1"}, **HTMX).content.decode()
    assert 'id="crisis"' in html and 'hx-swap-oob="true"' in html and "988" in html
    crisis = html[html.index('id="crisis"') : html.index("</section>")]
    assert " hidden" not in crisis.split(">")[0]
    assert SafetyAlert.objects.filter(administration=a).exists()


def test_acknowledge_and_resolve_from_the_pages(client, clinic, patient, scored):
    alert = scored["alert"]
    login(client, clinic.clinician)
    assert client.post(reverse("measures:alert_acknowledge", args=[alert.public_id]), {"next": "alerts"}).url == (
        reverse("measures:alerts")
    )
    resolve = reverse("measures:alert_resolve", args=[alert.public_id])
    response = client.post(resolve, {"action": "", "note": "Called, safe."})
    assert response.status_code == 422 and "Say what was done" in response.content.decode()
    assert "Called, safe." in response.content.decode()  # what was typed stays
    assert client.post(resolve, {"action": "safety_plan", "note": "Reviewed the safety plan."}).status_code == 302
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.resolution_action == "safety_plan"


def _banner(client) -> str:
    return client.get(reverse("measures:alert_banner"), **HTMX).content.decode()


def test_the_banner_shows_the_care_teams_open_alerts_on_every_page_until_acknowledged(client, clinic, patient, scored):
    login(client, clinic.clinician)  # the primary clinician
    home = client.get("/").content.decode()
    assert f'hx-get="{reverse("measures:alert_banner")}" hx-trigger="load"' in home  # every staff page asks
    banner = _banner(client)
    assert 'id="safety-alert-banner"' in banner and "1 safety alert</strong>" in banner
    # Named, with a link to the chart (where the header acknowledges it); never the MRN or the score.
    assert patient.display_name in banner and patient.get_absolute_url() in banner
    assert patient.mrn not in banner and "phq9" not in banner.lower()
    login(client, clinic.intern)  # same program, not on the team
    assert 'id="safety-alert-banner"' not in _banner(client)
    episode = patient.episodes.get()
    do_set_care_team(episode, acting_user=clinic.director, members=[(clinic.intern, "therapist")])
    assert 'id="safety-alert-banner"' in _banner(client)
    login(client, clinic.director)  # directs the program
    assert 'id="safety-alert-banner"' in _banner(client)
    actions.do_acknowledge_alert(scored["alert"], acting_user=clinic.clinician)
    assert 'id="safety-alert-banner"' not in _banner(client)
    login(client, clinic.outsider)
    assert 'id="safety-alert-banner"' not in _banner(client)
    for reader in (clinic.frontdesk, clinic.auditor):  # cannot act on an alert: no banner, no request for one
        login(client, reader)
        assert "alert_banner" not in client.get("/").content.decode().replace("measures/alerts/banner", "alert_banner")
        assert client.get(reverse("measures:alert_banner")).status_code == 403


def test_the_banner_costs_one_query_and_the_pages_none(client, clinic, patient, scored):
    from openiop.measures.queries import banner_alert_count

    clinic.clinician.refresh_from_db()
    with CaptureQueriesContext(connection) as ctx:
        assert banner_alert_count(clinic.clinician) == 1
    assert len(ctx.captured_queries) == 1
    login(client, clinic.clinician)
    _banner(client)
    with CaptureQueriesContext(connection) as ctx:
        _banner(client)
    # Besides the session and login bookkeeping every request pays, one query: the open alerts with their patients
    # (the membership list rides along as a subquery).
    ours = [q["sql"] for q in ctx.captured_queries if "measures_" in q["sql"] or "patients_" in q["sql"]]
    assert len(ours) == 1 and "patients_patient" in ours[0]


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_alerts_page_query_count_does_not_grow_with_rows(client, clinic):
    people = [make_patient(clinic, legal_first_name=f"A{i}", legal_last_name="Alert") for i in range(2)]
    for p in people:
        completed(p, clinic.clinician, "phq9", phq9(3, item9=1))
    login(client, clinic.director)
    url = reverse("measures:alerts")
    client.get(url)
    few = _count(client, url)
    for i in range(6):
        p = make_patient(clinic, legal_first_name=f"B{i}", legal_last_name="Alert")
        alert = completed(p, clinic.clinician, "phq9", phq9(3, item9=1)).safety_alert
        if i % 2:
            actions.do_acknowledge_alert(alert, acting_user=clinic.clinician)
    assert _count(client, url) == few
    assert client.get(url).content.decode().count('<th scope="row">') == 8


def test_patient_list_sparklines_in_a_fixed_number_of_queries(client, clinic):
    def scored_patient(i: int) -> None:
        p = make_patient(clinic, legal_first_name=f"S{i}", legal_last_name="Spark")
        for total in (15, 12, 8):
            completed(p, clinic.clinician, "phq9", phq9(total))
        completed(p, clinic.clinician, "gad7", all_items("gad7", 1))

    for i in range(2):
        scored_patient(i)
    login(client, clinic.clinician)
    client.get("/patients/")
    few = _count(client, "/patients/")
    for i in range(2, 8):
        scored_patient(i)
    many = _count(client, "/patients/")
    assert few == many
    html = client.get("/patients/").content.decode()
    assert html.count('<svg class="mq-spark') == 16  # PHQ-9 and GAD-7 for each of 8 patients
    assert "PHQ-9 15, 12, 8 (latest 8, Mild)" in html
    login(client, clinic.frontdesk)  # no clinical data, so no column and no query
    html = client.get("/patients/").content.decode()
    assert "mq-spark" not in html and '<th scope="col">Scores</th>' not in html


def test_the_outcome_report_aggregates_by_track_and_exports_audited_csv(client, clinic):
    evening = make_patient(clinic, legal_first_name="Eve", legal_last_name="Ning")
    episode = evening.episodes.get()
    from openiop.patients.actions import do_update_episode

    do_update_episode(episode, acting_user=clinic.director, track=clinic.evening)
    for first, last, who in ((20, 6, "A"), (16, 14, "B"), (12, 19, "C")):
        p = make_patient(clinic, legal_first_name=who, legal_last_name="Zyxout")
        completed(p, clinic.clinician, "phq9", phq9(first))
        completed(p, clinic.clinician, "phq9", phq9(last))
    completed(evening, clinic.clinician, "phq9", phq9(10))
    completed(evening, clinic.clinician, "phq9", phq9(4))
    login(client, clinic.director)
    url = reverse("measures:outcomes", args=[clinic.mh.public_id])
    html = client.get(url).content.decode()
    assert "Day" in html and "Evening" in html and "All tracks" in html
    assert "Zyxout" not in html and "Ning" not in html  # aggregates only
    csv = client.get(url + "?format=csv").content.decode().splitlines()
    assert csv[0].startswith("instrument,track,episodes,mean_admission,mean_latest,improved_pct")
    day = next(line for line in csv if line.startswith("PHQ-9,Day,"))
    # Day: 20->6 improved+responded+remitted? (6 is not < 5), 16->14 nothing, 12->19 reliably worse.
    assert day == "PHQ-9,Day,3,16.0,13.0,33,33,0,33"
    assert next(line for line in csv if line.startswith("PHQ-9,All tracks,")).startswith("PHQ-9,All tracks,4,")
    assert AuditEvent.objects.filter(action=AuditAction.EXPORTED, object_type="measures_outcomes").count() == 1


def test_program_setup_saves_schedules_and_the_on_call_clinician(client, clinic):
    login(client, clinic.director)
    url = reverse("measures:setup", args=[clinic.su.public_id])
    html = client.get(url).content.decode()
    assert "AUDIT" in html and "non-commercial" in html.lower()
    data = {"escalation_minutes": "30", "email_label": "Site B", "on_call": str(clinic.director.public_id)}
    for code in ("phq9", "audit"):
        data.update({f"{code}-is_active": "on", f"{code}-at_intake": "on", f"{code}-weekly": "on",
                     f"{code}-weekly_weekday": "3", f"{code}-follow_up_days": "30"})  # fmt: skip
    for code in ("gad7", "auditc", "pcl5", "cssrs_screener", "bam", "dast10"):
        data[f"{code}-weekly_weekday"] = "0"
    assert client.post(url, data).status_code == 302
    from openiop.measures.schedules import config_for, schedules_for

    clinic.su.refresh_from_db()
    assert sorted(s.instrument_code for s in schedules_for(clinic.su)) == ["audit", "phq9"]
    config = config_for(clinic.su)
    assert (config.escalation_minutes, config.email_label, config.on_call) == (30, "Site B", clinic.director)
    data["on_call"] = str(clinic.clinician.public_id)  # not staff of the SU program
    assert client.post(url, data).status_code == 200


def test_discharged_patients_keep_their_history_on_the_tab(client, clinic, patient):
    completed(patient, clinic.clinician, "phq9", phq9(9))
    do_change_episode_status(patient.episodes.get(), acting_user=clinic.clinician, status="discharged",
                             on_date=date(2026, 11, 30), discharge_reason="1")  # fmt: skip
    login(client, clinic.clinician)
    html = client.get(reverse("patients:chart_tab", args=[patient.public_id, "measures"]), **HTMX).content.decode()
    assert "History" in html and "Start a questionnaire" not in html


def test_the_mfa_page_does_not_ask_for_the_banner(client, clinic, settings):
    settings.MFA_REQUIRED_ROLES = ["clinician"]
    login(client, clinic.clinician)  # signed in, second factor not yet given
    response = client.get(reverse("accounts:mfa_enroll"))
    assert response.status_code == 200
    assert reverse("measures:alert_banner") not in response.content.decode()
