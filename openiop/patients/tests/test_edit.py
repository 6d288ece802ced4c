"""Demographics, record (de)activation, coverage and support contacts: writes through the actions, audited."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import (
    do_add_coverage,
    do_change_episode_status,
    do_set_coverage_active,
    do_set_patient_active,
    do_update_coverage,
)
from openiop.patients.models import Patient, SupportContact
from openiop.patients.tests.helpers import edit_form_data
from openiop.testing.fixtures import make_patient


def _last_audit() -> AuditEvent:
    return AuditEvent.objects.latest("chain_index")


def _assert_names_only(row: AuditEvent, *values: str) -> None:
    stored = json.dumps([row.object_type, row.object_id, row.changed_fields])
    for value in values:
        assert value not in stored


# --- Demographics ----------------------------------------------------------------------------------------------


def test_edit_form_shows_the_current_values(client, clinic, patient):
    login(client, clinic.frontdesk)
    body = client.get(reverse("patients:edit", args=[patient.public_id])).content.decode()
    assert 'value="Jordan"' in body
    assert 'value="1990-04-12"' in body
    assert 'value="jordan@example.org"' in body


def test_viewing_the_edit_form_is_audited(client, clinic, patient):
    login(client, clinic.frontdesk)
    client.get(reverse("patients:edit", args=[patient.public_id]))
    row = _last_audit()
    assert (row.action, row.patient, row.object_type) == (AuditAction.RECORD_VIEWED, patient, "patient")


def test_editing_demographics_saves_and_audits_changed_names(client, clinic, patient):
    login(client, clinic.frontdesk)
    data = edit_form_data(patient, preferred_name="Jo", phone_mobile="555-0777", interpreter_needed="on")
    response = client.post(reverse("patients:edit", args=[patient.public_id]), data)
    assert response.status_code == 302
    assert response["Location"] == f"{patient.get_absolute_url()}?tab=demographics"
    patient.refresh_from_db()
    assert (patient.preferred_name, patient.phone_mobile, patient.interpreter_needed) == ("Jo", "555-0777", True)
    row = _last_audit()
    assert row.action == AuditAction.UPDATED
    assert row.patient == patient
    assert row.object_type == "patient"
    assert row.actor == clinic.frontdesk
    assert row.changed_fields == ["interpreter_needed", "phone_mobile", "preferred_name"]
    _assert_names_only(row, "555-0777")


def test_saving_without_changes_writes_no_update_row(client, clinic, patient):
    login(client, clinic.frontdesk)
    client.post(reverse("patients:edit", args=[patient.public_id]), edit_form_data(patient))
    assert not AuditEvent.objects.filter(patient=patient, action=AuditAction.UPDATED).exists()


def test_bad_demographics_re_render_with_errors_and_save_nothing(client, clinic, patient):
    login(client, clinic.frontdesk)
    data = edit_form_data(patient, legal_first_name="", email="not-an-email", pronouns="xe/xem")
    response = client.post(reverse("patients:edit", args=[patient.public_id]), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="not-an-email"' in body
    assert 'value="xe/xem"' in body
    assert 'id="id_email_error"' in body
    assert 'id="id_legal_first_name_error"' in body
    patient.refresh_from_db()
    assert patient.pronouns == ""
    assert patient.legal_first_name == "Jordan"


# --- Deactivate and reactivate ---------------------------------------------------------------------------------


def test_deactivation_needs_a_reason(client, clinic):
    patient = make_patient(clinic, admit=False)
    login(client, clinic.frontdesk)
    response = client.post(reverse("patients:deactivate", args=[patient.public_id]), {"reason": "  "})
    assert response.status_code == 200
    assert 'id="id_reason_error"' in response.content.decode()
    patient.refresh_from_db()
    assert patient.is_active


def test_an_open_episode_blocks_deactivation(client, clinic, patient):
    login(client, clinic.frontdesk)
    response = client.post(reverse("patients:deactivate", args=[patient.public_id]), {"reason": "Moved away"})
    body = response.content.decode()
    assert "Discharge or close the open episode of care first." in body
    assert 'value="Moved away"' in body
    patient.refresh_from_db()
    assert patient.is_active


def test_deactivate_then_reactivate_keeps_the_record_and_audits_both(client, clinic, patient, episode):
    do_change_episode_status(
        episode, acting_user=clinic.director, status="discharged", on_date=date(2026, 11, 20), discharge_reason="1"
    )
    login(client, clinic.frontdesk)
    response = client.post(reverse("patients:deactivate", args=[patient.public_id]), {"reason": "Moved away"})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.is_active, patient.deactivated_reason) == (False, "Moved away")
    row = _last_audit()
    assert (row.action, row.patient, row.object_type) == (AuditAction.DEACTIVATED, patient, "patient")
    _assert_names_only(row, "Moved away")

    assert client.post(reverse("patients:reactivate", args=[patient.public_id])).status_code == 302
    patient.refresh_from_db()
    assert patient.is_active
    assert patient.deactivated_reason == ""
    assert _last_audit().action == AuditAction.REACTIVATED
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_reactivate_only_accepts_post(client, clinic, patient):
    login(client, clinic.frontdesk)
    assert client.get(reverse("patients:reactivate", args=[patient.public_id])).status_code == 405


# --- Coverage --------------------------------------------------------------------------------------------------

COVERAGE = {
    "priority": "1",
    "payer_kind": "medicare",
    "payer_name": "Medicare Part B",
    "plan_name": "",
    "member_id": "1EG4",
    "group_number": "",
    "subscriber_name": "",
    "subscriber_date_of_birth": "",
    "relationship_to_subscriber": "self",
    "effective_from": "2026-01-01",
    "effective_to": "",
}


def test_adding_coverage_saves_and_audits(client, clinic, patient):
    login(client, clinic.billing)
    response = client.post(reverse("patients:coverage_add", args=[patient.public_id]), COVERAGE)
    assert response.status_code == 302
    assert response["Location"] == f"{patient.get_absolute_url()}?tab=insurance"
    coverage = patient.coverages.get()
    assert (coverage.payer_name, coverage.member_id, coverage.priority) == ("Medicare Part B", "1EG4", 1)
    row = _last_audit()
    assert (row.action, row.patient, row.object_type) == (AuditAction.CREATED, patient, "coverage")
    assert row.object_id == str(coverage.public_id)
    assert "member_id" in row.changed_fields
    _assert_names_only(row, "1EG4", "Medicare Part B")


def test_coverage_dates_in_the_wrong_order_are_a_field_error(client, clinic, patient):
    login(client, clinic.billing)
    data = {**COVERAGE, "effective_to": "2025-12-31"}
    response = client.post(reverse("patients:coverage_add", args=[patient.public_id]), data)
    body = response.content.decode()
    assert "Coverage must end on or after its start date." in body
    assert 'id="id_effective_to_error"' in body
    assert 'value="1EG4"' in body
    assert not patient.coverages.exists()


def test_a_second_active_primary_is_refused(client, clinic, patient, coverage):
    login(client, clinic.billing)
    response = client.post(reverse("patients:coverage_add", args=[patient.public_id]), COVERAGE)
    assert "There is already an active primary coverage" in response.content.decode()
    assert patient.coverages.count() == 1


def test_editing_coverage_audits_changed_names(client, clinic, patient, coverage):
    login(client, clinic.billing)
    url = reverse("patients:coverage_edit", args=[coverage.public_id])
    assert 'value="BS-123456"' in client.get(url).content.decode()
    data = {**COVERAGE, "payer_kind": "commercial", "payer_name": "Blue Shield", "member_id": "BS-999"}
    assert client.post(url, data).status_code == 302
    coverage.refresh_from_db()
    assert coverage.member_id == "BS-999"
    row = _last_audit()
    assert (row.action, row.object_type) == (AuditAction.UPDATED, "coverage")
    assert "member_id" in row.changed_fields
    _assert_names_only(row, "BS-999", "BS-123456")


def test_deactivating_and_reactivating_coverage(client, clinic, patient, coverage):
    login(client, clinic.billing)
    assert client.post(reverse("patients:coverage_deactivate", args=[coverage.public_id])).status_code == 302
    coverage.refresh_from_db()
    assert not coverage.is_active
    assert _last_audit().action == AuditAction.DEACTIVATED
    assert client.post(reverse("patients:coverage_reactivate", args=[coverage.public_id])).status_code == 302
    coverage.refresh_from_db()
    assert coverage.is_active
    assert (_last_audit().action, _last_audit().object_type) == (AuditAction.REACTIVATED, "coverage")


def test_reactivating_into_a_taken_priority_is_refused_with_a_message(client, clinic, patient, coverage):
    do_set_coverage_active(coverage, acting_user=clinic.billing, active=False)
    do_add_coverage(patient, acting_user=None, priority=1, payer_name="New Payer", member_id="N-1")
    login(client, clinic.billing)
    response = client.post(reverse("patients:coverage_reactivate", args=[coverage.public_id]), follow=True)
    assert "There is already an active primary coverage" in response.content.decode()
    coverage.refresh_from_db()
    assert not coverage.is_active


def test_coverage_actions_reject_a_clash_on_update_too(clinic, patient, coverage):
    from django.core.exceptions import ValidationError

    second = do_add_coverage(patient, acting_user=None, priority=2, payer_name="Second", member_id="S-1")
    with pytest.raises(ValidationError) as err:
        do_update_coverage(second, acting_user=clinic.billing, priority=1)
    assert "priority" in err.value.message_dict
    second.refresh_from_db()
    assert second.priority == 2


def test_coverage_buttons_only_accept_post(client, clinic, coverage):
    login(client, clinic.billing)
    assert client.get(reverse("patients:coverage_deactivate", args=[coverage.public_id])).status_code == 405


# --- Support contacts ------------------------------------------------------------------------------------------


def test_adding_a_support_contact(client, clinic, patient):
    login(client, clinic.frontdesk)
    data = {
        "name": "Lee Park",
        "relationship": "partner",
        "phone": "555-0100",
        "email": "",
        "involved_in_treatment": "on",
        "notes": "Prefers evening calls",
    }
    response = client.post(reverse("patients:contact_add", args=[patient.public_id]), data)
    assert response.status_code == 302
    contact = patient.support_contacts.get()
    assert (contact.name, contact.relationship, contact.involved_in_treatment) == ("Lee Park", "partner", True)
    row = _last_audit()
    assert (row.action, row.patient, row.object_type) == (AuditAction.CREATED, patient, "supportcontact")
    _assert_names_only(row, "Lee Park", "555-0100", "evening")


def test_a_contact_needs_a_name_and_relationship(client, clinic, patient):
    login(client, clinic.frontdesk)
    response = client.post(reverse("patients:contact_add", args=[patient.public_id]), {"phone": "555-0100"})
    body = response.content.decode()
    assert 'id="id_name_error"' in body
    assert 'id="id_relationship_error"' in body
    assert 'value="555-0100"' in body
    assert not SupportContact.objects.exists()


def test_editing_a_contact_audits_changed_names(client, clinic, contact):
    login(client, clinic.frontdesk)
    url = reverse("patients:contact_edit", args=[contact.public_id])
    data = {"name": "Sam Rivera", "relationship": "sibling", "phone": "555-0200", "email": "", "notes": ""}
    assert client.post(url, data).status_code == 302
    contact.refresh_from_db()
    assert contact.phone == "555-0200"
    assert not contact.involved_in_treatment  # the unticked box was posted as unticked
    row = _last_audit()
    assert row.changed_fields == ["involved_in_treatment", "phone"]


def test_deactivating_and_reactivating_a_contact(client, clinic, contact):
    login(client, clinic.frontdesk)
    client.post(reverse("patients:contact_deactivate", args=[contact.public_id]))
    contact.refresh_from_db()
    assert not contact.is_active
    assert (_last_audit().action, _last_audit().object_type) == (AuditAction.DEACTIVATED, "supportcontact")
    client.post(reverse("patients:contact_reactivate", args=[contact.public_id]))
    contact.refresh_from_db()
    assert contact.is_active
    assert SupportContact.objects.filter(pk=contact.pk).exists()


def test_patient_deactivation_is_refused_by_the_action_without_a_reason(clinic):
    from django.core.exceptions import ValidationError

    patient = make_patient(clinic, admit=False)
    with pytest.raises(ValidationError):
        do_set_patient_active(patient, acting_user=clinic.director, active=False, reason="")
