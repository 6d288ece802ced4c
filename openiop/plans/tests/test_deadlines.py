"""``plan_deadlines``: plans and their work tasks raised exactly once, closed when done, due on working days."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management import call_command

from openiop.plans import actions
from openiop.plans.deadlines import run_plan_deadlines
from openiop.plans.models import PlanPolicy, PlanVersion, TreatmentPlan
from openiop.plans.policy import local_today
from openiop.scheduling.models import Closure
from openiop.testing.plans import active, draft, fill
from openiop.worklist.actions import do_reopen_task
from openiop.worklist.models import WorkTask

K = WorkTask.Kind


def _tasks(kind, **filters):
    return list(WorkTask.objects.filter(kind=kind, **filters).order_by("id"))


def test_the_sweep_makes_the_plan_and_its_due_task_once(clinic, patient):
    episode = patient.episodes.get()
    assert not TreatmentPlan.objects.filter(episode=episode).exists()
    first, second = run_plan_deadlines(), run_plan_deadlines()
    assert (first.plans_created, second.plans_created) == (1, 0)
    assert (second.tasks_raised, second.tasks_closed) == (0, 0)
    tasks = _tasks(K.PLAN_DUE, episode=episode)
    # Nov 2 + 7 calendar days, across the weekend: Monday Nov 9.
    assert [(t.due_on, t.status, t.trigger_key) for t in tasks] == [
        (date(2026, 11, 9), "open", actions.plan_due_key(episode))
    ]


def test_the_plan_due_task_closes_when_the_plan_is_in_force_and_a_reopened_one_is_closed_again(clinic, patient):
    run_plan_deadlines()
    version = active(patient, clinic.clinician)
    (task,) = _tasks(K.PLAN_DUE, episode=version.plan.episode)
    assert task.status == WorkTask.Status.DONE
    do_reopen_task(task, acting_user=None, due_on=date(2026, 11, 9))
    assert run_plan_deadlines().tasks_closed == 1
    task.refresh_from_db()
    assert task.status == WorkTask.Status.DONE
    assert run_plan_deadlines().tasks_closed == 0
    assert len(_tasks(K.PLAN_DUE, episode=version.plan.episode)) == 1


def test_a_missing_review_task_is_raised_once_and_closes_when_the_review_is_held(clinic, patient):
    version = active(patient, clinic.clinician)
    review = version.plan.reviews.get()
    (task,) = _tasks(K.PLAN_REVIEW_DUE, trigger_key=actions.review_key(review))
    # A task lost to a failed step (or raised before this sweep existed) is put back once.
    task.delete()
    assert run_plan_deadlines().tasks_raised == 1
    assert run_plan_deadlines().tasks_raised == 0
    (task,) = _tasks(K.PLAN_REVIEW_DUE, trigger_key=actions.review_key(review))
    assert (task.status, task.due_on) == (WorkTask.Status.OPEN, review.due_on)
    actions.do_complete_review(
        review, acting_user=clinic.clinician, held_on=local_today(clinic.mh), outcome="continue", summary="Going well."
    )
    task.refresh_from_db()
    assert task.status == WorkTask.Status.DONE
    # The next scheduled review has its own task; nothing else is raised or closed.
    run = run_plan_deadlines()
    assert (run.tasks_raised, run.tasks_closed) == (0, 0)
    assert len(_tasks(K.PLAN_REVIEW_DUE, episode=version.plan.episode, status="open")) == 1


def test_the_cosign_task_goes_to_the_supervisor_once_and_closes_on_cosigning(clinic, patient):
    version = draft(patient, clinic.intern)
    fill(version, clinic.intern)
    version = actions.do_sign_version(version, acting_user=clinic.intern)
    assert version.status == PlanVersion.Status.AWAITING_COSIGN
    run_plan_deadlines()
    run_plan_deadlines()
    (task,) = _tasks(K.COSIGN_NEEDED, trigger_key=actions.cosign_key(version))
    assert (task.status, task.assigned_to) == (WorkTask.Status.OPEN, clinic.clinician)
    actions.do_cosign_version(version, acting_user=clinic.clinician)
    task.refresh_from_db()
    assert task.status == WorkTask.Status.DONE
    run_plan_deadlines()
    assert len(_tasks(K.COSIGN_NEEDED, trigger_key=actions.cosign_key(version))) == 1


def test_a_swept_cosign_task_for_a_returned_version_is_closed(clinic, patient):
    version = draft(patient, clinic.intern)
    fill(version, clinic.intern)
    version = actions.do_sign_version(version, acting_user=clinic.intern)
    (task,) = _tasks(K.COSIGN_NEEDED, trigger_key=actions.cosign_key(version))
    task.delete()
    assert run_plan_deadlines().tasks_raised == 1
    (task,) = _tasks(K.COSIGN_NEEDED, trigger_key=actions.cosign_key(version))
    assert task.assigned_to == clinic.clinician
    actions.do_return_to_draft(version, acting_user=clinic.clinician)
    task.refresh_from_db()
    assert task.status == WorkTask.Status.DONE
    do_reopen_task(task, acting_user=None, due_on=local_today(clinic.mh))
    assert run_plan_deadlines().tasks_closed == 1


def _next(weekday: int, after: date) -> date:
    return after + timedelta(days=(weekday - after.weekday()) % 7 or 7)


def test_a_review_falling_on_a_saturday_after_a_closed_friday_is_due_on_thursday(clinic, patient):
    today = local_today(clinic.mh)
    saturday = _next(5, today + timedelta(days=20))
    PlanPolicy.objects.create(program=clinic.mh, plan_review_interval_days=(saturday - today).days)
    Closure.objects.create(organization=clinic.org, site=clinic.site, date=saturday - timedelta(days=1), name="Closed")
    version = active(patient, clinic.clinician)
    review = version.plan.reviews.get()
    assert review.due_on == saturday - timedelta(days=2) and review.due_on.weekday() == 3
    (task,) = _tasks(K.PLAN_REVIEW_DUE, trigger_key=actions.review_key(review))
    assert task.due_on == review.due_on
    version.plan.refresh_from_db()
    assert version.plan.next_review_on == review.due_on


def test_the_command_reports_what_it_did(clinic, patient, capsys):
    call_command("plan_deadlines")
    call_command("plan_deadlines")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("1 plans created") and out[1].startswith("0 plans created")
    assert "0 tasks raised, 0 tasks closed." in out[1]
