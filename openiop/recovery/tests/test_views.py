"""Staff side: the chart's Recovery supports tab (VIEW_CLINICAL, audited, scoped by the row's program so a
substance-use program's meetings stay with its staff) and the program's setup page (MANAGE_PROGRAMS)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_open_episode
from openiop.portal.tests.care_support import patient_account
from openiop.recovery.models import MeetingAttendance, RecoveryPolicy
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
    writer = patient_account(patient).user
    su = do_open_episode(patient, acting_user=None, program=clinic.su, admitted_on=timezone.localdate())
    log_meetings(patient, writer, days=(1,), note="MH side.", episode=patient.episodes.get(program=clinic.mh))
    log_meetings(patient, writer, days=(0,), kind="na", note="SU side.", episode=su)
    client.force_login(clinic.clinician)  # adult mental health only
    page = client.get(_tab(patient), **HTMX).content.decode()
    # The kind in the list only: the entry form offers every kind.
    assert "MH side." in page and "SU side." not in page and '<th scope="row">Narcotics' not in page
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


# --- Staff entering a meeting the patient reported in session ---------------------------------------------------


def _log_url(patient):
    return reverse("recovery:log_meeting", args=[patient.public_id])


def _meeting(**values):
    today = timezone.localdate()
    fields = {"met_on": today.isoformat(), "kind": "smart", "mode": "online", "note": "Went with a friend."} | values
    return {f"meeting-{k}": v for k, v in fields.items()}


@pytest.mark.parametrize(("who", "status"), [("clinician", 200), ("intern", 200), ("director", 200),
                                             ("auditor", 403), ("frontdesk", 403), ("billing", 403),
                                             ("outsider", 404), ("stranger", 404)])  # fmt: skip
def test_the_staff_entry_access_matrix(client, clinic, patient, who, status):
    client.force_login(getattr(clinic, who))
    assert client.post(_log_url(patient), _meeting(), **HTMX).status_code == status
    assert MeetingAttendance.objects.exists() is (status == 200)


def test_the_form_shows_only_to_staff_who_may_write(client, clinic, patient):
    client.force_login(clinic.clinician)
    assert 'id="staff-meeting-form"' in client.get(_tab(patient), **HTMX).content.decode()
    client.force_login(clinic.auditor)
    assert 'id="staff-meeting-form"' not in client.get(_tab(patient), **HTMX).content.decode()


def test_staff_enter_a_meeting_audited_and_the_patient_sees_it_as_theirs_to_read_only(client, clinic, patient):
    client.force_login(clinic.clinician)
    response = client.post(_log_url(patient), _meeting(), **HTMX)
    assert response.status_code == 200
    meeting = MeetingAttendance.objects.get()
    assert (meeting.entered_by, meeting.kind, meeting.episode) == (clinic.clinician, "smart", patient.episodes.get())
    page = response.content.decode()
    assert 'id="recovery-meetings-block"' in page and "SMART Recovery" in page and "(staff)" in page
    created = AuditEvent.objects.filter(action=AuditAction.CREATED, object_type="meetingattendance").get()
    assert created.actor_id == clinic.clinician.pk and "note" in created.changed_fields
    viewed = AuditEvent.objects.latest("chain_index")
    assert (viewed.action, viewed.object_type) == (AuditAction.RECORD_VIEWED, "recovery")
    # Without HTMX: back to the tab.
    response = client.post(_log_url(patient), _meeting(kind="na"))
    assert response.status_code == 302 and response["Location"].endswith("?tab=recovery")
    # The portal shows it as entered by the care team, with no way to change it.
    client.force_login(patient_account(patient).user)
    portal = client.get(reverse("portal:recovery")).content.decode()
    assert "entered by your care team" in portal and "SMART Recovery" in portal
    assert reverse("portal:recovery_meeting_edit", args=[meeting.public_id]) not in portal
    edit = client.post(reverse("portal:recovery_meeting_edit", args=[meeting.public_id]),
                       {"met_on": meeting.met_on.isoformat(), "kind": "aa", "mode": "online"})  # fmt: skip
    assert edit.status_code == 422
    meeting.refresh_from_db()
    assert meeting.kind == "smart"


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"met_on": "tomorrow"}, "met_on", "Enter a valid date."),
    ({"kind": "other", "kind_other": ""}, "kind_other", "Say which meeting it was."),
])  # fmt: skip
def test_a_refused_entry_answers_422_naming_the_field_and_keeps_what_was_typed(
    client, clinic, patient, values, field, message
):
    client.force_login(clinic.clinician)
    response = client.post(_log_url(patient), _meeting(**values), **HTMX)
    page = response.content.decode()
    assert response.status_code == 422 and message in page and f"meeting-{field}_error" in page
    assert "Went with a friend." in page and not MeetingAttendance.objects.exists()


@pytest.mark.parametrize(("days", "message"), [(-1, "That date is still to come."),
                                               (15, "Log meetings from the last 14 days.")])  # fmt: skip
def test_the_portals_date_rules_hold_for_staff_too(client, clinic, patient, days, message):
    client.force_login(clinic.clinician)
    met_on = (timezone.localdate() - timedelta(days=days)).isoformat()
    response = client.post(_log_url(patient), _meeting(met_on=met_on))  # without HTMX: the meetings page
    page = response.content.decode()
    assert response.status_code == 422 and message in page and f'value="{met_on}"' in page
    assert "Back to the chart" in page and not MeetingAttendance.objects.exists()


def test_the_programs_page_links_to_the_recovery_setup(client, clinic):
    client.force_login(clinic.director)
    page = client.get(clinic.su.get_absolute_url()).content.decode()
    assert reverse("recovery:setup", args=[clinic.su.public_id]) in page
