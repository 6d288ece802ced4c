"""The Redis backend against the real Redis at 127.0.0.1:6379 (database 9, a key prefix per test): results,
priority, deferral, the visibility timeout that re-delivers a dead worker's task, failures, and our worker."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist

from openiop.jobs.backends import redis as backend_module
from openiop.jobs.models import PeriodicRun
from openiop.jobs.periodic import PeriodicJob
from openiop.jobs.tests import testjobs
from openiop.jobs.worker import Worker


def later(seconds: float):
    """Run the backend's clock ahead (its deadlines and deferrals are compared with the clock it is given)."""
    return mock.patch.object(backend_module.timezone, "now", return_value=timezone.now() + timedelta(seconds=seconds))


def test_enqueue_claim_and_result(redis_tasks):
    result = testjobs.add.enqueue(2, 3)
    stored = redis_tasks.get_result(result.id)
    assert (stored.status, stored.args, stored.task.func) == (TaskResultStatus.READY, [2, 3], testjobs.add.func)
    claimed = redis_tasks.claim("w1")
    assert claimed.id == result.id and claimed.status == TaskResultStatus.RUNNING and claimed.worker_ids == ["w1"]
    assert redis_tasks.claim("w2") is None  # nothing else to take
    redis_tasks.set_successful(claimed, 5)
    result.refresh()
    assert (result.status, result.return_value) == (TaskResultStatus.SUCCESSFUL, 5)
    assert 0 < redis_tasks.client.ttl(redis_tasks._task_key(result.id)) <= redis_tasks.result_ttl
    assert redis_tasks.counts() == {"queued": 0, "running": 0, "failed": 0}
    with pytest.raises(TaskResultDoesNotExist):
        redis_tasks.get_result("no-such-id")


def test_higher_priority_first_then_first_in_first_out(redis_tasks):
    low = testjobs.add.using(priority=-5).enqueue(0, 0)
    first = testjobs.add.enqueue(1, 1)
    second = testjobs.add.enqueue(2, 2)
    urgent = testjobs.add.using(priority=10).enqueue(3, 3)
    order = [redis_tasks.claim("w").id for _ in range(4)]
    assert order == [urgent.id, first.id, second.id, low.id]


def test_a_deferred_task_waits_for_its_time(redis_tasks):
    result = testjobs.add.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(1, 2)
    assert redis_tasks.claim("w") is None
    assert redis_tasks.counts()["queued"] == 1
    with later(3601):
        assert redis_tasks.claim("w").id == result.id


def test_a_dead_workers_task_is_delivered_again_after_the_visibility_timeout(redis_tasks):
    result = testjobs.add.enqueue(1, 1)
    claimed = redis_tasks.claim("dies")
    assert redis_tasks.counts()["running"] == 1
    with later(20):
        assert redis_tasks.claim("other") is None  # still within the 30 s deadline
        redis_tasks.renew(claimed)  # a live worker pushes its deadline on
    with later(40):
        assert redis_tasks.claim("other") is None  # renewed at +20 s: due at +50 s
    with later(51):
        again = redis_tasks.claim("other")
    assert again.id == result.id and again.worker_ids == ["dies", "other"]
    redis_tasks.set_successful(again, 2)
    assert redis_tasks.get_result(result.id).status == TaskResultStatus.SUCCESSFUL


def test_a_failure_keeps_the_class_and_where_but_not_the_message(redis_tasks):
    result = testjobs.fail.enqueue()
    claimed = redis_tasks.claim("w")
    try:
        testjobs.boom()
    except ValueError as exc:
        redis_tasks.set_failed(claimed, exc)
    failed = redis_tasks.get_result(result.id)
    assert failed.status == TaskResultStatus.FAILED
    assert failed.errors[0].exception_class_path == "builtins.ValueError"
    assert "in boom" in failed.errors[0].traceback
    assert "Jordan" not in failed.errors[0].traceback
    assert redis_tasks.counts() == {"queued": 0, "running": 0, "failed": 1}


@pytest.mark.django_db(transaction=True)
def test_our_worker_runs_redis_tasks_and_stores_failures_without_messages(redis_tasks):
    ok = testjobs.add.enqueue(20, 22)
    bad = testjobs.fail.enqueue()
    assert Worker(scheduler=False, once=True, worker_id="w-redis").run() == 2
    ok.refresh()
    bad.refresh()
    assert (ok.status, ok.return_value, ok.worker_ids) == (TaskResultStatus.SUCCESSFUL, 42, ["w-redis"])
    assert bad.status == TaskResultStatus.FAILED
    assert bad.errors[0].exception_class_path == "builtins.ValueError"
    assert "testjobs.py" in bad.errors[0].traceback and "Jordan" not in bad.errors[0].traceback
    assert redis_tasks.counts() == {"queued": 0, "running": 0, "failed": 1}


@pytest.mark.django_db(transaction=True)
def test_periodic_slots_go_through_redis(redis_tasks, settings):
    settings.OPENIOP_PERIODIC_JOBS = (
        PeriodicJob("stand_in", "openiop.jobs.tests.testjobs.reminders_stand_in", "t", every=timedelta(minutes=1)),
    )
    assert Worker(once=True).run() == 1
    assert PeriodicRun.objects.get().status == PeriodicRun.Status.DONE
