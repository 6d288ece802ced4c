"""The chart's Reminders tab, the staff edit page and the patient's portal page: access, audit, errors, queries."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from openiop.accounts.models import User
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_add_support_contact
from openiop.portal.models import AccountKind, PortalAccount
from openiop.reminders.models import ChangeSource, ChannelChange, Reminder, ReminderPreference
from openiop.reminders.planner import plan_reminders
from openiop.reminders.tests.conftest import opt_in
from openiop.testing.fixtures import make_patient
from openiop.testing.scheduling import make_booking, make_session

HTMX = {"HTTP_HX_REQUEST": "true"}
PORTAL = reverse("reminders:portal_preferences")


def _tab(patient) -> str:
    return reverse("patients:chart_tab", args=[patient.public_id, "reminders"])


def _edit(patient) -> str:
    return reverse("reminders:staff_preferences", args=[patient.public_id])


def portal_login(patient, kind: str = AccountKind.PATIENT, contact=None) -> User:
    user = User.objects.create_user(username=f"portal-{kind}-{patient.pk}", password="x" * 16)
    PortalAccount.objects.create(user=user, kind=kind, patient=patient, contact=contact)
    return user


# --- Staff: the chart tab ---------------------------------------------------------------------------------------


def test_tab_shows_choices_history_and_recent_reminders_and_is_audited(client, clinic, patient):
    opt_in(patient, clinic.clinician, email=True, sms=True)
    make_booking(make_session(clinic.mh, timezone.now() + timedelta(hours=20)), patient)
    plan_reminders()
    html = login(client, clinic.frontdesk).get(_tab(patient), **HTMX).content.decode()
    assert "Opted in" in html and "Email opted in" in html and "Clinician Tester" in html
    assert html.count("reminder-status-") == Reminder.objects.count() > 0
    assert "Change preferences" in html  # front desk edits contact details
    assert AuditEvent.objects.filter(action=AuditAction.RECORD_VIEWED, object_type="reminders").exists()


def test_tab_is_read_only_without_edit_demographics(client, clinic, patient):
    html = login(client, clinic.billing).get(_tab(patient), **HTMX).content.decode()
    assert "Change preferences" not in html and "Not opted in" in html


def test_tab_access_matrix(client, clinic, patient):
    assert login(client, clinic.outsider).get(_tab(patient), **HTMX).status_code == 404
    assert login(client, clinic.stranger).get(_tab(patient), **HTMX).status_code == 404
    assert login(client, clinic.sysadmin).get(_tab(patient), **HTMX).status_code == 403


def test_tab_lists_only_reminders_of_the_users_programs(client, clinic, patient):
    """A reminder for a substance-use session is invisible to mental-health staff (42 CFR Part 2)."""
    from openiop.patients.actions import do_open_episode

    su_episode = do_open_episode(patient, acting_user=None, program=clinic.su, status="active",
                                 admitted_on=timezone.localdate())  # fmt: skip
    opt_in(patient, clinic.clinician, email=True)
    make_booking(make_session(clinic.su, timezone.now() + timedelta(hours=20)), patient, episode=su_episode)
    plan_reminders()
    assert Reminder.objects.filter(program=clinic.su).exists()
    assert "reminder-status-" not in login(client, clinic.clinician).get(_tab(patient), **HTMX).content.decode()
    assert "reminder-status-" in login(client, clinic.director).get(_tab(patient), **HTMX).content.decode()


def test_tab_query_count_does_not_grow_with_reminders(client, clinic, patient):
    opt_in(patient, clinic.clinician, email=True, quiet_start=time(0), quiet_end=time(0))
    client = login(client, clinic.frontdesk)
    make_booking(make_session(clinic.mh, timezone.now() + timedelta(hours=20)), patient)
    plan_reminders()
    with CaptureQueriesContext(connection) as before:
        client.get(_tab(patient), **HTMX)
    for hours in (21, 22, 23):
        make_booking(make_session(clinic.mh, timezone.now() + timedelta(hours=hours), minutes=30), patient)
    plan_reminders()
    with CaptureQueriesContext(connection) as after:
        html = client.get(_tab(patient), **HTMX).content.decode()
    assert html.count("reminder-status-") == Reminder.objects.count() == 4  # the 2-hour ones (24 h has passed)
    assert len(after) == len(before)


# --- Staff: the edit page ---------------------------------------------------------------------------------------


def test_staff_opt_in_is_saved_recorded_with_who_and_audited(client, clinic, patient):
    response = login(client, clinic.frontdesk).post(
        _edit(patient), {"email_opt_in": "on", "quiet_start": "22:00", "quiet_end": "07:00"}
    )
    assert response.status_code == 302 and response["Location"].endswith("?tab=reminders")
    pref = ReminderPreference.objects.get(patient=patient)
    assert (pref.email_opt_in, pref.sms_opt_in, pref.quiet_start, pref.quiet_end) == (True, False, time(22), time(7))
    change = ChannelChange.objects.get(patient=patient)
    assert (change.channel, change.opted_in, change.source, change.changed_by) == (
        "email", True, ChangeSource.STAFF, clinic.frontdesk,
    )  # fmt: skip
    event = AuditEvent.objects.filter(object_type="reminderpreference").get()
    assert event.action == AuditAction.CREATED and event.actor == clinic.frontdesk
    assert "quiet_start" in event.changed_fields


def test_staff_form_keeps_what_was_typed_and_names_the_field(client, clinic):
    patient = make_patient(clinic, phone_mobile="")
    response = login(client, clinic.frontdesk).post(_edit(patient), {"sms_opt_in": "on", "quiet_start": "22:00"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "no mobile number on file" in html and "Give both ends of the quiet hours" in html
    assert 'value="22:00"' in html
    assert not ReminderPreference.objects.exists()


def test_staff_edit_access_matrix(client, clinic, patient):
    assert login(client, clinic.billing).get(_edit(patient)).status_code == 403
    assert login(client, clinic.auditor).post(_edit(patient), {"email_opt_in": "on"}).status_code == 403
    assert login(client, clinic.outsider).get(_edit(patient)).status_code == 404
    assert login(client, clinic.stranger).post(_edit(patient), {"email_opt_in": "on"}).status_code == 404
    assert not ReminderPreference.objects.exists()
    client.logout()
    assert client.get(_edit(patient)).status_code == 302


# --- The patient's portal page ---------------------------------------------------------------------------------


def test_patient_sets_channels_and_quiet_hours_in_the_portal(client, clinic, patient):
    user = portal_login(patient)
    client.force_login(user)
    page = client.get(PORTAL)
    assert page.status_code == 200 and "Reminders" in page.content.decode()
    response = client.post(PORTAL, {"email_opt_in": "on", "sms_opt_in": "on", "quiet_start": "20:00",
                                    "quiet_end": "09:00"})  # fmt: skip
    assert response.status_code == 302
    pref = ReminderPreference.objects.get(patient=patient)
    assert (pref.email_opt_in, pref.sms_opt_in, pref.quiet_start) == (True, True, time(20))
    changes = ChannelChange.objects.filter(patient=patient)
    assert {(c.channel, c.source, c.changed_by_id) for c in changes} == {
        ("email", ChangeSource.PORTAL, user.pk), ("sms", ChangeSource.PORTAL, user.pk),
    }  # fmt: skip
    client.post(PORTAL, {"email_opt_in": "on"})  # opts out of SMS, clears the quiet hours
    pref.refresh_from_db()
    assert (pref.sms_opt_in, pref.quiet_start) == (False, None)
    assert ChannelChange.objects.filter(patient=patient, channel="sms", opted_in=False).count() == 1


def test_portal_page_shows_errors_and_keeps_what_was_typed(client, clinic):
    patient = make_patient(clinic, email="")
    client.force_login(portal_login(patient))
    html = client.post(PORTAL, {"email_opt_in": "on", "quiet_end": "07:30"}).content.decode()
    assert "no email address on file" in html and 'value="07:30"' in html


def test_portal_page_works_only_on_the_accounts_own_patient(client, clinic, patient):
    other = make_patient(clinic, legal_first_name="Sam", legal_last_name="Other", email="sam@example.org")
    opt_in(other, clinic.clinician, email=True)
    client.force_login(portal_login(patient))
    client.post(PORTAL, {})
    assert ReminderPreference.objects.get(patient=other).email_opt_in is True
    assert "sam@example.org" not in client.get(PORTAL).content.decode()


def test_portal_page_refuses_staff_family_and_anonymous(client, clinic, patient):
    assert login(client, clinic.clinician).get(PORTAL).status_code == 404
    contact = do_add_support_contact(patient, acting_user=clinic.clinician, name="Pat Rivera", relationship="parent",
                                     email="pat@example.org")  # fmt: skip
    client.force_login(portal_login(patient, AccountKind.FAMILY, contact))
    assert client.get(PORTAL).status_code == 403
    assert client.post(PORTAL, {"email_opt_in": "on"}).status_code == 403
    client.logout()
    # Anonymous visitors are sent to the portal login; until that page exists the redirect cannot be built.
    try:
        response = client.get(PORTAL)
    except NoReverseMatch as exc:
        assert "portal:login" in str(exc) or "'login'" in str(exc)
    else:
        assert response.status_code == 302 and "next=" in response["Location"]
    assert not ReminderPreference.objects.exists()


@pytest.mark.parametrize("active", [False])
def test_a_deactivated_portal_account_gets_404(client, clinic, patient, active):
    user = portal_login(patient)
    PortalAccount.objects.filter(user=user).update(is_active=active)
    client.force_login(user)
    assert client.get(PORTAL).status_code == 404
