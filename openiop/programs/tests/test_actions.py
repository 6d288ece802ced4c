"""The configuration and staff actions the administration pages call."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from openiop.accounts.actions import do_create_staff, do_set_staff_active, do_update_staff
from openiop.core.models import AuditAction, AuditEvent
from openiop.core.roles import Role
from openiop.programs.actions import (
    do_create_program,
    do_create_site,
    do_create_track,
    do_set_program_active,
    do_set_site_active,
    do_set_track_active,
    do_update_program,
    do_update_site,
    do_update_track,
)


def _errors(excinfo):
    return excinfo.value.message_dict


def test_create_program_fills_defaults_and_audits_every_setting(clinic, settings):
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "group_size_cap": 6}
    program = do_create_program(acting_user=clinic.sysadmin, site=clinic.site, name="Evening Co-occurring")
    assert (program.weekly_dose_hours, program.group_size_cap, program.time_zone) == (
        Decimal("9"),
        6,
        "America/New_York",
    )
    event = AuditEvent.objects.get(object_id=str(program.public_id))
    assert event.action == AuditAction.CREATED
    assert {"weekly_dose_hours", "max_length_weeks", "group_size_cap", "time_zone", "site"} <= set(event.changed_fields)


def test_program_on_an_inactive_site_is_refused(clinic):
    do_set_program_active(clinic.teen, acting_user=clinic.sysadmin, active=False)
    do_set_site_active(clinic.other_site, acting_user=clinic.sysadmin, active=False)
    with pytest.raises(ValidationError) as excinfo:
        do_create_program(acting_user=clinic.sysadmin, site=clinic.other_site, name="New")
    assert "site" in _errors(excinfo)
    with pytest.raises(ValidationError, match="Reactivate the program's site first"):
        do_set_program_active(clinic.teen, acting_user=clinic.sysadmin, active=True)


@pytest.mark.parametrize("name", ["Adult Mental Health IOP", "ADULT MENTAL HEALTH IOP"])
def test_program_names_are_unique_per_site_whatever_the_case(clinic, name):
    with pytest.raises(ValidationError) as excinfo:
        do_create_program(acting_user=clinic.sysadmin, site=clinic.site, name=name)
    assert _errors(excinfo) == {"name": ["This site already has a program with this name."]}
    do_create_program(acting_user=clinic.sysadmin, site=clinic.other_site, name=name)


def test_renaming_onto_a_sibling_is_refused_but_keeping_the_name_is_not(clinic):
    with pytest.raises(ValidationError) as excinfo:
        do_update_program(clinic.su, acting_user=clinic.director, name="adult mental health iop")
    assert "name" in _errors(excinfo)
    clinic.su.refresh_from_db()
    assert do_update_program(clinic.su, acting_user=clinic.director, name="Adult Substance Use IOP") == []
    assert do_update_site(clinic.site, acting_user=clinic.sysadmin, name="RIVERSIDE") == ["name"]


def test_duplicate_name_and_other_errors_are_reported_together(clinic):
    with pytest.raises(ValidationError) as excinfo:
        do_create_site(acting_user=clinic.sysadmin, organization=clinic.org, name="Hillcrest", time_zone="Nope")
    assert set(_errors(excinfo)) == {"name", "time_zone"}


def test_track_errors_are_keyed_by_field(clinic):
    with pytest.raises(ValidationError) as excinfo:
        do_create_track(
            acting_user=clinic.director,
            program=clinic.mh,
            name="Late",
            weekdays=[],
            start_time=time(19),
            end_time=time(18),
        )
    assert set(_errors(excinfo)) == {"weekdays", "end_time"}
    with pytest.raises(ValidationError) as excinfo:
        do_update_track(clinic.day, acting_user=clinic.director, name="evening")
    assert _errors(excinfo) == {"name": ["This program already has a track with this name."]}


def test_tracks_need_an_active_program(clinic):
    do_set_track_active(clinic.day, acting_user=clinic.director, active=False)
    do_set_track_active(clinic.evening, acting_user=clinic.director, active=False)
    do_set_program_active(clinic.mh, acting_user=clinic.sysadmin, active=False)
    with pytest.raises(ValidationError, match="Reactivate the program"):
        do_create_track(
            acting_user=clinic.director,
            program=clinic.mh,
            name="New",
            weekdays=[0],
            start_time=time(9),
            end_time=time(12),
        )
    with pytest.raises(ValidationError, match="Reactivate the program first"):
        do_set_track_active(clinic.day, acting_user=clinic.director, active=True)


def test_a_site_with_active_programs_cannot_be_switched_off(clinic):
    with pytest.raises(ValidationError):
        do_set_site_active(clinic.site, acting_user=clinic.sysadmin, active=False)


def test_failed_switches_write_no_audit_row(clinic, patient):
    before = AuditEvent.objects.count()
    for call in (
        lambda: do_set_site_active(clinic.site, acting_user=clinic.sysadmin, active=False),
        lambda: do_set_program_active(clinic.mh, acting_user=clinic.sysadmin, active=False),
        lambda: do_set_track_active(clinic.day, acting_user=clinic.director, active=False),
    ):
        with pytest.raises(ValidationError):
            call()
    assert AuditEvent.objects.count() == before


# --- staff ------------------------------------------------------------------------------------------------


def _new_staff(clinic, **fields):
    values: dict[str, Any] = {"role": Role.SUPERVISED_CLINICIAN, "first_name": "Sam", "last_name": "Intern"}
    values.update(fields)
    return do_create_staff(
        acting_user=clinic.sysadmin, organization=clinic.org, username="sam", password=None, **values
    )


def test_supervised_clinician_needs_a_supervisor(clinic):
    with pytest.raises(ValidationError) as excinfo:
        _new_staff(clinic)
    assert "supervisor" in _errors(excinfo)


@pytest.mark.parametrize("who", ["intake", "frontdesk", "sysadmin", "intern", "stranger"])
def test_supervisor_must_be_a_clinician_or_director_of_the_organization(clinic, who):
    with pytest.raises(ValidationError) as excinfo:
        _new_staff(clinic, supervisor=getattr(clinic, who))
    assert "supervisor" in _errors(excinfo)


def test_an_inactive_supervisor_is_refused(clinic):
    do_set_staff_active(clinic.director, acting_user=clinic.sysadmin, active=False)
    with pytest.raises(ValidationError):
        _new_staff(clinic, supervisor=clinic.director)
    assert _new_staff(clinic, supervisor=clinic.clinician).supervisor == clinic.clinician


def test_nobody_supervises_themselves(clinic):
    with pytest.raises(ValidationError):
        do_update_staff(clinic.clinician, acting_user=clinic.sysadmin, supervisor=clinic.clinician)


def test_turning_someone_into_a_supervised_clinician_asks_for_a_supervisor(clinic):
    with pytest.raises(ValidationError) as excinfo:
        do_update_staff(clinic.intake, acting_user=clinic.sysadmin, role=Role.SUPERVISED_CLINICIAN)
    assert "supervisor" in _errors(excinfo)


def test_nobody_changes_their_own_role(clinic):
    with pytest.raises(ValidationError) as excinfo:
        do_update_staff(clinic.sysadmin, acting_user=clinic.sysadmin, role=Role.DIRECTOR)
    assert _errors(excinfo) == {"role": ["You cannot change your own role."]}
    assert do_update_staff(clinic.sysadmin, acting_user=clinic.sysadmin, title="IT lead") == ["title"]
