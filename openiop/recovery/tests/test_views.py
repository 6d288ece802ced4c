"""Staff side: the chart's Recovery supports tab (VIEW_CLINICAL, audited, scoped by the row's program so a
substance-use program's meetings stay with its staff) and the program's setup page (MANAGE_PROGRAMS)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_open_episode
from openiop.portal.tests.care_support import patient_account
from openiop.recovery.models import RecoveryPolicy
from openiop.recovery.tests.support import log_meetings, with_supports

HTMX = {"HTTP_HX_REQUEST": "true"}


def _tab(patient):
    return reverse("patients:chart_tab", args=[patient.public_id, "recovery"])


@pytest.fixture
def mh_logged(clinic, patient):
    """An Adult MH patient (the clinician's) with meetings, a sponsor and check-ins."""
    return with_supports(clinic, patient, patient_account(patient).user)


@pytest.mark.parametrize(("who", "status"), [("clinician", 200), ("director", 200), ("intern", 200),
                                             ("frontdesk", 403), ("billing", 403), ("outsider", 404),
                                             ("stranger", 404)])  # fmt: skip
def test_the_tab_access_matrix(client, mh_logged, clinic, who, status):
    client.force_login(getattr(clinic, who))
    assert client.get(_tab(mh_logged), **HTMX).status_code == status


def test_the_tab_shows_meetings_per_week_sponsor_and_check_ins_and_is_audited(client, clinic, mh_logged):
    client.force_login(clinic.clinician)
    page = client.get(_tab(mh_logged), **HTMX).content.decode()
    assert 'class="rc-strip"' in page and "Home group." in page and "Alcoholics Anonymous (AA)" in page
    assert "Dana Whitfield" in page and "555-0177" in page
    assert 'class="rc-chart"' in page and "not a validated score" in page and "Community" in page
    assert "(last 8 weeks: 3)" in page
    row = AuditEvent.objects.latest("chain_index")
    assert (row.action, row.actor_id, row.object_type) == (AuditAction.RECORD_VIEWED, clinic.clinician.pk, "recovery")
    full = client.get(f"{mh_logged.get_absolute_url()}?tab=recovery").content.decode()
    assert "Recovery supports" in full and "Home group." in full


def test_substance_use_meetings_stay_with_that_programs_staff(client, clinic, patient):
    from django.utils import timezone

    writer = patient_account(patient).user
    su = do_open_episode(patient, acting_user=None, program=clinic.su, admitted_on=timezone.localdate())
    log_meetings(patient, writer, days=(1,), note="MH side.", episode=patient.episodes.get(program=clinic.mh))
    log_meetings(patient, writer, days=(0,), kind="na", note="SU side.", episode=su)
    client.force_login(clinic.clinician)  # adult mental health only
    page = client.get(_tab(patient), **HTMX).content.decode()
    assert "MH side." in page and "SU side." not in page and "Narcotics" not in page
    client.force_login(clinic.director)  # both programs
    page = client.get(_tab(patient), **HTMX).content.decode()
    assert "MH side." in page and "SU side." in page


def test_an_empty_tab_says_where_meetings_come_from(client, clinic, patient):
    client.force_login(clinic.clinician)
    page = client.get(_tab(patient), **HTMX).content.decode()
    assert "No meetings logged yet" in page and "None named" in page and "rc-chart" not in page


@pytest.mark.parametrize(("who", "status"), [("director", 200), ("sysadmin", 200), ("clinician", 403),
                                             ("frontdesk", 403), ("stranger", 404)])  # fmt: skip
def test_the_setup_page_access(client, clinic, who, status):
    client.force_login(getattr(clinic, who))
    assert client.get(reverse("recovery:setup", args=[clinic.su.public_id])).status_code == status


def test_the_setup_page_saves_and_keeps_typing_on_error(client, clinic):
    client.force_login(clinic.director)
    url = reverse("recovery:setup", args=[clinic.su.public_id])
    response = client.post(url, {"capital_check_ins": "on", "capital_every_days": "200"})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'value="200"' in page and "capital_every_days_error" in page
    assert not RecoveryPolicy.objects.exists()
    assert client.post(url, {"capital_check_ins": "on", "capital_every_days": "21"}).status_code == 302
    row = RecoveryPolicy.objects.get(program=clinic.su)
    assert (row.capital_check_ins, row.capital_every_days) == (True, 21)
