"""The patient's signature deadline (docs/clinical-rules.md#treatment-plans-and-reviews): under the patient-signature
rule, a plan still unsigned (and not declined) after ``patient_signature_due_days`` raises one task for the primary
clinician in the daily ``plan_deadlines`` sweep, closed when the patient signs or declines; the plan page and the
chart header show the deadline, then "overdue"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.plans import actions
from openiop.plans.deadlines import run_plan_deadlines
from openiop.plans.models import PlanPolicy, PlanVersion
from openiop.testing.clock import moving_clock
from openiop.testing.plans import signed_by_clinician
from openiop.worklist.models import WorkTask

pytestmark = pytest.mark.django_db
K = WorkTask.Kind


def _tasks(version):
    key = actions.patient_signature_key(version)
    return list(WorkTask.objects.filter(kind=K.PLAN_PATIENT_SIGNATURE, trigger_key=key))


def _days_later(monkeypatch, days):
    moving_clock(monkeypatch, timezone.now() + timedelta(days=days))


def test_past_the_deadline_the_sweep_raises_one_task_and_the_signature_closes_it(monkeypatch, client, clinic, patient):
    version = signed_by_clinician(patient, clinic.clinician)
    assert version.status == PlanVersion.Status.AWAITING_PATIENT
    run_plan_deadlines()
    assert _tasks(version) == []  # within the 7 days: nothing to chase yet
    chart = login(client, clinic.clinician).get(patient.get_absolute_url()).content.decode()
    badge = chart.split('data-flag="plan"')[1].split("</a>")[0]
    assert "Plan awaiting patient signature (due " in badge and "overdue" not in badge
    _days_later(monkeypatch, 8)
    first, second = run_plan_deadlines(), run_plan_deadlines()
    (task,) = _tasks(version)
    assert first.tasks_raised >= 1 and second.tasks_raised == 0
    assert (task.status, task.assigned_to, task.episode) == ("open", clinic.clinician, version.plan.episode)
    assert task.reason.startswith("Plan version 1 awaiting the patient's signature past its deadline (")
    assert patient.legal_last_name not in task.reason
    # The header and the plan page say it is overdue (a new sign-in: the clock jumped past the session's limit).
    chart = login(client, clinic.clinician).get(patient.get_absolute_url()).content.decode()
    assert "Plan awaiting patient signature (overdue: due " in chart
    page = client.get(reverse("plans:version", args=[version.public_id])).content.decode()
    assert "waiting for the patient&#x27;s signature (overdue: due " in page
    actions.do_patient_sign(version, acting_user=clinic.clinician, name="Jordan Rivera", method="typed", agreed=True)
    task.refresh_from_db()
    assert task.status == "done" and task.outcome_note == "The patient signed"
    assert run_plan_deadlines().tasks_raised == 0


def test_a_documented_refusal_closes_the_task(monkeypatch, clinic, patient):
    version = signed_by_clinician(patient, clinic.clinician)
    _days_later(monkeypatch, 8)
    run_plan_deadlines()
    (task,) = _tasks(version)
    actions.do_record_patient_declined(version, acting_user=clinic.clinician, reason="Will not sign documents.")
    task.refresh_from_db()
    assert task.status == "done" and "declined" in task.outcome_note


def test_the_sweep_closes_a_task_whose_version_no_longer_waits(monkeypatch, clinic, patient):
    version = signed_by_clinician(patient, clinic.clinician)
    _days_later(monkeypatch, 8)
    run_plan_deadlines()
    (task,) = _tasks(version)
    actions.do_return_to_draft(version, acting_user=clinic.clinician)
    task.refresh_from_db()
    assert task.status == "done"


def test_the_programs_deadline_is_used_and_the_clinician_rule_raises_nothing(monkeypatch, client, clinic, patient):
    PlanPolicy.objects.create(program=clinic.mh, patient_signature_due_days=14)
    version = signed_by_clinician(patient, clinic.clinician)
    _days_later(monkeypatch, 8)
    run_plan_deadlines()
    assert _tasks(version) == []  # 14 days here
    monkeypatch.undo()
    other = signed_in_force(clinic, patient, version)
    _days_later(monkeypatch, 20)
    run_plan_deadlines()
    assert _tasks(other) == []  # in force: the chart shows the signature as owed, no task
    chart = login(client, clinic.clinician).get(patient.get_absolute_url()).content.decode()
    assert "Plan in force" in chart and "awaiting patient signature (overdue: due " in chart


def signed_in_force(clinic, patient, version):
    """The same patient's plan under the clinician-signature rule: version 1 back to draft and signed again."""
    PlanPolicy.objects.filter(program=clinic.mh).update(in_force_at=PlanPolicy.InForceAt.CLINICIAN_SIGNATURE)
    actions.do_return_to_draft(version, acting_user=clinic.clinician)
    signed = actions.do_sign_version(version, acting_user=clinic.clinician)
    assert signed.status == PlanVersion.Status.ACTIVE and signed.patient_signed_at is None
    return signed
