"""The database backend (django-tasks-db) end to end under our worker: enqueue, run, results, failures without
their messages in the log, a dead worker's task queued again, and periodic slots through the queue."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from openiop.jobs.models import PeriodicRun, WorkerHeartbeat
from openiop.jobs.periodic import PeriodicJob
from openiop.jobs.tests import testjobs
from openiop.jobs.worker import DatabaseRunner, Worker

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_task_waits_in_the_table_until_the_worker_runs_it(database_tasks):
    result = testjobs.add.enqueue(2, 3)
    assert result.status == TaskResultStatus.READY
    assert DBTaskResult.objects.get().status == "READY"
    worker = Worker(scheduler=False, once=True, worker_id="test-worker")
    assert worker.run() == 1
    result.refresh()
    assert (result.status, result.return_value, result.worker_ids) == (TaskResultStatus.SUCCESSFUL, 5, ["test-worker"])
    beat = WorkerHeartbeat.objects.get(worker_id="test-worker")
    assert beat.stopped_at is not None and beat.tasks_run == 1


def test_max_tasks_stops_the_worker_with_tasks_left(database_tasks):
    for i in range(3):
        testjobs.add.enqueue(i, i)
    assert Worker(scheduler=False, max_tasks=2).run() == 2
    assert DBTaskResult.objects.filter(status="READY").count() == 1


def test_a_failed_task_is_stored_and_logged_without_its_message(database_tasks, caplog):
    caplog.set_level(logging.INFO)
    result = testjobs.fail.enqueue()
    Worker(scheduler=False, once=True).run()
    result.refresh()
    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class_path == "builtins.ValueError"
    assert "Task id=" in caplog.text and "(ValueError)" in caplog.text
    assert "Jordan" not in caplog.text


def test_a_dead_workers_running_task_goes_back_to_the_queue(database_tasks):
    result = testjobs.add.enqueue(1, 1)
    row = DBTaskResult.objects.get()
    row.claim("dead-worker")  # what a worker killed mid-task leaves behind
    long_ago = timezone.now() - timedelta(minutes=5)
    WorkerHeartbeat.objects.create(
        worker_id="dead-worker", hostname="h", pid=1, backend="x", started_at=long_ago, seen_at=long_ago
    )
    # A worker that is merely busy (recent beat) keeps its task.
    row2 = DBTaskResult.objects.get(pk=testjobs.add.enqueue(2, 2).id)
    row2.claim("busy-worker")
    WorkerHeartbeat.objects.create(
        worker_id="busy-worker", hostname="h", pid=2, backend="x", started_at=long_ago, seen_at=timezone.now()
    )
    runner = DatabaseRunner(testjobs.add.get_backend(), "rescuer", ["default"])
    assert runner.recover() == 1
    assert runner.run_one()
    result.refresh()
    assert (result.status, result.worker_ids) == (TaskResultStatus.SUCCESSFUL, ["dead-worker", "rescuer"])
    assert DBTaskResult.objects.get(pk=row2.pk).status == "RUNNING"
    assert WorkerHeartbeat.objects.get(worker_id="dead-worker").stopped_at is not None


def test_periodic_slots_go_through_the_queue(database_tasks, settings):
    settings.OPENIOP_PERIODIC_JOBS = (
        PeriodicJob("stand_in", "openiop.jobs.tests.testjobs.reminders_stand_in", "t", every=timedelta(minutes=1)),
    )
    worker = Worker(once=True)
    assert worker.run() == 1  # the scheduler enqueued one slot's task; the same pass ran it
    run = PeriodicRun.objects.get()
    assert (run.status, run.result, run.attempts) == (PeriodicRun.Status.DONE, {"sent": 0}, 1)
    assert DBTaskResult.objects.get().task_path == "openiop.jobs.periodic.run_periodic"
