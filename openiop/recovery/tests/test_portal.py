"""The patient's Recovery page in the portal: who reaches it (anonymous -> portal login, staff 404, family 403,
another patient's meeting 404), logging a meeting (a 422 keeping what was typed and naming the field), the edit
window, the sponsor, the check-in only where the program asks it and it is due, and the audit rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.portal.tests.care_support import family_account, patient_account
from openiop.recovery.actions import current_sponsor, do_set_recovery_policy
from openiop.recovery.models import CapitalCheckIn, MeetingAttendance
from openiop.recovery.tests.support import log_meetings
from openiop.testing.fixtures import make_patient


@pytest.fixture
def meeting(su_patient, account):
    return log_meetings(su_patient, account.user, days=(1,))[0]


def _urls(meeting) -> list[tuple[str, str]]:
    return [
        ("get", reverse("portal:recovery")),
        ("post", reverse("portal:recovery_sponsor")),
        ("post", reverse("portal:recovery_check_in")),
        ("get", reverse("portal:recovery_meeting_edit", args=[meeting.public_id])),
    ]


def test_anonymous_visitors_go_to_the_portal_login(client, meeting):
    for method, url in _urls(meeting):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))


@pytest.mark.parametrize("who", ["director", "clinician", "stranger"])
def test_staff_logins_get_404(client, clinic, meeting, who):
    client.force_login(getattr(clinic, who))
    for method, url in _urls(meeting):
        assert getattr(client, method)(url).status_code == 404, url


def test_a_family_login_gets_403(client, su_patient, meeting):
    client.force_login(family_account(su_patient).user)
    for method, url in _urls(meeting):
        assert getattr(client, method)(url).status_code == 403, url


def test_another_patients_meeting_is_404(client, clinic, meeting):
    other = make_patient(clinic, clinic.su, legal_first_name="Blair", email="blair@example.org")
    client.force_login(patient_account(other, "blair").user)
    url = reverse("portal:recovery_meeting_edit", args=[meeting.public_id])
    assert client.get(url).status_code == 404
    assert client.post(url, {"met_on": "2026-12-01", "kind": "na", "mode": "online"}).status_code == 404
    page = client.get(reverse("portal:recovery")).content.decode()
    assert "No meetings logged yet" in page and "Home group." not in page


def test_the_patient_logs_a_meeting_and_the_page_is_audited(client, su_patient, account):
    client.force_login(account.user)
    page = client.get(reverse("portal:recovery"))
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert 'id="meeting-form"' in page.content.decode() and 'href="/portal/recovery/"' in page.content.decode()
    viewed = AuditEvent.objects.latest("chain_index")
    assert (viewed.action, viewed.actor_id, viewed.object_type) == (
        AuditAction.RECORD_VIEWED, account.user.pk, "meeting_log",
    )  # fmt: skip
    today = timezone.localdate()
    response = client.post(reverse("portal:recovery"), {"meeting-met_on": today.isoformat(), "meeting-kind": "other",
                           "meeting-kind_other": "Recovery Dharma", "meeting-mode": "online",
                           "meeting-note": "Good share."})  # fmt: skip
    assert response.status_code == 302
    row = MeetingAttendance.objects.get()
    assert (row.kind_label, row.mode, row.met_on, row.entered_by_id) == ("Recovery Dharma", "online", today,
                                                                         account.user.pk)  # fmt: skip
    page = client.get(reverse("portal:recovery")).content.decode()
    assert "Recovery Dharma" in page and "Good share." in page and 'class="rc-strip"' in page
    assert reverse("portal:recovery_meeting_edit", args=[row.public_id]) in page


def test_bad_input_answers_422_naming_the_field_and_keeping_what_was_typed(client, account):
    client.force_login(account.user)
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = client.post(reverse("portal:recovery"), {"meeting-met_on": future, "meeting-kind": "aa",
                           "meeting-mode": "in_person", "meeting-note": "Typed words."})  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 422 and "That date is still to come." in page
    assert 'id="id_meeting-met_on_error"' in page and "Typed words." in page and f'value="{future}"' in page
    response = client.post(reverse("portal:recovery"), {"meeting-met_on": "yesterday", "meeting-kind": "other",
                           "meeting-mode": "in_person"})  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 422 and 'value="yesterday"' in page and "id_meeting-met_on_error" in page
    response = client.post(reverse("portal:recovery"), {"meeting-met_on": timezone.localdate().isoformat(),
                           "meeting-kind": "other", "meeting-mode": "in_person"})  # fmt: skip
    assert response.status_code == 422 and "Say which meeting it was." in response.content.decode()
    assert not MeetingAttendance.objects.exists()


def test_a_meeting_is_edited_by_its_writer_within_the_window(client, account, meeting):
    client.force_login(account.user)
    url = reverse("portal:recovery_meeting_edit", args=[meeting.public_id])
    assert 'id="meeting-form"' in client.get(url).content.decode()
    viewed = AuditEvent.objects.latest("chain_index")
    assert (viewed.action, viewed.object_type) == (AuditAction.RECORD_VIEWED, "meetingattendance")
    values = {"met_on": meeting.met_on.isoformat(), "kind": "na", "mode": "online", "note": ""}
    assert client.post(url, values).status_code == 302
    meeting.refresh_from_db()
    assert (meeting.kind, meeting.mode, meeting.note) == ("na", "online", "")
    MeetingAttendance.objects.filter(pk=meeting.pk).update(created_at=timezone.now() - timedelta(days=2))
    page = client.get(url).content.decode()
    assert 'id="meeting-form"' not in page and "can be changed for 24 hours" in page
    response = client.post(url, values | {"kind": "aa"})
    assert response.status_code == 422 and "can be changed for 24 hours" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.kind == "na"


def test_the_patient_names_and_removes_a_sponsor(client, su_patient, account):
    client.force_login(account.user)
    url = reverse("portal:recovery_sponsor")
    response = client.post(url, {"sponsor-name": "", "sponsor-phone": "555-0177"})
    assert response.status_code == 422 and "Say your sponsor&#x27;s name." in response.content.decode()
    assert 'value="555-0177"' in response.content.decode()
    assert client.post(url, {"sponsor-name": "Dana Whitfield", "sponsor-phone": "555-0177"}).status_code == 302
    assert getattr(current_sponsor(su_patient), "relationship", "") == "sponsor"
    assert 'value="Dana Whitfield"' in client.get(reverse("portal:recovery")).content.decode()
    assert client.post(url, {"sponsor-name": "", "sponsor-phone": ""}).status_code == 302
    assert current_sponsor(su_patient) is None


def test_the_check_in_is_asked_only_where_the_program_turns_it_on_and_it_is_due(client, clinic, account):
    client.force_login(account.user)
    url = reverse("portal:recovery_check_in")
    ratings = {"capital-social": "2", "capital-physical": "3", "capital-human": "4", "capital-cultural": "5"}
    assert 'id="capital-form"' not in client.get(reverse("portal:recovery")).content.decode()
    assert client.post(url, ratings).status_code == 404
    do_set_recovery_policy(clinic.su, acting_user=clinic.director, capital_check_ins=True, capital_every_days=14)
    assert 'id="capital-form"' in client.get(reverse("portal:recovery")).content.decode()
    response = client.post(url, ratings | {"capital-human": "9"})
    assert response.status_code == 422 and "id_capital-human_error" in response.content.decode()
    assert client.post(url, ratings).status_code == 302
    assert CapitalCheckIn.objects.get().cultural == 5
    assert 'id="capital-form"' not in client.get(reverse("portal:recovery")).content.decode()  # not due again yet
    assert client.post(url, ratings).status_code == 404


def test_a_patient_without_an_open_episode_reads_the_log_but_logs_nothing(client, clinic):
    patient = make_patient(clinic, clinic.su, admit=False, legal_first_name="Casey", email="casey@example.org")
    client.force_login(patient_account(patient, "casey").user)
    page = client.get(reverse("portal:recovery")).content.decode()
    assert "Meetings can be logged while you are in a program." in page and 'id="meeting-form"' not in page
    values = {"meeting-met_on": timezone.localdate().isoformat(), "meeting-kind": "aa", "meeting-mode": "online"}
    assert client.post(reverse("portal:recovery"), values).status_code == 404
