"""The record page: its history and the correction form (reason required, nothing lost, audited)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.attendance.actions import do_check_in
from openiop.attendance.models import AttendanceCorrection
from openiop.attendance.tests.rosters import book_people, session_at
from openiop.core.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(clinic):
    session = session_at(clinic.mh, timezone.now().replace(second=0, microsecond=0) - timedelta(days=2))
    [booking] = book_people(clinic, session, 1)
    return do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="present")


def _url(record) -> str:
    return reverse("attendance:record", args=[record.public_id])


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("clinician", 200),
        ("frontdesk", 200),
        ("auditor", 200),
        ("billing", 200),
        ("sysadmin", 403),
        ("outsider", 404),
        ("stranger", 404),
    ],
)
def test_who_may_read_a_record_and_its_history(client, clinic, record, who, expected):
    client.force_login(getattr(clinic, who))
    assert client.get(_url(record)).status_code == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [("clinician", 302), ("frontdesk", 302), ("auditor", 403), ("billing", 403), ("outsider", 404), ("stranger", 404)],
)
def test_who_may_correct_a_record(client, clinic, record, who, expected):
    client.force_login(getattr(clinic, who))
    response = client.post(_url(record), {"status": "absent_excused", "reason": "Sign-in sheet", "version": "1"})
    assert response.status_code == expected, response.content.decode()[-3000:]
    assert AttendanceCorrection.objects.exists() == (expected == 302)


def test_reading_a_record_is_audited(client, clinic, record):
    client.force_login(clinic.auditor)
    client.get(_url(record))
    event = AuditEvent.objects.get(action=AuditAction.RECORD_VIEWED, object_id=str(record.public_id))
    assert event.patient_id == record.patient_id and event.actor == clinic.auditor


def test_a_correction_without_a_reason_re_renders_with_what_was_typed(client, clinic, record):
    client.force_login(clinic.clinician)
    response = client.post(
        _url(record), {"status": "late", "late_minutes": "25", "remark": "Traffic", "reason": "", "version": "1"}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Say why the record is corrected." in body
    assert 'value="25"' in body and 'value="Traffic"' in body
    assert not AttendanceCorrection.objects.exists()


def test_a_correction_keeps_the_earlier_version_on_the_page(client, clinic, record):
    client.force_login(clinic.clinician)
    response = client.post(
        _url(record), {"status": "late", "late_minutes": "25", "reason": "Per sign-in sheet", "version": "1"}
    )
    assert response.status_code == 302
    body = client.get(_url(record)).content.decode()
    assert "version 2" in body
    assert "Version 1" in body and "Per sign-in sheet" in body and "present" in body
    assert AuditEvent.objects.filter(action=AuditAction.UPDATED, object_id=str(record.public_id)).count() == 1


def test_a_correction_over_someone_elses_newer_one_is_refused(client, clinic, record):
    client.force_login(clinic.clinician)
    client.post(_url(record), {"status": "late", "late_minutes": "5", "reason": "First", "version": "1"})
    response = client.post(_url(record), {"status": "absent_excused", "reason": "Second", "version": "1"})
    assert response.status_code == 422
    assert "Someone changed this record" in response.content.decode()
    assert AttendanceCorrection.objects.count() == 1
