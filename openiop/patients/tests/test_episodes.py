"""Episodes of care: opening, editing, status changes and the care team, through the views and the actions."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.actions import do_set_staff_active
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.core.roles import Role
from openiop.patients.actions import (
    do_change_episode_status,
    do_open_episode,
    do_set_care_team,
    do_set_patient_active,
    do_update_episode,
)
from openiop.patients.models import CareTeamMember, EpisodeOfCare, current_episode
from openiop.patients.tests.helpers import HTMX
from openiop.programs.actions import do_create_track, do_set_track_active
from openiop.testing.fixtures import make_patient, staff


def _last_audit() -> AuditEvent:
    return AuditEvent.objects.latest("chain_index")


@pytest.fixture
def newcomer(clinic):
    return make_patient(clinic, legal_first_name="Nova", legal_last_name="New", admit=False)


def _open_url(patient):
    return reverse("patients:episode_open", args=[patient.public_id])


# --- Opening ---------------------------------------------------------------------------------------------------


def test_admitting_through_the_form(client, clinic, newcomer):
    login(client, clinic.clinician)
    data = {
        "program": str(clinic.mh.public_id),
        "status": "active",
        "admitted_on": "2026-11-16",
        "track": str(clinic.evening.public_id),
        "primary_clinician": str(clinic.clinician.public_id),
    }
    response = client.post(_open_url(newcomer), data)
    assert response.status_code == 302
    assert response["Location"] == f"{newcomer.get_absolute_url()}?tab=episodes"
    episode = newcomer.episodes.get()
    assert (episode.status, episode.program, episode.track) == ("active", clinic.mh, clinic.evening)
    assert episode.admitted_on == date(2026, 11, 16)
    assert episode.expected_discharge_on == date(2026, 11, 16) + timedelta(weeks=clinic.mh.max_length_weeks)
    assert list(episode.team_members.values_list("user__username", "team_role")) == [("clinician", "primary")]
    row = _last_audit()
    assert (row.action, row.patient, row.object_type) == (AuditAction.CREATED, newcomer, "episodeofcare")
    assert {"status", "program", "admitted_on", "track", "primary_clinician"} <= set(row.changed_fields)
    assert "2026" not in json.dumps(row.changed_fields)


def test_waitlisting_through_the_form_drops_an_admission_date(client, clinic, newcomer):
    login(client, clinic.intake)
    data = {
        "program": str(clinic.su.public_id),
        "status": "waitlist",
        "admitted_on": "2026-11-16",
        "waitlisted_on": "2026-11-10",
    }
    assert client.post(_open_url(newcomer), data).status_code == 302
    episode = newcomer.episodes.get()
    assert (episode.status, episode.program, episode.waitlisted_on, episode.admitted_on) == (
        "waitlist",
        clinic.su,
        date(2026, 11, 10),
        None,
    )


def test_admitting_without_a_date_is_a_field_error_and_keeps_the_choices(client, clinic, newcomer):
    login(client, clinic.clinician)
    data = {"program": str(clinic.mh.public_id), "status": "active", "track": str(clinic.day.public_id)}
    response = client.post(_open_url(newcomer), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_admitted_on_error"' in body
    assert f'<option value="{clinic.day.public_id}" selected>' in body
    assert re.search(r'value="active"[^>]*checked', body)
    assert not newcomer.episodes.exists()


def test_program_choices_are_the_users_programs(client, clinic, newcomer):
    login(client, clinic.clinician)
    body = client.get(_open_url(newcomer)).content.decode()
    assert clinic.mh.name in body
    assert clinic.su.name not in body
    assert clinic.teen.name not in body


def test_picking_a_program_loads_its_tracks_and_clinicians(client, clinic, newcomer):
    su_clinician = staff(clinic.org, "suclin", Role.CLINICIAN, [clinic.su])
    su_track = do_create_track(
        acting_user=None,
        program=clinic.su,
        name="SU Evening",
        weekdays=[1, 3],
        start_time=clinic.evening.start_time,
        end_time=clinic.evening.end_time,
    )
    login(client, clinic.director)
    url = reverse("patients:episode_program_fields")
    body = client.get(url, {"program": str(clinic.su.public_id)}, **HTMX).content.decode()
    assert "SU Evening" in body
    assert str(su_track.public_id) in body
    assert su_clinician.display_name in body
    assert clinic.day.name + " (" not in body
    assert "Clinician Tester" not in body  # Adult MH staff only
    assert "Frontdesk" not in body and "Billing" not in body  # not clinical roles


def test_the_open_form_wires_the_program_picker_to_htmx(client, clinic, newcomer):
    login(client, clinic.director)
    body = client.get(_open_url(newcomer)).content.decode()
    assert f'hx-get="{reverse("patients:episode_program_fields")}"' in body
    assert 'hx-target="#episode-program-fields"' in body


def test_a_track_of_another_program_is_rejected(client, clinic, newcomer):
    login(client, clinic.director)
    data = {
        "program": str(clinic.su.public_id),
        "status": "active",
        "admitted_on": "2026-11-16",
        "track": str(clinic.day.public_id),
    }
    response = client.post(_open_url(newcomer), data)
    assert 'id="id_track_error"' in response.content.decode()
    assert not newcomer.episodes.exists()


def test_a_primary_clinician_from_another_program_is_rejected(client, clinic, newcomer):
    login(client, clinic.director)
    data = {
        "program": str(clinic.su.public_id),
        "status": "active",
        "admitted_on": "2026-11-16",
        "primary_clinician": str(clinic.clinician.public_id),
    }
    response = client.post(_open_url(newcomer), data)
    assert 'id="id_primary_clinician_error"' in response.content.decode()
    assert not newcomer.episodes.exists()


def test_one_open_episode_per_program(client, clinic, patient):
    login(client, clinic.clinician)
    data = {"program": str(clinic.mh.public_id), "status": "waitlist"}
    response = client.post(_open_url(patient), data)
    assert "This patient already has an open episode in this program." in response.content.decode()
    assert patient.episodes.count() == 1


def test_a_second_program_can_have_its_own_open_episode(clinic, patient):
    do_open_episode(patient, acting_user=None, program=clinic.su, status="waitlist")
    assert patient.episodes.exclude(status="discharged").count() == 2


def test_readmission_after_discharge_is_a_new_episode(clinic, patient, episode):
    do_change_episode_status(
        episode, acting_user=clinic.director, status="discharged", on_date=date(2026, 11, 20), discharge_reason="1"
    )
    again = do_open_episode(patient, acting_user=None, program=clinic.mh, admitted_on=date(2026, 11, 24))
    assert again.pk != episode.pk
    assert current_episode(patient.episodes.all()) == again


def test_an_inactive_record_cannot_get_an_episode(clinic, newcomer):
    do_set_patient_active(newcomer, acting_user=clinic.director, active=False, reason="Duplicate")
    with pytest.raises(ValidationError):
        do_open_episode(newcomer, acting_user=None, program=clinic.mh, admitted_on=date(2026, 11, 20))
    assert not newcomer.episodes.exists()


def test_a_retired_track_cannot_take_new_patients(clinic, newcomer):
    do_set_track_active(clinic.evening, acting_user=clinic.director, active=False)
    with pytest.raises(ValidationError) as err:
        do_open_episode(
            newcomer, acting_user=None, program=clinic.mh, admitted_on=date(2026, 11, 20), track=clinic.evening
        )
    assert "track" in err.value.message_dict


def test_a_new_episode_starts_active_or_waitlisted(clinic, newcomer):
    with pytest.raises(ValidationError):
        do_open_episode(newcomer, acting_user=None, program=clinic.mh, status="discharged")


# --- Editing ---------------------------------------------------------------------------------------------------


def test_editing_an_episode_changes_track_and_primary_and_keeps_the_old_primary_on_the_team(client, clinic, episode):
    login(client, clinic.clinician)
    url = reverse("patients:episode_edit", args=[episode.public_id])
    assert f'<option value="{clinic.day.public_id}" selected>' in client.get(url).content.decode()
    data = {
        "track": str(clinic.evening.public_id),
        "primary_clinician": str(clinic.intern.public_id),
        "admitted_on": "2026-11-02",
        "expected_discharge_on": "2027-01-25",
        "waitlisted_on": "",
    }
    assert client.post(url, data).status_code == 302
    episode.refresh_from_db()
    assert (episode.track, episode.primary_clinician) == (clinic.evening, clinic.intern)
    team = dict(episode.team_members.values_list("user__username", "team_role"))
    assert team == {"intern": "primary", "clinician": "therapist"}
    row = _last_audit()
    assert (row.action, row.object_type) == (AuditAction.UPDATED, "episodeofcare")
    assert row.changed_fields == ["primary_clinician", "track"]  # expected discharge was already Jan 25


def test_removing_the_primary_clinician_demotes_them(clinic, episode):
    do_update_episode(episode, acting_user=clinic.director, primary_clinician=None)
    assert dict(episode.team_members.values_list("user__username", "team_role")) == {"clinician": "therapist"}


def test_bad_episode_dates_re_render_with_errors(client, clinic, episode):
    login(client, clinic.clinician)
    url = reverse("patients:episode_edit", args=[episode.public_id])
    data = {"track": str(clinic.day.public_id), "admitted_on": "2026-11-02", "expected_discharge_on": "2026-10-01"}
    response = client.post(url, data)
    body = response.content.decode()
    assert "Expected discharge must be on or after admission." in body
    assert 'value="2026-10-01"' in body
    episode.refresh_from_db()
    assert episode.expected_discharge_on != date(2026, 10, 1)


def test_a_waitlisted_episode_has_no_admission_date_field(client, clinic, newcomer):
    episode = do_open_episode(newcomer, acting_user=None, program=clinic.mh, status="waitlist")
    login(client, clinic.clinician)
    body = client.get(reverse("patients:episode_edit", args=[episode.public_id])).content.decode()
    assert 'name="admitted_on"' not in body
    assert 'name="waitlisted_on"' in body


# --- Status changes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        ("waitlist", "active", True),
        ("waitlist", "on_hold", False),
        ("waitlist", "discharged", True),
        ("active", "on_hold", True),
        ("active", "waitlist", False),
        ("active", "discharged", True),
        ("on_hold", "active", True),
        ("on_hold", "discharged", True),
        ("discharged", "active", False),
        ("discharged", "waitlist", False),
    ],
)
def test_status_transitions(clinic, newcomer, start, target, allowed):
    episode = do_open_episode(
        newcomer,
        acting_user=None,
        program=clinic.mh,
        status="waitlist" if start == "waitlist" else "active",
        admitted_on=None if start == "waitlist" else date(2026, 11, 2),
    )
    if start == "on_hold":
        do_change_episode_status(episode, acting_user=clinic.director, status="on_hold", on_date=date(2026, 11, 5))
    if start == "discharged":
        do_change_episode_status(
            episode, acting_user=clinic.director, status="discharged", on_date=date(2026, 11, 5), discharge_reason="1"
        )
    change = {"acting_user": clinic.director, "status": target, "on_date": date(2026, 11, 9), "discharge_reason": "1"}
    if allowed:
        do_change_episode_status(episode, **change)
        episode.refresh_from_db()
        assert episode.status == target
    else:
        with pytest.raises(ValidationError) as err:
            do_change_episode_status(episode, **change)
        assert "status" in err.value.message_dict
        episode.refresh_from_db()
        assert episode.status == start


def test_admitting_from_the_waitlist_sets_the_admission_date(clinic, newcomer):
    episode = do_open_episode(newcomer, acting_user=None, program=clinic.mh, status="waitlist")
    changed = do_change_episode_status(episode, acting_user=clinic.director, status="active", on_date=date(2026, 11, 9))
    assert changed.admitted_on == date(2026, 11, 9)
    assert changed.expected_discharge_on == date(2026, 11, 9) + timedelta(weeks=clinic.mh.max_length_weeks)
    row = _last_audit()
    assert row.action == AuditAction.STATUS_CHANGED
    assert row.changed_fields == ["admitted_on", "expected_discharge_on", "status"]


def test_discharge_requires_a_reason_in_the_action(clinic, episode):
    with pytest.raises(ValidationError) as err:
        do_change_episode_status(episode, acting_user=clinic.director, status="discharged", on_date=date(2026, 11, 9))
    assert "discharge_reason" in err.value.message_dict
    episode.refresh_from_db()
    assert episode.status == "active"


def test_discharge_cannot_precede_admission_or_be_in_the_future(clinic, episode):
    for day in (date(2026, 11, 1), episode.program.now().date() + timedelta(days=2)):
        with pytest.raises(ValidationError) as err:
            do_change_episode_status(
                episode, acting_user=clinic.director, status="discharged", on_date=day, discharge_reason="1"
            )
        assert "discharged_on" in err.value.message_dict
    episode.refresh_from_db()
    assert episode.status == "active"


def test_an_unknown_status_is_a_validation_error(clinic, episode):
    with pytest.raises(ValidationError):
        do_change_episode_status(episode, acting_user=clinic.director, status="gone", on_date=date(2026, 11, 9))


def test_status_form_offers_only_allowed_transitions(client, clinic, episode):
    login(client, clinic.clinician)
    body = client.get(reverse("patients:episode_status", args=[episode.public_id])).content.decode()
    assert 'value="on_hold"' in body
    assert 'value="discharged"' in body
    assert 'value="waitlist"' not in body
    assert "<legend" in body  # the radio group is a labelled fieldset


def test_discharge_through_the_form_needs_a_reason(client, clinic, episode):
    login(client, clinic.clinician)
    url = reverse("patients:episode_status", args=[episode.public_id])
    response = client.post(url, {"status": "discharged", "on_date": "2026-11-20"})
    body = response.content.decode()
    assert 'id="id_discharge_reason_error"' in body
    assert 'value="2026-11-20"' in body
    episode.refresh_from_db()
    assert episode.status == "active"
    response = client.post(url, {"status": "discharged", "on_date": "2026-11-20", "discharge_reason": "1"})
    assert response.status_code == 302
    episode.refresh_from_db()
    assert (episode.status, episode.discharged_on, episode.discharge_reason) == ("discharged", date(2026, 11, 20), "1")
    row = _last_audit()
    assert (row.action, row.patient, row.object_type) == (AuditAction.STATUS_CHANGED, episode.patient, "episodeofcare")
    assert row.changed_fields == ["discharge_reason", "discharged_on", "status"]


def test_hold_and_resume_through_the_form(client, clinic, episode):
    login(client, clinic.clinician)
    url = reverse("patients:episode_status", args=[episode.public_id])
    client.post(url, {"status": "on_hold", "on_date": "2026-11-20"})
    episode.refresh_from_db()
    assert episode.status == "on_hold"
    client.post(url, {"status": "active", "on_date": "2026-11-23"})
    episode.refresh_from_db()
    assert episode.status == "active"
    assert episode.admitted_on == date(2026, 11, 2)  # resuming is not a new admission


def test_a_discharged_episode_has_no_status_form(client, clinic, episode):
    do_change_episode_status(
        episode, acting_user=clinic.director, status="discharged", on_date=date(2026, 11, 20), discharge_reason="1"
    )
    login(client, clinic.clinician)
    response = client.get(reverse("patients:episode_status", args=[episode.public_id]))
    assert response.status_code == 302


# --- Care team -------------------------------------------------------------------------------------------------


def test_setting_the_care_team_through_the_form(client, clinic, episode):
    login(client, clinic.clinician)
    url = reverse("patients:episode_care_team", args=[episode.public_id])
    body = client.get(url).content.decode()
    assert "Intern Tester, MSW" in body and "Director Tester, PhD" in body and "Intake Tester" in body
    assert "Frontdesk" not in body and "Billing" not in body and "Auditor" not in body
    field = f"member_{clinic.intern.public_id.hex}"
    assert f'<label for="id_{field}">' in body
    data = {field: "therapist", f"member_{clinic.intake.public_id.hex}": "case_manager"}
    assert client.post(url, data).status_code == 302
    team = dict(episode.team_members.values_list("user__username", "team_role"))
    assert team == {"clinician": "primary", "intern": "therapist", "intake": "case_manager"}
    row = _last_audit()
    assert (row.action, row.object_type, row.changed_fields) == (AuditAction.UPDATED, "episodeofcare", ["care_team"])

    assert client.post(url, {field: "therapist"}).status_code == 302
    assert dict(episode.team_members.values_list("user__username", "team_role")) == {
        "clinician": "primary",
        "intern": "therapist",
    }


def test_saving_the_same_team_writes_no_audit_row(clinic, episode):
    do_set_care_team(episode, acting_user=clinic.director, members=[(clinic.intern, "therapist")])
    before = AuditEvent.objects.count()
    assert do_set_care_team(episode, acting_user=clinic.director, members=[(clinic.intern, "therapist")]) is False
    assert AuditEvent.objects.count() == before


def test_care_team_members_must_be_active_staff_of_the_program(clinic, episode):
    for outsider in (clinic.outsider, clinic.stranger):
        with pytest.raises(ValidationError):
            do_set_care_team(episode, acting_user=clinic.director, members=[(outsider, "therapist")])
    do_set_staff_active(clinic.intern, acting_user=clinic.sysadmin, active=False)
    with pytest.raises(ValidationError):
        do_set_care_team(episode, acting_user=clinic.director, members=[(clinic.intern, "therapist")])
    assert list(episode.team_members.values_list("user__username", flat=True)) == ["clinician"]


def test_only_the_primary_clinician_is_primary(clinic, episode):
    with pytest.raises(ValidationError):
        do_set_care_team(episode, acting_user=clinic.director, members=[(clinic.intern, "primary")])
    do_set_care_team(episode, acting_user=clinic.director, members=[])
    assert list(episode.team_members.values_list("user__username", "team_role")) == [("clinician", "primary")]
    assert CareTeamMember.objects.filter(episode=episode, team_role="primary").count() == 1


def test_allowed_next_statuses_reads_like_the_rules():
    s = EpisodeOfCare.Status
    assert EpisodeOfCare(status=s.WAITLIST).allowed_next_statuses() == [s.ACTIVE, s.DISCHARGED]
    assert EpisodeOfCare(status=s.DISCHARGED).allowed_next_statuses() == []


def test_before_a_program_is_picked_the_choices_span_the_users_programs(client, clinic, newcomer):
    su_track = do_create_track(
        acting_user=None,
        program=clinic.su,
        name="SU Day",
        weekdays=[0, 2],
        start_time=clinic.day.start_time,
        end_time=clinic.day.end_time,
    )
    teen_track = do_create_track(
        acting_user=None,
        program=clinic.teen,
        name="Teen Day",
        weekdays=[0, 2],
        start_time=clinic.day.start_time,
        end_time=clinic.day.end_time,
    )
    login(client, clinic.director)  # Adult MH and substance use, so nothing is preselected
    body = client.get(_open_url(newcomer)).content.decode()
    assert f"{clinic.mh.name}: Day (" in body
    assert f"{clinic.su.name}: SU Day (" in body
    assert str(su_track.public_id) in body
    assert str(teen_track.public_id) not in body
    assert "Outsider Tester" not in body


def test_the_open_form_starts_with_today(client, clinic, newcomer):
    login(client, clinic.clinician)
    body = client.get(_open_url(newcomer)).content.decode()
    today = timezone.localdate().isoformat()
    assert f'name="admitted_on" value="{today}"' in body
