"""The periodic scheduler in one process: slots, claims, leases taken back, retries, a broken job beside good
ones, and the registry itself. Tasks run inline (ImmediateBackend, the suite's default), so a tick runs its jobs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django.utils.module_loading import import_string

from openiop.jobs import periodic
from openiop.jobs.models import PeriodicRun
from openiop.jobs.periodic import PeriodicJob
from openiop.jobs.tests import testjobs

Status = PeriodicRun.Status
MINUTE = timedelta(minutes=1)
T0 = datetime(2026, 12, 1, 15, 30, 20, tzinfo=UTC)


def job(name: str = "probe", path: str = "openiop.jobs.tests.testjobs.record", **kw) -> PeriodicJob:
    return PeriodicJob(name, path, "test", **{"every": MINUTE, **kw})


@pytest.fixture
def probe(transactional_db):
    testjobs.create_probe()
    yield
    testjobs.drop_probe()


@pytest.fixture
def jobs(settings):
    def use(*registered: PeriodicJob) -> None:
        settings.OPENIOP_PERIODIC_JOBS = registered

    return use


# --- Slots (pure) -------------------------------------------------------------------------------------------------


def test_interval_slots_are_aligned_so_every_worker_computes_the_same():
    j = job(every=timedelta(minutes=15))
    assert j.slot_at(T0) == datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
    assert j.slot_at(T0 + timedelta(minutes=14, seconds=39)) == datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
    assert j.next_slot(j.slot_at(T0)) == datetime(2026, 12, 1, 15, 45, tzinfo=UTC)


def test_daily_slot_is_the_configured_local_hour_across_daylight_saving(settings):
    zone = {"jobs_daily_hour": 4, "jobs_time_zone": "America/New_York"}
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, **zone}
    daily = job(every=None)
    # 03:00 New York on 1 Dec is before today's 04:00, so the slot is yesterday's.
    assert daily.slot_at(datetime(2026, 12, 1, 8, 0, tzinfo=UTC)) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert daily.slot_at(datetime(2026, 12, 1, 9, 0, tzinfo=UTC)) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    # Clocks go back on 1 Nov 2026: 04:00 EDT is 08:00 UTC, the next day's 04:00 EST is 09:00 UTC (25 h later).
    before = datetime(2026, 10, 31, 8, 0, tzinfo=UTC)
    assert daily.next_slot(before) == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    assert daily.schedule_label == "daily at 04:00 (America/New_York)"


def test_due_slots_first_run_current_only_then_every_missed_slot_up_to_catch_up():
    j = job(catch_up=3)
    assert j.due_slots(None, T0) == ([datetime(2026, 12, 1, 15, 30, tzinfo=UTC)], 0)
    last = datetime(2026, 12, 1, 15, 28, tzinfo=UTC)
    assert j.due_slots(last, T0) == ([last + MINUTE, last + 2 * MINUTE], 0)
    assert j.due_slots(datetime(2026, 12, 1, 15, 30, tzinfo=UTC), T0) == ([], 0)
    slots, missed = j.due_slots(datetime(2026, 12, 1, 15, 20, tzinfo=UTC), T0)
    assert missed == 7
    assert slots == [datetime(2026, 12, 1, 15, m, tzinfo=UTC) for m in (28, 29, 30)]


# --- Claims and runs ----------------------------------------------------------------------------------------------


def test_each_slot_is_claimed_once_however_many_ticks(probe, jobs):
    jobs(job())
    first = periodic.tick(T0)
    again = periodic.tick(T0 + timedelta(seconds=20))
    assert (first.claimed, again.claimed) == (1, 0)
    periodic.tick(T0 + 2 * MINUTE)  # two minutes later: the two slots since
    runs = list(PeriodicRun.objects.order_by("slot").values_list("slot", "status", "attempts", "result"))
    assert [r[0].minute for r in runs] == [30, 31, 32]  # T0's slot and the two since, none twice
    assert {(r[1], r[2]) for r in runs} == {(Status.DONE, 1)}
    assert runs[0][3] == {"recorded": 1}
    ends = [r for r in testjobs.probe_rows() if r[3] == "end"]
    assert sorted(r[1] for r in ends) == sorted(r[0].isoformat() for r in runs)


def test_a_duplicate_delivery_of_a_slot_does_nothing(probe, jobs):
    jobs(job())
    periodic.tick(T0)
    run = PeriodicRun.objects.get()
    assert periodic.run_periodic.call(run.pk) == {"skipped": 1}
    assert len([r for r in testjobs.probe_rows() if r[3] == "end"]) == 1


def test_a_killed_workers_slot_is_taken_back_after_its_lease_and_run_again(probe, jobs):
    jobs(job(max_attempts=2))
    slot = job().slot_at(T0)
    # What a worker killed mid-run leaves: running, attempt 1, a lease nobody renews.
    PeriodicRun.objects.create(
        job="probe", slot=slot, status=Status.RUNNING, attempts=1, lease_until=T0 - MINUTE, worker="gone:1"
    )
    report = periodic.tick(T0)
    assert (report.reclaimed, report.claimed) == (1, 0)
    run = PeriodicRun.objects.get()
    assert (run.status, run.attempts) == (Status.DONE, 2)
    assert [r[3] for r in testjobs.probe_rows()] == ["start", "end"]


def test_a_slot_whose_worker_died_on_every_attempt_is_marked_failed(probe, jobs):
    jobs(job(max_attempts=2))
    PeriodicRun.objects.create(
        job="probe", slot=job().slot_at(T0), status=Status.RUNNING, attempts=2, lease_until=T0 - MINUTE
    )
    assert periodic.tick(T0).failed == 1
    run = PeriodicRun.objects.get()
    assert (run.status, run.error) == (Status.FAILED, "WorkerLost: stopped during the run")
    assert testjobs.probe_rows() == []


def test_a_failing_job_keeps_the_class_and_place_never_the_message_and_is_retried(transactional_db, jobs, caplog):
    jobs(job("bad", "openiop.jobs.tests.testjobs.boom", max_attempts=2, retry_delay=MINUTE))
    caplog.set_level(logging.INFO, logger="openiop.jobs")
    now = timezone.now()  # the retry's lease is counted from the real clock at the failure
    periodic.tick(now)
    run = PeriodicRun.objects.get()
    assert run.status == Status.QUEUED  # attempt 1 failed: queued again, its lease the retry delay
    assert run.error.startswith("ValueError at openiop/jobs/tests/testjobs.py:")
    assert "failed: ValueError" in caplog.text
    assert "Jordan" not in caplog.text
    periodic.tick(now + timedelta(seconds=30))  # before the retry delay: not again (a new minute's slot may start)
    assert PeriodicRun.objects.get(pk=run.pk).attempts == 1
    assert run.lease_until is not None
    periodic.tick(run.lease_until + timedelta(seconds=1))
    run.refresh_from_db()
    assert (run.status, run.attempts) == (Status.FAILED, 2)


def test_a_missing_module_fails_that_job_only(probe, jobs, caplog):
    jobs(job("reminders", "openiop.no_such_app.jobs.run_reminders"), job("probe"))
    periodic.tick(T0)
    runs = dict(PeriodicRun.objects.values_list("job", "status"))
    assert runs == {"reminders": Status.QUEUED, "probe": Status.DONE}
    # The missing module's dotted name, and the innermost place in our code: where the path is imported.
    error = PeriodicRun.objects.get(job="reminders").error
    assert error.startswith("ModuleNotFoundError: openiop.no_such_app at openiop/jobs/periodic.py:")


def test_the_reminders_entry_runs_the_function_its_path_names(transactional_db, jobs):
    jobs(job("reminders", "openiop.jobs.tests.testjobs.reminders_stand_in"))
    periodic.tick(T0)
    run = PeriodicRun.objects.get()
    assert (run.job, run.status, run.result) == ("reminders", Status.DONE, {"sent": 0})


def test_a_job_taken_off_the_registry_fails_its_waiting_slot(transactional_db, jobs):
    jobs(job("stand_in", "openiop.jobs.tests.testjobs.reminders_stand_in"))
    PeriodicRun.objects.create(job="retired", slot=T0, status=Status.QUEUED, lease_until=T0 - MINUTE)
    periodic.tick(T0)
    assert PeriodicRun.objects.get(job="retired").status == Status.FAILED


# --- The registry -------------------------------------------------------------------------------------------------


def test_the_registry_schedules_every_periodic_command_and_reminders():
    jobs = {j.name: j for j in periodic.DEFAULT_JOBS}
    assert jobs["reminders"].path == "openiop.reminders.jobs.run_reminders"
    assert jobs["reminders"].every == MINUTE
    assert jobs["escalate_alerts"].every == MINUTE
    for daily in (
        "extend_schedule",
        "schedule_measures",
        "plan_deadlines",
        "billable_days",
        "audit_verify",
        "audit_anchor",
    ):
        assert jobs[daily].daily, daily
    assert {"expire_offers", "note_deadlines", "dose_flags"} <= set(jobs)
    for j in jobs.values():
        if j.name != "reminders":  # another app's, not on this branch
            assert callable(import_string(j.path)), j.name


def test_disabled_jobs_are_left_out(settings):
    settings.OPENIOP_PERIODIC_JOBS_DISABLED = ["reminders", "dose_flags"]
    names = set(periodic.registry())
    assert "reminders" not in names and "dose_flags" not in names and "escalate_alerts" in names


@pytest.mark.django_db
def test_the_builtin_jobs_run_on_an_empty_clinic():
    from openiop.jobs import builtin

    assert builtin.escalate_alerts() == {"escalated": 0}
    assert builtin.expire_offers() == {"expired": 0}
    assert builtin.schedule_measures() == {"due": 0, "expired": 0}
    assert builtin.plan_deadlines()["plans_created"] == 0
    assert builtin.billable_days() == {"evaluated": 0, "changed": 0}
    assert builtin.pending_billable_days() == {"decided": 0}
    assert builtin.audit_verify()["rows"] >= 0
    assert builtin.audit_anchor() == {"anchored_index": 0}  # an empty chain: nothing to anchor
    assert "0 sessions created" in builtin.extend_schedule()["summary"]
    assert "0 task(s) raised" in builtin.note_deadlines()["summary"]


@pytest.mark.django_db
def test_the_anchor_job_anchors_a_sound_chain_and_refuses_a_broken_one(settings, tmp_path):
    from django.db import connection

    from openiop.core import audit
    from openiop.core.models import AuditAction
    from openiop.jobs import builtin

    settings.AUDIT_ANCHOR_PATH = tmp_path / "anchors.jsonl"
    row = audit.record(action=AuditAction.RECORD_VIEWED, acting_user=None, object_type="probe")
    assert builtin.audit_anchor() == {"anchored_index": row.chain_index}
    assert audit.load_anchors()[0][0].row_hash == row.row_hash
    with connection.cursor() as cursor:  # a forged row at the head (the triggers let it in; its HMAC is wrong)
        cursor.execute(
            "INSERT INTO core_auditevent (chain_index, occurred_at, actor_label, action, object_type, object_id, "
            "changed_fields, user_agent, request_id, prev_hash, row_hash, key_id) "
            "VALUES (%s, %s, 'x', 200, '', '', '[]', '', '', %s, 'forged', %s)",
            [row.chain_index + 1, row.occurred_at, row.row_hash, settings.AUDIT_HMAC_KEY_ID],
        )
    with pytest.raises(builtin.AuditChainBroken):
        builtin.audit_anchor()
    with pytest.raises(builtin.AuditChainBroken):
        builtin.audit_verify()
    assert len(settings.AUDIT_ANCHOR_PATH.read_text().splitlines()) == 1
