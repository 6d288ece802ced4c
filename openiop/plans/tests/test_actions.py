"""Plan actions: versions, signatures and the co-signature path, activation, reviews, tasks and the audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from openiop.core.models import AuditAction, AuditEvent
from openiop.plans import actions, content_actions
from openiop.plans.models import PlanVersion
from openiop.plans.policy import local_today
from openiop.testing.plans import active, draft, fill, plan_for, signed_by_clinician
from openiop.worklist.models import WorkTask

S = PlanVersion.Status


def test_the_plan_is_due_seven_days_after_admission_and_raises_one_task(clinic, patient):
    plan = plan_for(patient)
    assert plan.due_on == date(2026, 11, 9)
    assert plan_for(patient).pk == plan.pk
    tasks = WorkTask.objects.filter(kind=WorkTask.Kind.PLAN_DUE, episode=plan.episode)
    assert [(t.due_on, t.status) for t in tasks] == [(date(2026, 11, 9), "open")]


def test_signing_needs_a_complete_plan(clinic, patient):
    version = draft(patient, clinic.clinician)
    with pytest.raises(ValidationError) as exc:
        actions.do_sign_version(version, acting_user=clinic.clinician)
    assert "problems" in exc.value.message_dict


def test_a_clinician_signs_then_the_patient_and_the_version_is_in_force(clinic, patient):
    version = signed_by_clinician(patient, clinic.clinician)
    assert version.status == S.AWAITING_PATIENT and version.clinician_signed_at
    version = actions.do_patient_sign(version, acting_user=clinic.clinician, name="Jordan Rivera", method="checkbox",
                                      agreed=True)  # fmt: skip
    plan = version.plan
    plan.refresh_from_db()
    assert version.status == S.ACTIVE and plan.current_version == version
    assert plan.next_review_on is not None
    review = plan.reviews.get()
    assert (review.trigger, review.status, review.due_on) == ("scheduled", "due", plan.next_review_on)
    assert WorkTask.objects.get(kind=WorkTask.Kind.PLAN_DUE).outcome == WorkTask.Outcome.NOT_NEEDED
    assert WorkTask.objects.get(kind=WorkTask.Kind.PLAN_REVIEW_DUE).due_on == review.due_on


def test_a_signed_version_is_locked(clinic, patient):
    version = signed_by_clinician(patient, clinic.clinician)
    problem = version.problems.get()
    with pytest.raises(ValidationError) as exc:
        content_actions.do_update_problem(problem, acting_user=clinic.clinician, statement="Changed")
    assert "status" in exc.value.message_dict


def test_the_patient_must_agree_and_a_drawing_must_be_a_png(clinic, patient):
    version = signed_by_clinician(patient, clinic.clinician)
    with pytest.raises(ValidationError) as exc:
        actions.do_patient_sign(version, acting_user=clinic.clinician, name="", method="drawn", agreed=False,
                                drawing="data:image/png;base64,AAAA")  # fmt: skip
    assert {"patient_signature_name", "agreed"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError) as exc:
        actions.do_patient_sign(version, acting_user=clinic.clinician, name="J R", method="drawn", agreed=True,
                                drawing="data:image/png;base64,AAAA")  # fmt: skip
    assert "patient_signature_drawing" in exc.value.message_dict
    version.refresh_from_db()
    assert version.status == S.AWAITING_PATIENT and version.patient_signed_at is None


def test_an_intern_needs_the_supervisors_cosignature(clinic, patient):
    version = signed_by_clinician(patient, clinic.intern)
    assert version.status == S.AWAITING_COSIGN
    task = WorkTask.objects.get(kind=WorkTask.Kind.COSIGN_NEEDED)
    assert task.assigned_to == clinic.clinician  # the intern's supervisor
    with pytest.raises(ValidationError):
        actions.do_patient_sign(version, acting_user=clinic.intern, name="J R", method="typed", agreed=True)
    for wrong in (clinic.intern, clinic.director):
        with pytest.raises(ValidationError) as exc:
            actions.do_cosign_version(version, acting_user=wrong)
        assert "cosigned_by" in exc.value.message_dict
    version = actions.do_cosign_version(version, acting_user=clinic.clinician)
    assert (version.status, version.cosigned_by) == (S.AWAITING_PATIENT, clinic.clinician)
    task.refresh_from_db()
    assert task.status == "done"
    version = actions.do_patient_sign(version, acting_user=clinic.intern, name="J R", method="typed", agreed=True)
    assert version.status == S.ACTIVE


def test_the_supervisor_can_send_it_back_to_draft(clinic, patient):
    version = signed_by_clinician(patient, clinic.intern)
    version = actions.do_return_to_draft(version, acting_user=clinic.clinician)
    assert version.status == S.DRAFT and version.clinician_signed_at is None
    assert WorkTask.objects.get(kind=WorkTask.Kind.COSIGN_NEEDED).status == "done"
    content_actions.do_update_problem(version.problems.get(), acting_user=clinic.intern, statement="Clearer statement.")


def test_a_review_that_modifies_the_plan_copies_it_and_activation_supersedes(clinic, patient):
    first = active(patient, clinic.clinician)
    plan = first.plan
    review = plan.reviews.get()
    review = actions.do_complete_review(review, acting_user=clinic.clinician, outcome="modify_plan",
                                        summary="Mood better; add a family session.")  # fmt: skip
    second = review.next_version
    assert second is not None and (second.number, second.status, second.reason) == (2, S.DRAFT, "review")
    old_rows = {p.lineage: p for p in first.problems.all()}
    new_rows = list(second.problems.all())
    assert [p.lineage for p in new_rows] == list(old_rows) and new_rows[0].pk not in {p.pk for p in old_rows.values()}
    objective = new_rows[0].goals.get().objectives.get()
    assert objective.lineage == first.problems.get().goals.get().objectives.get().lineage
    content_actions.do_add_intervention(
        objective, acting_user=clinic.clinician, modality="family_session", frequency="weekly"
    )
    second = actions.do_sign_version(second, acting_user=clinic.clinician)
    second = actions.do_patient_sign(second, acting_user=clinic.clinician, name="J R", method="typed", agreed=True)
    first.refresh_from_db()
    assert (first.status, second.status) == (S.SUPERSEDED, S.ACTIVE) and first.superseded_at
    assert first.problems.get().goals.get().objectives.get().interventions.count() == 1
    assert plan.reviews.filter(status="due", trigger="scheduled").count() == 1


def test_continue_restarts_the_review_clock_from_the_day_it_was_held(clinic, patient):
    version = active(patient, clinic.clinician)
    plan = version.plan
    review = plan.reviews.get()
    held = min(review.due_on - timedelta(days=5), local_today(clinic.mh))
    actions.do_complete_review(review, acting_user=clinic.clinician, outcome="continue", summary="On track.",
                               held_on=held)  # fmt: skip
    plan.refresh_from_db()
    nxt = plan.reviews.get(status="due")
    assert nxt.due_on == plan.next_review_on and nxt.due_on > held
    assert WorkTask.objects.get(trigger_key=f"plan_review_due:{review.public_id}").status == "done"


def test_a_review_needs_an_outcome_and_a_summary(clinic, patient):
    review = active(patient, clinic.clinician).plan.reviews.get()
    with pytest.raises(ValidationError) as exc:
        actions.do_complete_review(review, acting_user=clinic.clinician, outcome="maybe", summary=" ")
    assert {"outcome", "summary"} <= set(exc.value.message_dict)
    review.refresh_from_db()
    assert review.status == "due"


def test_an_event_raises_one_unscheduled_review_per_key(clinic, patient):
    plan = active(patient, clinic.clinician).plan
    first, created = actions.do_request_review(plan, acting_user=clinic.clinician, trigger="recertification",
                                               trigger_key="recert:1")  # fmt: skip
    again, created_again = actions.do_request_review(plan, acting_user=None, trigger="recertification",
                                                     trigger_key="recert:1")  # fmt: skip
    assert created and not created_again and first.pk == again.pk
    plan.refresh_from_db()
    assert first.version_reviewed == plan.current_version


def test_no_unscheduled_review_before_the_first_plan_is_in_force(clinic, patient):
    plan = plan_for(patient)
    with pytest.raises(ValidationError) as exc:
        actions.do_request_review(plan, acting_user=clinic.clinician, trigger="level_of_care_change")
    assert "trigger" in exc.value.message_dict


def test_reordering_swaps_neighbours(clinic, patient):
    version = draft(patient, clinic.clinician)
    fill(version, clinic.clinician)
    second = content_actions.do_add_problem(version, acting_user=clinic.clinician, statement="Drinking daily.")
    assert content_actions.do_move_item(second, acting_user=clinic.clinician, direction="up")
    assert [p.statement for p in version.problems.order_by("order")] == ["Drinking daily.", "Depressed mood most days."]
    assert not content_actions.do_move_item(second, acting_user=clinic.clinician, direction="up")


def test_writes_are_audited_with_field_names_only(clinic, patient):
    version = draft(patient, clinic.clinician)
    fill(version, clinic.clinician)
    rows = AuditEvent.objects.filter(patient=patient, object_type__in=["planversion", "problem", "goal"])
    changed = rows.filter(action=AuditAction.UPDATED, object_type="planversion").get().changed_fields
    assert sorted(changed) == ["patient_words", "strengths"]
    for row in rows:
        assert "Depressed" not in str(row.changed_fields) and "sister" not in str(row.changed_fields)
