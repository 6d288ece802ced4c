from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import PATIENT_FIELDS, do_set_patient_active
from openiop.patients.models import Patient
from openiop.patients.tests.helpers import patient_form_data
from openiop.testing.fixtures import make_patient

CREATE = "/patients/new/"


def test_the_create_route_is_named():
    assert reverse("patients:create") == CREATE


def test_registering_creates_the_patient_and_opens_the_chart(client, clinic):
    login(client, clinic.frontdesk)
    response = client.post(CREATE, patient_form_data(clinic.mh))
    patient = Patient.objects.get(legal_last_name="Quinn")
    assert response.status_code == 302
    assert response["Location"] == patient.get_absolute_url()
    assert patient.home_program == clinic.mh
    assert patient.organization == clinic.org
    assert patient.preferred_name == "Ave"
    assert patient.pronouns == "they/them"
    assert patient.date_of_birth == date(1985, 6, 30)
    assert patient.emergency_contact_name == "Robin Quinn"
    assert patient.mrn.startswith("IOP-")


def test_registering_writes_a_created_audit_row_with_field_names_only(client, clinic):
    login(client, clinic.frontdesk)
    client.post(CREATE, patient_form_data(clinic.mh))
    patient = Patient.objects.get(legal_last_name="Quinn")
    row = AuditEvent.objects.get(patient=patient, action=AuditAction.CREATED)
    assert row.actor == clinic.frontdesk
    assert row.object_type == "patient"
    assert row.object_id == str(patient.public_id)
    assert {"legal_first_name", "legal_last_name", "date_of_birth", "mrn"} <= set(row.changed_fields)
    assert set(row.changed_fields) <= {*PATIENT_FIELDS, "mrn", "home_program"}
    stored = json.dumps(row.changed_fields)
    for value in ("Avery", "Quinn", "1985", "avery@example.org", "555-0111"):
        assert value not in stored


def test_home_program_choices_are_only_the_users_programs(client, clinic):
    login(client, clinic.intake)
    body = client.get(CREATE).content.decode()
    assert clinic.mh.name in body and clinic.su.name in body
    assert clinic.teen.name not in body
    assert "Elsewhere IOP" not in body


def test_a_single_program_is_preselected(client, clinic):
    login(client, clinic.frontdesk)
    body = client.get(CREATE).content.decode()
    assert f'<option value="{clinic.mh.public_id}" selected>' in body


def test_missing_fields_re_render_with_errors_and_keep_what_was_typed(client, clinic):
    login(client, clinic.frontdesk)
    data = patient_form_data(clinic.mh, legal_last_name="", date_of_birth="")
    response = client.post(CREATE, data)
    body = response.content.decode()
    assert response.status_code == 200
    assert not Patient.objects.filter(legal_first_name="Avery").exists()
    assert 'value="Avery"' in body
    assert 'value="they/them"' in body
    assert 'value="Robin Quinn"' in body
    assert f'<option value="{clinic.mh.public_id}" selected>' in body
    assert 'id="id_legal_last_name_error"' in body
    assert 'aria-invalid="true"' in body
    assert 'aria-describedby="id_legal_last_name_error"' in body
    assert 'href="#id_date_of_birth"' in body  # the summary links to the field


def test_a_birth_date_in_the_future_is_a_field_error(client, clinic):
    login(client, clinic.frontdesk)
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(CREATE, patient_form_data(clinic.mh, date_of_birth=tomorrow.isoformat()))
    assert "Date of birth cannot be in the future." in response.content.decode()
    assert not Patient.objects.filter(legal_last_name="Quinn").exists()


def test_help_text_is_linked_to_its_input(client, clinic):
    login(client, clinic.frontdesk)
    body = client.get(CREATE).content.decode()
    assert 'aria-describedby="id_pronouns_help"' in body
    assert 'id="id_pronouns_help"' in body


@pytest.fixture
def existing(clinic):
    return make_patient(clinic, legal_first_name="Avery", legal_last_name="Quinn", date_of_birth=date(1985, 6, 30))


def test_same_name_and_birth_date_offers_the_match_instead_of_creating(client, clinic, existing):
    login(client, clinic.frontdesk)
    data = patient_form_data(clinic.mh, legal_first_name="avery", legal_last_name=" QUINN ")
    response = client.post(CREATE, data)
    body = response.content.decode()
    assert response.status_code == 200
    assert Patient.objects.filter(search_last="quinn").count() == 1
    assert "This may be someone already registered" in body
    assert existing.get_absolute_url() in body
    assert existing.mrn in body
    assert "This is a different person" in body
    assert 'value="they/them"' in body  # everything typed is still there
    assert 'value="Robin Quinn"' in body
    assert "programs you don't have access to" not in body


def test_the_duplicate_check_is_audited_without_names(client, clinic, existing):
    login(client, clinic.frontdesk)
    before = AuditEvent.objects.count()
    client.post(CREATE, patient_form_data(clinic.mh))
    assert AuditEvent.objects.count() == before + 1
    row = AuditEvent.objects.latest("chain_index")
    assert row.action == AuditAction.PATIENTS_SEARCHED
    assert row.patient is None
    assert "quinn" not in json.dumps([row.object_type, row.object_id, row.changed_fields]).lower()


def test_ticking_different_person_creates_the_second_record(client, clinic, existing):
    login(client, clinic.frontdesk)
    response = client.post(CREATE, patient_form_data(clinic.mh, confirm_different_person="on"))
    assert response.status_code == 302
    assert Patient.objects.filter(search_last="quinn", date_of_birth=date(1985, 6, 30)).count() == 2
    new = Patient.objects.exclude(pk=existing.pk).get(search_last="quinn")
    assert new.mrn != existing.mrn


def test_a_different_birth_date_is_not_a_duplicate(client, clinic, existing):
    login(client, clinic.frontdesk)
    response = client.post(CREATE, patient_form_data(clinic.mh, date_of_birth="1985-06-29"))
    assert response.status_code == 302


def test_inactive_matches_are_offered_and_marked(client, clinic, existing):
    inactive = make_patient(
        clinic, legal_first_name="Avery", legal_last_name="Quinn", date_of_birth=date(1985, 6, 30), admit=False
    )
    do_set_patient_active(inactive, acting_user=clinic.director, active=False, reason="Registered in error")
    login(client, clinic.frontdesk)
    body = client.post(CREATE, patient_form_data(clinic.mh)).content.decode()
    assert existing.get_absolute_url() in body
    assert inactive.get_absolute_url() in body
    assert "Inactive record" in body


def test_matches_outside_the_users_programs_are_counted_not_linked(client, clinic, existing):
    hidden = make_patient(
        clinic, clinic.su, legal_first_name="Avery", legal_last_name="Quinn", date_of_birth=date(1985, 6, 30)
    )
    other_org = make_patient_in_other_org(clinic)
    login(client, clinic.frontdesk)  # Adult MH only
    body = client.post(CREATE, patient_form_data(clinic.mh)).content.decode()
    assert existing.get_absolute_url() in body
    assert hidden.get_absolute_url() not in body
    assert hidden.mrn not in body
    assert "1 more in programs you don't have access to: ask intake." in body
    assert other_org.get_absolute_url() not in body  # another organization is not even counted


def test_only_hidden_matches_still_block_until_confirmed(client, clinic):
    make_patient(clinic, clinic.su, legal_first_name="Avery", legal_last_name="Quinn", date_of_birth=date(1985, 6, 30))
    login(client, clinic.frontdesk)
    response = client.post(CREATE, patient_form_data(clinic.mh))
    assert response.status_code == 200
    assert "1 more in programs you don't have access to" in response.content.decode()
    assert client.post(CREATE, patient_form_data(clinic.mh, confirm_different_person="on")).status_code == 302


def make_patient_in_other_org(clinic):
    from openiop.patients.actions import do_create_patient
    from openiop.programs.models import Program

    program = Program.objects.get(site__organization=clinic.other_org)
    return do_create_patient(
        acting_user=None,
        home_program=program,
        legal_first_name="Avery",
        legal_last_name="Quinn",
        date_of_birth=date(1985, 6, 30),
    )


def test_another_organizations_patient_is_not_a_duplicate(client, clinic):
    make_patient_in_other_org(clinic)
    login(client, clinic.frontdesk)
    assert client.post(CREATE, patient_form_data(clinic.mh)).status_code == 302
