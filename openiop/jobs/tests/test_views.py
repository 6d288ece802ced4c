"""The background-jobs page: who may see it, what it shows, and a query count that does not grow with history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.jobs.models import PeriodicRun, WorkerHeartbeat

pytestmark = pytest.mark.django_db
URL = reverse("jobs:status")


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("who", ["clinician", "intern", "intake", "frontdesk", "billing", "auditor"])
def test_others_are_refused(client, clinic, who):
    assert login(client, getattr(clinic, who)).get(URL).status_code == 403


@pytest.mark.parametrize("who", ["sysadmin", "director"])
def test_sysadmins_and_directors_see_every_job(client, clinic, who):
    now = timezone.now()
    PeriodicRun.objects.create(
        job="escalate_alerts", slot=now - timedelta(minutes=1), status="done", attempts=1, result={"escalated": 2}
    )
    PeriodicRun.objects.create(
        job="schedule_measures", slot=now - timedelta(days=1), status="failed", attempts=3, error="ValueError at x.py:3"
    )
    WorkerHeartbeat.objects.create(
        worker_id="web1:42:abc", hostname="web1", pid=42, backend="b", started_at=now, seen_at=now
    )
    response = login(client, getattr(clinic, who)).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    for name in ("escalate_alerts", "reminders", "schedule_measures", "dose_flags", "audit_verify"):
        assert f'data-job="{name}"' in page
    assert "escalated: 2" in page and "ValueError at x.py:3" in page
    assert "web1:42:abc" in page
    jobs = {s.job.name: s for s in response.context["overview"].jobs}
    assert jobs["escalate_alerts"].next_due == jobs["escalate_alerts"].last.slot + timedelta(minutes=1)
    assert jobs["schedule_measures"].failed_runs == 1
    assert response.context["overview"].backend == "ImmediateBackend"


def test_the_database_queue_counts(client, clinic, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from openiop.jobs.tests import testjobs

    testjobs.add.enqueue(1, 2)
    response = login(client, clinic.sysadmin).get(URL)
    assert response.context["overview"].tasks == {"queued": 1, "running": 0, "failed": 0}
    assert 'data-count="queued">1<' in response.content.decode()


def test_no_worker_running_says_so(client, clinic):
    page = login(client, clinic.sysadmin).get(URL).content.decode()
    assert "No worker is running" in page


def test_the_query_count_does_not_grow_with_history(client, clinic):
    login(client, clinic.sysadmin)
    PeriodicRun.objects.create(job="escalate_alerts", slot=timezone.now(), status="done")
    client.get(URL)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    now = timezone.now()
    PeriodicRun.objects.bulk_create(
        PeriodicRun(job=job, slot=now - timedelta(minutes=i), status="done" if i % 3 else "failed", error="E" * (i % 2))
        for job in ("escalate_alerts", "expire_offers", "dose_flags")
        for i in range(40)
    )
    assert count() == few
