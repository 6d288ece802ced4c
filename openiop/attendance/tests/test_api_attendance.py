"""The attendance API: roster, idempotent check-in, corrections with a reason, a patient's records; access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from openiop.attendance.actions import do_check_in
from openiop.attendance.models import AttendanceCorrection, AttendanceRecord
from openiop.attendance.tests.rosters import book_people, running_session, session_at
from openiop.core.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def roster(clinic):
    session = running_session(clinic.mh, minutes_ago=10)
    return session, book_people(clinic, session, 2)


def _put(client, session, patient, body):
    return client.put(f"/api/v1/sessions/{session.public_id}/attendance/{patient.public_id}", body, content_type=JSON)


@pytest.mark.parametrize(
    ("who", "expected"),
    [("clinician", 200), ("auditor", 200), ("billing", 200), ("sysadmin", 403), ("outsider", 404), ("stranger", 404)],
)
def test_who_may_read_a_sessions_attendance(client, clinic, roster, who, expected):
    session, _ = roster
    client.force_login(getattr(clinic, who))
    assert client.get(f"/api/v1/sessions/{session.public_id}/attendance").status_code == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [("frontdesk", 200), ("clinician", 200), ("auditor", 403), ("billing", 403), ("outsider", 404), ("stranger", 404)],
)
def test_who_may_check_in_through_the_api(client, clinic, roster, who, expected):
    session, bookings = roster
    client.force_login(getattr(clinic, who))
    assert _put(client, session, bookings[0].patient, {"status": "present"}).status_code == expected
    assert AttendanceRecord.objects.exists() == (expected == 200)


def test_put_is_idempotent_on_session_and_patient(client, clinic, roster):
    session, bookings = roster
    client.force_login(clinic.frontdesk)
    first = _put(client, session, bookings[0].patient, {"status": "present", "participation": "engaged"})
    again = _put(client, session, bookings[0].patient, {"status": "present", "participation": "engaged"})
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["version"] == 1 and again.json()["minutes_attended"] == 60
    assert AttendanceRecord.objects.count() == 1


def test_bad_input_answers_a_problem_naming_the_field(client, clinic, roster):
    session, bookings = roster
    client.force_login(clinic.frontdesk)
    response = _put(client, session, bookings[0].patient, {"status": "present", "left_early_minutes": 10})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["left_early_minutes"]
    response = _put(client, session, bookings[0].patient, {"status": "present", "late_minutes": "soon"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "late_minutes"
    assert not AttendanceRecord.objects.exists()


def test_someone_not_booked_is_a_404(client, clinic, roster):
    session, _ = roster
    other = running_session(clinic.mh)
    [elsewhere] = book_people(clinic, other, 1, prefix="Else")
    client.force_login(clinic.frontdesk)
    assert _put(client, session, elsewhere.patient, {"status": "present"}).status_code == 404


def test_the_roster_lists_records_and_is_audited(client, clinic, roster):
    session, bookings = roster
    do_check_in(session, bookings[0].patient, acting_user=clinic.frontdesk, status="present")
    client.force_login(clinic.auditor)
    body = client.get(f"/api/v1/sessions/{session.public_id}/attendance").json()
    assert body["checkin_open"] is True
    by_patient = {r["patient"]: r for r in body["roster"]}
    assert by_patient[str(bookings[0].patient.public_id)]["record"]["status"] == "present"
    assert by_patient[str(bookings[1].patient.public_id)]["record"] is None
    assert AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED, object_id=str(session.public_id)).exists()


def test_a_correction_needs_a_reason_and_keeps_the_earlier_version(client, clinic):
    session = session_at(clinic.mh, timezone.now().replace(second=0, microsecond=0) - timedelta(days=2))
    [booking] = book_people(clinic, session, 1)
    record = do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="present")
    client.force_login(clinic.clinician)
    url = f"/api/v1/attendance/{record.public_id}/corrections"
    response = client.post(url, {"reason": " ", "status": "absent_excused"}, content_type=JSON)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "reason"
    response = client.post(url, {"status": "absent_excused"}, content_type=JSON)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "reason"
    response = client.post(
        url,
        {"reason": "Called in sick", "status": "absent_excused", "expected_version": 1},
        content_type=JSON,
    )
    assert response.status_code == 201
    assert response.json()["version"] == 2 and response.json()["minutes_attended"] == 0
    assert AttendanceCorrection.objects.get(record=record).previous["status"] == "present"
    stale = client.post(url, {"reason": "Again", "status": "present", "expected_version": 1}, content_type=JSON)
    assert stale.status_code == 422 and stale.json()["errors"][0]["field"] == "version"
    # After check-in closed, a PUT that changes the record needs the reason too.
    response = _put(client, session, booking.patient, {"status": "present"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "reason"
    client.force_login(clinic.auditor)
    assert client.post(url, {"reason": "x", "status": "present"}, content_type=JSON).status_code == 403
    client.force_login(clinic.outsider)
    assert client.post(url, {"reason": "x", "status": "present"}, content_type=JSON).status_code == 404


@pytest.mark.parametrize(
    ("who", "expected"), [("clinician", 200), ("auditor", 200), ("sysadmin", 403), ("outsider", 404), ("stranger", 404)]
)
def test_a_patients_records(client, clinic, roster, who, expected):
    session, bookings = roster
    do_check_in(session, bookings[0].patient, acting_user=clinic.frontdesk, status="present")
    client.force_login(getattr(clinic, who))
    response = client.get(f"/api/v1/patients/{bookings[0].patient.public_id}/attendance")
    assert response.status_code == expected
    if expected == 200:
        assert [r["session"] for r in response.json()] == [str(session.public_id)]
        assert AuditEvent.objects.filter(action=AuditAction.RECORD_VIEWED, patient=bookings[0].patient).exists()
