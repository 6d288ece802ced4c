"""Two escalation runs at once (say, an overlapping cron): each its own thread and database connection, released
together by a barrier; the conditional UPDATE lets one of them claim each alert, and the SMTP server gets one
message per alert."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection

from openiop.measures.alerts import escalate_overdue_alerts
from openiop.measures.models import SafetyAlert
from openiop.testing.fixtures import build_clinic, make_patient
from openiop.testing.measures import completed, phq9

pytestmark = pytest.mark.django_db(transaction=True)

RUNNERS = 4


def test_concurrent_runs_send_one_email_per_alert(smtp_inbox):
    clinic = build_clinic()
    for i in range(3):
        patient = make_patient(clinic, legal_first_name=f"R{i}", legal_last_name="Race")
        completed(patient, clinic.clinician, "phq9", phq9(3, item9=2))
    later = max(SafetyAlert.objects.values_list("created_at", flat=True)) + timedelta(hours=2)
    barrier = threading.Barrier(RUNNERS)

    def run() -> int:
        try:
            barrier.wait()
            return escalate_overdue_alerts(later)
        finally:
            connection.close()

    with ThreadPoolExecutor(RUNNERS) as pool:
        claimed = list(pool.map(lambda _: run(), range(RUNNERS)))
    assert sum(claimed) == 3
    assert len(smtp_inbox.messages) == 3
    assert SafetyAlert.objects.filter(escalated_at=later).count() == 3
