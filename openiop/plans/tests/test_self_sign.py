"""``do_patient_sign(self_signed=True)``: the patient signs in the portal with a typed name; the signature is theirs
in the audit trail and what follows it (activation, the closed plan-due task, the next review) is the system's."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from openiop.core.models import AuditEvent
from openiop.plans import actions
from openiop.plans.models import PlanVersion
from openiop.portal.tests.care_support import patient_account
from openiop.testing.plans import signed_by_clinician


def test_a_self_signature_is_a_typed_name(clinic, patient):
    version = signed_by_clinician(patient, clinic.clinician)
    user = patient_account(patient).user
    with pytest.raises(ValidationError) as exc:
        actions.do_patient_sign(version, acting_user=user, name="Jordan", method="drawn", agreed=True, self_signed=True)
    assert set(exc.value.message_dict) == {"patient_signature_method"}
    with pytest.raises(ValidationError) as exc:
        actions.do_patient_sign(version, acting_user=user, name=" ", method="typed", agreed=False, self_signed=True)
    assert exc.value.message_dict == {
        "patient_signature_name": ["Type your full name."],
        "agreed": ["Confirm that you took part in the plan and agree with it."],
    }


def test_a_self_signature_activates_with_the_follow_on_work_done_by_the_system(clinic, patient):
    version = signed_by_clinician(patient, clinic.clinician)
    user = patient_account(patient).user
    last = AuditEvent.objects.order_by("-chain_index").first().chain_index  # type: ignore[union-attr]
    actions.do_patient_sign(version, acting_user=user, name="Jordan Rivera", method="typed", agreed=True,
                            self_signed=True)  # fmt: skip
    version.refresh_from_db()
    assert version.status == PlanVersion.Status.ACTIVE and version.plan.current_version_id == version.pk
    rows = list(AuditEvent.objects.filter(chain_index__gt=last).order_by("chain_index"))
    assert rows[0].actor_id == user.pk and "patient_signature_name" in rows[0].changed_fields
    assert {r.actor_id for r in rows[1:]} == {None}


def test_in_person_signing_is_unchanged(clinic, patient):
    version = signed_by_clinician(patient, clinic.clinician)
    last = AuditEvent.objects.order_by("-chain_index").first().chain_index  # type: ignore[union-attr]
    actions.do_patient_sign(version, acting_user=clinic.clinician, name="Jordan Rivera", method="checkbox",
                            agreed=True)  # fmt: skip
    rows = AuditEvent.objects.filter(chain_index__gt=last)
    assert {r.actor_id for r in rows} == {clinic.clinician.pk}
