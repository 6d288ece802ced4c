"""The work-queue task for a reconciliation owed: raised once by the daily job for what the tab says is owed (intake,
then a level-of-care change), for the primary clinician; closed in the signature's transaction; closed as not needed
when nothing owes it any more."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.jobs.periodic import DEFAULT_JOBS
from openiop.medications import actions
from openiop.medications.models import Reconciliation
from openiop.medications.worktasks import raise_reconciliation_tasks
from openiop.patients.actions import do_change_episode_status, do_change_level_of_care
from openiop.patients.models import EpisodeOfCare
from openiop.scheduling.actions.enrollment import do_enroll
from openiop.testing.levels import add_php
from openiop.testing.medications import add_medication
from openiop.testing.scheduling import admit
from openiop.worklist.models import WorkTask

KIND = WorkTask.Kind.MED_RECONCILIATION


@pytest.fixture
def episode(clinic):
    """Ana, admitted to Adult Mental Health a week ago, the clinician her primary clinician, on sertraline."""
    episode = admit(clinic, "Ana")
    EpisodeOfCare.objects.filter(pk=episode.pk).update(primary_clinician=clinic.clinician)
    episode.refresh_from_db()
    add_medication(episode, clinic.clinician, "sertraline")
    return episode


def _tasks(**filters):
    return list(WorkTask.objects.filter(kind=KIND, **filters).order_by("pk"))


def _sign(episode, user, occasion):
    return actions.do_sign_reconciliation(episode.patient, acting_user=user, episode=episode, occasion=occasion)


def test_the_job_is_a_daily_periodic_job():
    (job,) = [j for j in DEFAULT_JOBS if j.name == "med_reconciliations"]
    assert job.daily and job.path == "openiop.medications.worktasks.raise_reconciliation_tasks"


def test_an_intake_reconciliation_owed_raises_one_task_for_the_primary_clinician(clinic, episode):
    assert raise_reconciliation_tasks() == {"owed": 1, "raised": 1, "closed": 0}
    (task,) = _tasks()
    assert (task.episode, task.assigned_to, task.status) == (episode, clinic.clinician, WorkTask.Status.OPEN)
    assert task.reason.startswith("Medication reconciliation owed: intake (")
    assert "sertraline" not in task.reason.lower() and episode.patient.legal_last_name not in task.reason
    assert raise_reconciliation_tasks() == {"owed": 1, "raised": 0, "closed": 0}  # the next run raises nothing
    assert len(_tasks()) == 1


def test_signing_closes_the_task_in_the_same_transaction(clinic, episode):
    raise_reconciliation_tasks()
    with pytest.raises(ValidationError):  # the intake worker may not sign: neither the row nor the close happen
        _sign(episode, clinic.intake, "intake")
    assert _tasks(status=WorkTask.Status.OPEN) and not Reconciliation.objects.exists()
    _sign(episode, clinic.clinician, "intake")
    (task,) = _tasks()
    assert (task.status, task.outcome, task.closed_by) == (WorkTask.Status.DONE, "not_needed", clinic.clinician)
    assert task.outcome_note == "Reconciliation signed."
    assert raise_reconciliation_tasks() == {"owed": 0, "raised": 0, "closed": 0}


def test_a_level_of_care_change_owes_a_new_task_that_only_a_level_of_care_reconciliation_closes(clinic, episode):
    php = add_php(clinic)
    assert episode.admitted_on is not None
    do_enroll(episode, acting_user=clinic.clinician, track=clinic.day, starts_on=episode.admitted_on)
    _sign(episode, clinic.clinician, "intake")
    assert raise_reconciliation_tasks()["raised"] == 0
    today = timezone.localdate()
    do_change_level_of_care(episode, acting_user=clinic.director, track=php.track, effective_on=today,
                            reason="Step up")  # fmt: skip
    assert raise_reconciliation_tasks() == {"owed": 1, "raised": 1, "closed": 0}
    (task,) = _tasks(status=WorkTask.Status.OPEN)
    assert task.program == php.program and task.trigger_key.endswith(f":level_of_care:{today.isoformat()}")
    _sign(episode, clinic.clinician, "intake")  # not the occasion owed: the tab still says level of care
    assert _tasks(status=WorkTask.Status.OPEN) == [task]
    _sign(episode, clinic.clinician, "level_of_care")
    assert not _tasks(status=WorkTask.Status.OPEN)


def test_a_discharged_episode_owes_nothing_and_its_task_is_closed(clinic, episode):
    raise_reconciliation_tasks()
    do_change_episode_status(episode, acting_user=clinic.director, status=EpisodeOfCare.Status.DISCHARGED,
                             discharge_reason="1", on_date=timezone.localdate())  # fmt: skip
    raise_reconciliation_tasks()
    assert not _tasks(status=WorkTask.Status.OPEN)


def test_every_program_owes_it_substance_use_and_mental_health_alike(clinic, episode):
    admit(clinic, "Casey", program=clinic.su)
    assert raise_reconciliation_tasks()["raised"] == 2
    assert {t.program for t in _tasks()} == {clinic.mh, clinic.su}


def test_the_job_closes_a_task_nothing_owes_any_more(clinic, episode):
    raise_reconciliation_tasks()
    type(clinic.mh).objects.filter(pk=clinic.mh.pk).update(is_active=False)  # a program closed: none owed there
    assert raise_reconciliation_tasks() == {"owed": 0, "raised": 0, "closed": 1}
    (task,) = _tasks()
    assert (task.status, task.outcome_note) == (WorkTask.Status.DONE, "No reconciliation owed.")
