"""When a signed plan comes into force (docs/clinical-rules.md#treatment-plans-and-reviews): at the patient's
signature (the default) or at the clinician's, per program; a documented refusal; what the plan page, the chart
and the notes' signing checks say about it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.notes import actions as note_actions
from openiop.plans import actions
from openiop.plans.models import PlanPolicy, PlanVersion
from openiop.testing.notes import attend, diagnose, individual_session
from openiop.testing.plans import signed_by_clinician
from openiop.testing.scheduling import admit

pytestmark = pytest.mark.django_db
V = PlanVersion.Status
NOTE: dict[str, Any] = {
    "behavior": "Arrived on time.",
    "intervention": "Behavioral activation planning.",
    "response": "Chose two activities.",
    "plan": "Review the log next session.",
    "risk_level": "low",
}


@pytest.fixture
def visit(clinic):
    session = individual_session(clinic.mh, days_ago=1, facilitators=(clinic.clinician,))
    episode = admit(clinic, "Robin", program=clinic.mh, legal_last_name="Okafor", admitted_days_ago=5)
    diagnose(episode, clinic.clinician, "F33.1")
    attend(session, episode, clinic.frontdesk)
    return session, episode


def _note(clinic, visit):
    session, episode = visit
    return note_actions.do_create_note(episode.patient, acting_user=clinic.clinician, episode=episode, session=session)


def test_in_force_at_the_clinicians_signature_lets_a_note_be_signed_right_after(clinic, visit):
    PlanPolicy.objects.create(program=clinic.mh, in_force_at=PlanPolicy.InForceAt.CLINICIAN_SIGNATURE)
    _, episode = visit
    version = signed_by_clinician(episode.patient, clinic.clinician)
    assert version.status == V.ACTIVE and version.patient_signed_at is None
    version.plan.refresh_from_db()
    assert version.plan.current_version == version
    objective = version.problems.get().goals.get().objectives.get()
    note = note_actions.do_update_note(
        _note(clinic, visit), acting_user=clinic.clinician, objectives=[objective], **NOTE
    )
    note_actions.do_sign_note(note, acting_user=clinic.clinician)
    note.refresh_from_db()
    assert note.status == "signed"
    # The patient still signs afterwards, without a second activation.
    signed = actions.do_patient_sign(version, acting_user=clinic.clinician, name="Robin Okafor", method="typed",
                                     agreed=True)  # fmt: skip
    assert signed.status == V.ACTIVE and signed.patient_signed_at is not None
    assert signed.plan.versions.filter(status=V.ACTIVE).count() == 1


def test_waiting_for_the_patient_is_shown_and_named_in_the_notes_check(client, clinic, visit):
    _, episode = visit
    version = signed_by_clinician(episode.patient, clinic.clinician)
    assert version.status == V.AWAITING_PATIENT
    page = login(client, clinic.clinician).get(reverse("plans:version", args=[version.public_id])).content.decode()
    assert "Signed by clinician; waiting for the patient&#x27;s signature (due " in page
    assert "in force once the patient signs" in page
    tab = client.get(reverse("patients:chart_tab", args=[episode.patient.public_id, "plan"]), HTTP_HX_REQUEST="true")
    assert "waiting for the patient&#x27;s signature" in tab.content.decode()
    chart = client.get(episode.patient.get_absolute_url()).content.decode()
    assert "Plan awaiting patient signature (due " in chart
    problem = note_actions.signing_problems(
        note_actions.do_update_note(_note(clinic, visit), acting_user=clinic.clinician, **NOTE)
    )
    assert problem["objectives"].startswith("No treatment plan is in force: Signed by clinician; waiting for the")


def test_a_documented_refusal_puts_the_plan_in_force_and_is_audited(client, clinic, visit):
    _, episode = visit
    version = signed_by_clinician(episode.patient, clinic.clinician)
    with pytest.raises(ValidationError):
        actions.do_record_patient_declined(version, acting_user=clinic.clinician, reason="  ")
    url = reverse("plans:patient_declined", args=[version.public_id])
    response = login(client, clinic.clinician).post(url, {"patient_declined_reason": ""})
    assert response.status_code == 422
    response = client.post(url, {"patient_declined_reason": "Agrees with the plan but will not sign documents."})
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == V.ACTIVE and version.patient_declined_at and version.patient_signed_at is None
    row = AuditEvent.objects.filter(object_id=str(version.public_id), action=AuditAction.UPDATED).latest("id")
    assert row.changed_fields == ["patient_declined_at", "patient_declined_reason"] and row.actor == clinic.clinician
    page = client.get(reverse("plans:version", args=[version.public_id])).content.decode()
    assert "In force; the patient declined to sign" in page
    with pytest.raises(ValidationError):
        actions.do_record_patient_declined(version, acting_user=clinic.clinician, reason="Again.")
