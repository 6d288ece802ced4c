"""A check-in's billable day is decided after its commit, by a queued task: always, and once.

The check-in leaves a pending row in its own transaction and queues ``decide_billable_day`` on commit. Real commits
here (transactional tests; the tests' task backend runs a queued task inline, on commit), real threads with their own
connections for the races, on SQLite and PostgreSQL; and, for the readers, a check-in whose commit never comes (a
test's transaction), which is what a lost task looks like to them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks.signals import task_finished

from openiop.attendance.actions import do_check_in
from openiop.billing import days as billing_days
from openiop.billing import tasks
from openiop.billing.models import BillableDay, PendingBillableDay
from openiop.billing.tests.conftest import PRESENT, UNEXCUSED, Day, add_coverage, make_day, rule
from openiop.conftest import login
from openiop.core.context import RequestOrigin, reset_origin, set_origin
from openiop.core.models import AuditAction, AuditEvent
from openiop.jobs import builtin
from openiop.testing.fixtures import Clinic, build_clinic
from openiop.testing.threads import together

REPETITIONS = 4
THREADS = 4


def _audit_rows(day: BillableDay, action: AuditAction) -> Any:
    return AuditEvent.objects.filter(object_type="billableday", object_id=str(day.public_id), action=action)


def _medicare_day(clinic: Clinic, **kwargs: Any) -> Day:
    day = make_day(clinic, sessions=3, **kwargs)
    add_coverage(day.patient, "medicare")
    return day


@pytest.fixture
def committed_clinic(transactional_db) -> Clinic:
    clinic = build_clinic()
    rule(clinic, name="Medicare IOP", payer_kind="medicare", min_services_per_day=3, high_tier_services=4)
    return clinic


@pytest.fixture
def queued(monkeypatch) -> list[tuple[int, str]]:
    """The decisions check-ins queue, kept here instead of reaching the queue: a task lost after the commit."""
    lost: list[tuple[int, str]] = []
    monkeypatch.setattr(billing_days, "_enqueue", lambda episode_id, day: lost.append((episode_id, day)))
    return lost


# --- Always decided -----------------------------------------------------------------------------------------------


@pytest.fixture
def finished() -> Iterator[list[Any]]:
    """The results of the billable-day tasks that ran."""
    results: list[Any] = []

    def keep(sender: Any, task_result: Any, **kwargs: Any) -> None:
        if task_result.task.func is tasks.decide_billable_day.func:
            results.append(task_result)

    task_finished.connect(keep)
    yield results
    task_finished.disconnect(keep)


@pytest.mark.django_db(transaction=True)
def test_a_committed_check_in_is_decided_once_by_its_task(committed_clinic, finished):
    clinic = committed_clinic
    day = _medicare_day(clinic)
    results = finished
    do_check_in(day.sessions[0], day.patient, acting_user=clinic.frontdesk, status=PRESENT)
    assert [(r.status, r.return_value) for r in results] == [
        (TaskResultStatus.SUCCESSFUL, {"decided": 1, "changed": 1})
    ]
    decided = day.billable()
    assert (decided.service_count, decided.is_billable) == (1, False)
    created = _audit_rows(decided, AuditAction.CREATED).get()
    assert (created.actor, created.patient_id) == (clinic.frontdesk, day.patient.pk)
    assert not _audit_rows(decided, AuditAction.UPDATED).exists()
    assert not PendingBillableDay.objects.exists()
    # Each later check-in of the day is one more decision, by its own task.
    for session in day.sessions[1:]:
        do_check_in(session, day.patient, acting_user=clinic.clinician, status=PRESENT)
    decided.refresh_from_db()
    assert (decided.service_count, decided.is_billable, decided.tier) == (3, True, BillableDay.Tier.STANDARD)
    assert _audit_rows(decided, AuditAction.UPDATED).count() == 2
    assert len(results) == 3 and not PendingBillableDay.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_correction_from_present_to_absent_is_decided_again(committed_clinic):
    clinic = committed_clinic
    day = _medicare_day(clinic)
    day.attend(3)
    decided = day.billable()
    assert decided.is_billable
    day.correct(2, UNEXCUSED)
    decided.refresh_from_db()
    assert (decided.is_billable, decided.service_count, decided.tier) == (False, 2, BillableDay.Tier.NONE)
    assert decided.reason == "2 services, 110 min: Medicare IOP needs 3 services"
    assert _audit_rows(decided, AuditAction.UPDATED).count() == 3  # the two check-ins after the first, the correction
    assert not PendingBillableDay.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_task_that_never_reached_the_queue_is_decided_by_the_sweep(committed_clinic, monkeypatch, caplog):
    clinic = committed_clinic
    day = _medicare_day(clinic)

    class QueueDown:
        def enqueue(self, *args: Any) -> None:
            raise ConnectionError("redis://queue.internal:6379 refused")

    monkeypatch.setattr(tasks, "decide_billable_day", QueueDown())
    origin = set_origin(RequestOrigin(ip_address="10.0.0.7", request_id="a" * 32))
    try:
        with caplog.at_level(logging.ERROR, logger="openiop.billing"):
            day.attend(3)
    finally:
        reset_origin(origin)
    # The check-ins committed; the queue failing after the commit failed none of them, and logged no data.
    assert not BillableDay.objects.filter(episode=day.episode).exists()
    assert PendingBillableDay.objects.get().requested_by == clinic.clinician
    assert [r.getMessage() for r in caplog.records] == [
        "billable day: could not queue its decision (ConnectionError); the sweep will make it"
    ] * 3
    assert builtin.pending_billable_days() == {"decided": 0}  # under a minute old: its task may still come
    PendingBillableDay.objects.update(requested_at=timezone.now() - builtin.PENDING_GRACE - timedelta(seconds=1))
    assert builtin.pending_billable_days() == {"decided": 1}
    decided = day.billable()
    assert (decided.service_count, decided.is_billable) == (3, True)
    created = _audit_rows(decided, AuditAction.CREATED).get()
    # On behalf of who asked, from the request that asked (not the worker's empty one; no address either).
    assert (created.actor, created.request_id, created.ip_address) == (clinic.clinician, "a" * 32, None)
    assert not PendingBillableDay.objects.exists()
    assert builtin.pending_billable_days() == {"decided": 0}
    # The task, delivered after all, finds the day decided and writes nothing.
    monkeypatch.undo()
    assert tasks.decide_billable_day.enqueue(day.episode.pk, day.date.isoformat()).return_value == {
        "decided": 0,
        "changed": 0,
    }
    assert AuditEvent.objects.filter(object_type="billableday").count() == 1


def test_readers_decide_what_is_pending_in_their_range_first(client, clinic, rules):
    """A check-in in a test's transaction never commits, so its task never runs: to the billing page and the API
    that is a task not run yet (or lost). They decide the day before they list it."""
    day = _medicare_day(clinic)
    for session in day.sessions:
        do_check_in(session, day.patient, acting_user=clinic.clinician, status=PRESENT)
    assert PendingBillableDay.objects.filter(episode=day.episode).count() == 1
    assert not BillableDay.objects.filter(episode=day.episode).exists()
    login(client, clinic.billing)
    params = {"program": clinic.mh.pk, "date_from": day.date.isoformat(), "date_to": day.date.isoformat()}
    response = client.get("/billing/days/", params)
    assert [(r.date, r.service_count, r.is_billable) for r in response.context["rows"]] == [(day.date, 3, True)]
    assert not PendingBillableDay.objects.exists()
    created = _audit_rows(day.billable(), AuditAction.CREATED).get()
    assert created.actor == clinic.clinician  # who checked in, not who read the page
    # A day outside the range read stays pending (and is not decided by this reader).
    other = _medicare_day(clinic, days_ago=10)
    do_check_in(other.sessions[0], other.patient, acting_user=clinic.clinician, status=PRESENT)
    body = client.get("/api/v1/billing/days", {**params, "program": str(clinic.mh.public_id)}).json()
    assert body["count"] == 1
    assert PendingBillableDay.objects.filter(episode=other.episode).exists()


# --- Never twice ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_same_decision_delivered_twice_or_at_once_is_made_once(committed_clinic, queued):
    clinic = committed_clinic
    for repetition in range(REPETITIONS):
        day = _medicare_day(clinic, legal_first_name=f"Twice{repetition}", days_ago=3 + repetition)
        day.attend(3)
        assert len(queued) == 3 * (repetition + 1) and not BillableDay.objects.filter(episode=day.episode).exists()
        deliveries = [lambda d=day: tasks.decide_billable_day.enqueue(d.episode.pk, d.date.isoformat())] * THREADS
        results = together(deliveries)
        assert all(r.status == TaskResultStatus.SUCCESSFUL for r in results)
        assert sorted(r.return_value["decided"] for r in results) == [0] * (THREADS - 1) + [1], repetition
        decided = day.billable()
        assert (decided.service_count, decided.is_billable) == (3, True)
        assert _audit_rows(decided, AuditAction.CREATED).count() == 1
        assert not _audit_rows(decided, AuditAction.UPDATED).exists()
        # Once more, later: nothing pending, nothing written.
        again = tasks.decide_billable_day.enqueue(day.episode.pk, day.date.isoformat())
        assert again.return_value == {"decided": 0, "changed": 0}
        assert AuditEvent.objects.filter(object_type="billableday", object_id=str(decided.public_id)).count() == 1
    assert not PendingBillableDay.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_check_in_during_its_days_decision_is_not_lost(committed_clinic, queued):
    """The decision of the first check-in runs while the second is being committed: whichever reads the other's
    record, the pending row outlives a decision that did not (its token changed), so the day ends up counting both."""
    clinic = committed_clinic
    for repetition in range(REPETITIONS):
        day = _medicare_day(clinic, legal_first_name=f"During{repetition}", days_ago=3 + repetition)
        do_check_in(day.sessions[0], day.patient, acting_user=clinic.clinician, status=PRESENT)
        first = queued.pop()
        together(
            [
                lambda asked=first: tasks.decide_billable_day.enqueue(*asked),
                lambda d=day: do_check_in(d.sessions[1], d.patient, acting_user=clinic.frontdesk, status=PRESENT),
            ]
        )
        # The second check-in's own task (lost here, like the first's) or the sweep decides what is still pending.
        PendingBillableDay.objects.update(requested_at=timezone.now() - builtin.PENDING_GRACE - timedelta(seconds=1))
        builtin.pending_billable_days()
        queued.clear()
        assert day.billable().service_count == 2, repetition
        assert not PendingBillableDay.objects.filter(episode=day.episode).exists()
