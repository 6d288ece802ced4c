"""Two (or eight) staff checking in the same person at once make one record, on SQLite and PostgreSQL.

Every tap is its own thread with its own database connection, released together by a barrier, so the
(session, patient) unique constraint, not the test's ordering, decides who inserts and who updates.
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from openiop.attendance.actions import do_check_in
from openiop.attendance.models import AttendanceCorrection, AttendanceRecord
from openiop.attendance.tests.rosters import book_people, session_at
from openiop.core.audit import verify_chain
from openiop.core.models import AuditAction, AuditEvent
from openiop.testing.fixtures import build_clinic
from openiop.testing.scheduling import make_booking

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
REPETITIONS = 15


def _tap(session, patient, user, status: str, fields: dict, barrier: threading.Barrier):
    try:
        barrier.wait(timeout=30)
        return do_check_in(session, patient, acting_user=user, status=status, **fields)
    finally:
        connection.close()


def _race(session, patient, taps: list[tuple]) -> list:
    barrier = threading.Barrier(len(taps))
    with ThreadPoolExecutor(max_workers=len(taps)) as pool:
        futures = [pool.submit(_tap, session, patient, user, status, fields, barrier) for user, status, fields in taps]
        return [f.result() for f in futures]


@pytest.fixture
def race_clinic(transactional_db):
    clinic = build_clinic()
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    # Parallel sessions (a factory, so no overlap check): each repetition races on a fresh session.
    sessions = [session_at(clinic.mh, start, minutes=60) for _ in range(REPETITIONS)]
    people = book_people(clinic, sessions[0], REPETITIONS)
    for session in sessions[1:]:
        for booking in people:
            make_booking(session, booking.patient, episode=booking.episode)
    return clinic, sessions, [b.patient for b in people]


def test_the_same_tap_from_8_staff_at_once_makes_one_record(race_clinic):
    clinic, sessions, patients = race_clinic
    users = [clinic.frontdesk, clinic.clinician, clinic.intern, clinic.director] * 2
    for repetition in range(REPETITIONS):
        session, patient = sessions[repetition], patients[repetition]
        results = _race(session, patient, [(u, "present", {}) for u in users])
        records = AttendanceRecord.objects.filter(session=session, patient=patient)
        assert records.count() == 1, f"repetition {repetition}"
        record = records.get()
        assert {r.pk for r in results} == {record.pk}
        assert record.version == 1 and record.minutes_attended == 60
        assert not AttendanceCorrection.objects.filter(record=record).exists()
        assert AuditEvent.objects.filter(object_id=str(record.public_id), action=AuditAction.CREATED).count() == 1
        assert not AuditEvent.objects.filter(object_id=str(record.public_id), action=AuditAction.UPDATED).exists()
    assert verify_chain() == []


def test_different_taps_at_once_make_one_record_and_keep_every_other_tap_as_a_version(race_clinic):
    clinic, sessions, patients = race_clinic
    taps = [
        (clinic.frontdesk, "present", {}),
        (clinic.clinician, "late", {"late_minutes": 10}),
        (clinic.intern, "left_early", {"left_early_minutes": 15}),
        (clinic.director, "absent_excused", {}),
    ] * 2
    for repetition in range(REPETITIONS):
        session, patient = sessions[repetition], patients[repetition]
        _race(session, patient, taps)
        record = AttendanceRecord.objects.get(session=session, patient=patient)
        history = list(AttendanceCorrection.objects.filter(record=record).order_by("version"))
        # Each tap that changed something replaced one version; identical consecutive taps changed nothing.
        assert [h.version for h in history] == list(range(1, record.version))
        assert 1 <= record.version <= len(taps)
        chain = [h.previous["status"] for h in history] + [record.status]
        assert all(a != b for a, b in itertools.pairwise(chain)), chain
        assert record.status in {status for _, status, _ in taps}
        events = AuditEvent.objects.filter(object_id=str(record.public_id))
        assert events.filter(action=AuditAction.CREATED).count() == 1
        assert events.filter(action=AuditAction.UPDATED).count() == record.version - 1
    assert verify_chain() == []
