"""Staff side of the practice log: the chart's Skills practice tab (VIEW_CLINICAL, audited, scoped by the entry's
program so substance-use entries stay with that program's staff, a fixed number of queries), the program's
skills list page, and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_open_episode
from openiop.portal.tests.care_support import patient_account
from openiop.skills.actions import do_log_practice
from openiop.skills.models import PracticePolicy

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def logged(patient):
    """Two entries in the patient's mental-health episode and one in a substance-use episode."""
    writer = patient_account(patient).user
    mh = patient.episodes.get()
    su = do_open_episode(patient, acting_user=None, program=mh.program.site.programs.get(focus="substance_use"),
                         admitted_on=timezone.localdate() - timedelta(days=3))  # fmt: skip
    now = timezone.now()
    for days, mood in ((2, 3), (1, 6)):
        when = now - timedelta(days=days)
        do_log_practice(patient, acting_user=writer, episode=mh, skill="Box breathing", practiced_at=when, mood=mood,
                        how_it_went=f"Mood went to {mood}.")  # fmt: skip
    do_log_practice(patient, acting_user=writer, episode=su, skill="Urge surfing", practiced_at=now, mood=5,
                    craving=7, how_it_went="Rode the urge out.")  # fmt: skip
    return patient


def _tab(patient):
    return reverse("patients:chart_tab", args=[patient.public_id, "practice"])


@pytest.mark.parametrize(("who", "status"), [("clinician", 200), ("director", 200), ("intern", 200),
                                             ("frontdesk", 403), ("billing", 403), ("outsider", 404),
                                             ("stranger", 404)])  # fmt: skip
def test_the_tab_access_matrix(client, clinic, logged, who, status):
    client.force_login(getattr(clinic, who))
    assert client.get(_tab(logged), **HTMX).status_code == status


def test_the_tab_shows_entries_and_chart_and_is_audited(client, clinic, logged):
    client.force_login(clinic.director)  # member of both programs
    response = client.get(_tab(logged), **HTMX)
    page = response.content.decode()
    assert "Mood went to 3." in page and "Rode the urge out." in page and 'class="sp-chart"' in page
    assert '<th scope="col">Craving</th>' in page and "sp-craving" in page
    row = AuditEvent.objects.latest("chain_index")
    assert (row.action, row.actor_id, row.object_type) == (AuditAction.RECORD_VIEWED, clinic.director.pk, "practice")
    full = client.get(f"{logged.get_absolute_url()}?tab=practice").content.decode()
    assert "Skills practice" in full and "Mood went to 6." in full


def test_substance_use_entries_stay_with_that_programs_staff(client, clinic, logged):
    client.force_login(clinic.clinician)  # adult mental health only
    page = client.get(_tab(logged), **HTMX).content.decode()
    assert "Mood went to 3." in page and "Rode the urge out." not in page and "Craving" not in page


def test_the_tab_costs_the_same_queries_for_more_entries(client, clinic, logged):
    client.force_login(clinic.director)

    def load() -> int:
        with CaptureQueriesContext(connection) as ctx:
            client.get(_tab(logged), **HTMX)
        return len(ctx.captured_queries)

    count = load()
    writer = logged.portal_accounts.get().user
    for n in range(5):
        do_log_practice(logged, acting_user=writer, episode=logged.episodes.first(), skill="Box breathing",
                        practiced_at=timezone.now() - timedelta(hours=n))  # fmt: skip
    assert load() == count


@pytest.mark.parametrize(("who", "status"), [("director", 200), ("sysadmin", 200), ("clinician", 403),
                                             ("frontdesk", 403), ("stranger", 404)])  # fmt: skip
def test_the_setup_page_access(client, clinic, who, status):
    client.force_login(getattr(clinic, who))
    assert client.get(reverse("skills:setup", args=[clinic.mh.public_id])).status_code == status


def test_the_setup_page_saves_the_list_and_keeps_typing_on_error(client, clinic):
    client.force_login(clinic.director)
    url = reverse("skills:setup", args=[clinic.mh.public_id])
    assert "Urge surfing" in client.get(url).content.decode()
    response = client.post(url, {"skills": "Wise mind\nOther", "craving": "ask"})
    assert response.status_code == 422
    assert "always offered" in response.content.decode() and "Wise mind" in response.content.decode()
    response = client.post(url, {"skills": "Wise mind\nDEAR MAN\n", "craving": "ask"})
    assert response.status_code == 302
    row = PracticePolicy.objects.get(program=clinic.mh)
    assert (row.skills, row.craving) == (["Wise mind", "DEAR MAN"], "ask")


def test_the_api_lists_a_patients_and_an_episodes_entries(client, clinic, logged):
    client.force_login(clinic.clinician)
    response = client.get(f"/api/v1/patients/{logged.public_id}/skills-practice")
    assert response.status_code == 200
    body = response.json()
    assert [e["skill_label"] for e in body] == ["Box breathing", "Box breathing"]  # no substance-use entry
    assert body[0]["mood"] == 6 and set(body[0]) >= {"id", "episode", "practiced_at", "how_it_went", "craving"}
    row = AuditEvent.objects.latest("chain_index")
    assert (row.action, row.object_type) == (AuditAction.RECORD_VIEWED, "practice_log")
    su = logged.episodes.get(program=clinic.su)
    assert client.get(f"/api/v1/episodes/{su.public_id}/skills-practice").status_code == 404
    client.force_login(clinic.director)
    body = client.get(f"/api/v1/episodes/{su.public_id}/skills-practice").json()
    assert [(e["skill_label"], e["craving"]) for e in body] == [("Urge surfing", 7)]


@pytest.mark.parametrize(("who", "status"), [("frontdesk", 403), ("outsider", 404)])
def test_the_api_access(client, clinic, logged, who, status):
    client.force_login(getattr(clinic, who))
    assert client.get(f"/api/v1/patients/{logged.public_id}/skills-practice").status_code == status


def test_a_portal_login_cannot_use_the_api(client, logged):
    client.force_login(logged.portal_accounts.get().user)
    assert client.get(f"/api/v1/patients/{logged.public_id}/skills-practice").status_code == 401  # not a staff login
