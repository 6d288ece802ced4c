"""Creating, editing and switching off programs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_change_episode_status
from openiop.programs.models import Program
from openiop.programs.tests.pages import messages_of

CREATE = reverse("programs:program_create")


def _create_data(clinic, **overrides):
    data = {
        "site": clinic.site.pk,
        "name": "Young Adult IOP",
        "description": "",
        "focus": "co_occurring",
        "population": "adult",
        "weekly_dose_hours": "",
        "max_length_weeks": "",
        "group_size_cap": "",
        "time_zone": "",
    }
    data.update(overrides)
    return data


def _edit_data(program, **overrides):
    data = {
        "name": program.name,
        "description": program.description,
        "focus": program.focus,
        "population": program.population,
        "level_of_care": program.level_of_care,
        "weekly_dose_hours": str(program.weekly_dose_hours),
        "max_length_weeks": str(program.max_length_weeks),
        "group_size_cap": str(program.group_size_cap),
        "time_zone": program.time_zone,
    }
    data.update(overrides)
    return data


def test_blank_settings_take_the_defaults_and_the_site_time_zone(client, clinic):
    login(client, clinic.sysadmin)
    response = client.post(CREATE, _create_data(clinic, site=clinic.other_site.pk, population="adolescent"))
    program = Program.objects.get(name="Young Adult IOP")
    assert response.status_code == 302
    assert response["Location"] == program.get_absolute_url()
    assert program.site == clinic.other_site
    assert program.weekly_dose_hours == Decimal("6")
    assert (program.max_length_weeks, program.group_size_cap) == (12, 12)
    assert program.time_zone == "America/Chicago"


def test_defaults_are_read_from_settings_when_the_program_is_created(client, clinic, settings):
    settings.OPENIOP_DEFAULTS = {
        "levels_of_care": settings.OPENIOP_DEFAULTS["levels_of_care"],
        "adult_weekly_dose_hours": 11,
        "adolescent_weekly_dose_hours": 7,
        "max_length_weeks": 10,
        "group_size_cap": 8,
    }
    login(client, clinic.sysadmin)
    client.post(CREATE, _create_data(clinic))
    program = Program.objects.get(name="Young Adult IOP")
    assert program.weekly_dose_hours == Decimal("11")
    assert (program.max_length_weeks, program.group_size_cap) == (10, 8)


def test_the_create_form_shows_the_current_defaults_as_placeholders(client, clinic, settings):
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "max_length_weeks": 16, "adult_weekly_dose_hours": 9.5}
    form = login(client, clinic.sysadmin).get(CREATE).context["form"]
    assert form.fields["max_length_weeks"].widget.attrs["placeholder"] == "16"
    assert form.fields["weekly_dose_hours"].widget.attrs["placeholder"] == (
        "9.5 adult / 6 adolescent in IOP; the level's own minimum otherwise"
    )
    assert form.fields["time_zone"].widget.attrs["placeholder"] == "The site's time zone"
    assert not form.fields["weekly_dose_hours"].required


def test_given_settings_override_the_defaults(client, clinic):
    login(client, clinic.sysadmin)
    client.post(
        CREATE,
        _create_data(
            clinic, weekly_dose_hours="10.5", max_length_weeks="8", group_size_cap="10", time_zone="America/Denver"
        ),
    )
    program = Program.objects.get(name="Young Adult IOP")
    assert program.weekly_dose_hours == Decimal("10.5")
    assert (program.max_length_weeks, program.group_size_cap, program.time_zone) == (8, 10, "America/Denver")


def test_unknown_time_zone_is_a_field_error_and_the_typed_values_stay(client, clinic):
    login(client, clinic.sysadmin)
    response = client.post(CREATE, _create_data(clinic, time_zone="Mars/Olympus_Mons", group_size_cap="9"))
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["time_zone"]
    page = response.content.decode()
    assert 'value="Mars/Olympus_Mons"' in page
    assert 'value="Young Adult IOP"' in page
    assert 'value="9"' in page
    assert 'aria-describedby="id_time_zone_error"' in page
    assert not Program.objects.filter(name="Young Adult IOP").exists()


def test_a_duplicate_name_at_the_site_is_a_name_error(client, clinic):
    login(client, clinic.sysadmin)
    response = client.post(CREATE, _create_data(clinic, name="adult mental health iop"))
    assert response.context["form"].errors["name"] == ["This site already has a program with this name."]


def test_an_inactive_site_is_not_offered(client, clinic):
    login(client, clinic.sysadmin)
    client.post(reverse("programs:program_set_active", args=[clinic.teen.public_id]), {"active": "0"})
    client.post(reverse("programs:site_set_active", args=[clinic.other_site.public_id]), {"active": "0"})
    response = client.post(CREATE, _create_data(clinic, site=clinic.other_site.pk))
    assert "site" in response.context["form"].errors


def test_creating_writes_one_audit_row(client, clinic):
    login(client, clinic.sysadmin)
    client.post(CREATE, _create_data(clinic))
    program = Program.objects.get(name="Young Adult IOP")
    event = AuditEvent.objects.get(object_id=str(program.public_id))
    assert event.action == AuditAction.CREATED
    assert event.actor == clinic.sysadmin
    assert event.organization_id_ref == clinic.org.pk
    assert "weekly_dose_hours" in event.changed_fields


def test_director_edits_own_program_and_the_change_is_audited(client, clinic):
    login(client, clinic.director)
    url = reverse("programs:program_edit", args=[clinic.mh.public_id])
    response = client.post(url, _edit_data(clinic.mh, weekly_dose_hours="12", group_size_cap="10"))
    assert response.status_code == 302
    clinic.mh.refresh_from_db()
    assert clinic.mh.weekly_dose_hours == Decimal("12")
    event = AuditEvent.objects.filter(object_id=str(clinic.mh.public_id)).latest("chain_index")
    assert event.action == AuditAction.CONFIG_CHANGED
    assert event.actor == clinic.director
    assert event.changed_fields == ["group_size_cap", "weekly_dose_hours"]


def test_raising_the_dose_warns_about_tracks_that_fall_below(client, clinic):
    login(client, clinic.director)
    url = reverse("programs:program_edit", args=[clinic.mh.public_id])
    response = client.post(url, _edit_data(clinic.mh, weekly_dose_hours="12"), follow=True)
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 2
    assert "Day track gives 9 hours a week, below the program's minimum dose of 12" in warnings[0] + warnings[1]


def test_saving_without_changes_writes_no_audit_row(client, clinic):
    login(client, clinic.director)
    before = AuditEvent.objects.count()
    client.post(reverse("programs:program_edit", args=[clinic.mh.public_id]), _edit_data(clinic.mh))
    assert AuditEvent.objects.count() == before


def test_edit_keeps_typed_values_on_error(client, clinic):
    login(client, clinic.director)
    url = reverse("programs:program_edit", args=[clinic.mh.public_id])
    response = client.post(url, _edit_data(clinic.mh, weekly_dose_hours="0", name="Renamed", time_zone="Nowhere"))
    assert set(response.context["form"].errors) == {"weekly_dose_hours", "time_zone"}
    assert 'value="Renamed"' in response.content.decode()
    clinic.mh.refresh_from_db()
    assert clinic.mh.name == "Adult Mental Health IOP"


def test_director_cannot_switch_a_program_off(client, clinic):
    login(client, clinic.director)
    response = client.post(reverse("programs:program_set_active", args=[clinic.su.public_id]), {"active": "0"})
    assert response.status_code == 403


def test_a_program_with_open_episodes_stays_on(client, clinic, patient):
    login(client, clinic.sysadmin)
    url = reverse("programs:program_set_active", args=[clinic.mh.public_id])
    response = client.post(url, {"active": "0"}, follow=True)
    clinic.mh.refresh_from_db()
    assert clinic.mh.is_active
    assert "Discharge or transfer this program's open episodes of care first." in messages_of(response)


def test_deactivating_and_reactivating_are_audited(client, clinic, patient):
    episode = patient.episodes.get()
    do_change_episode_status(
        episode, acting_user=clinic.director, status="discharged", on_date=date(2026, 11, 20), discharge_reason="1"
    )
    login(client, clinic.sysadmin)
    url = reverse("programs:program_set_active", args=[clinic.mh.public_id])
    client.post(url, {"active": "0"})
    clinic.mh.refresh_from_db()
    assert not clinic.mh.is_active
    client.post(url, {"active": "1"})
    clinic.mh.refresh_from_db()
    assert clinic.mh.is_active
    actions = list(AuditEvent.objects.filter(object_id=str(clinic.mh.public_id)).values_list("action", flat=True))
    assert actions[-2:] == [AuditAction.DEACTIVATED, AuditAction.REACTIVATED]


def test_detail_lists_tracks_with_their_dose_and_the_program_staff(client, clinic):
    page = login(client, clinic.director).get(clinic.mh.get_absolute_url()).content.decode()
    assert "Mon/Wed/Fri 09:00-12:00" in page
    assert "Meets dose" in page
    assert "Clinician Tester" in page
    assert "Outsider Tester" not in page


@pytest.mark.parametrize("who", ["auditor", "director"])
def test_detail_hides_the_switch_from_non_administrators(client, clinic, who):
    page = login(client, getattr(clinic, who)).get(clinic.mh.get_absolute_url()).content.decode()
    assert reverse("programs:program_set_active", args=[clinic.mh.public_id]) not in page
    edit = reverse("programs:program_edit", args=[clinic.mh.public_id])
    assert (edit in page) is (who == "director")


def test_a_program_runs_a_level_of_care_from_the_catalog(client, clinic):
    login(client, clinic.sysadmin)
    client.post(CREATE, _create_data(clinic, name="Adult PHP", level_of_care="php"))
    php = Program.objects.get(name="Adult PHP")
    # A new PHP program starts with the level's own minimum, not the IOP floor.
    assert (php.level_of_care, php.weekly_dose_hours) == ("php", Decimal("20"))
    assert "Partial hospitalization (PHP)" in client.get(php.get_absolute_url()).content.decode()
    response = client.post(
        reverse("programs:program_edit", args=[php.public_id]), _edit_data(php, level_of_care="inpatient")
    )
    assert "level_of_care" in response.context["form"].errors
    client.post(reverse("programs:program_edit", args=[php.public_id]), _edit_data(php, level_of_care="op"))
    php.refresh_from_db()
    assert php.level_of_care == "op"
