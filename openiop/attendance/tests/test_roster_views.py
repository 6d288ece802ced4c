"""The roster page: access, one tap per person (HTMX swaps the row), the details panel, errors, audit, queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.attendance.actions import do_check_in
from openiop.attendance.models import AttendanceRecord
from openiop.attendance.tests.rosters import book_people, running_session, session_at
from openiop.core.models import AuditAction, AuditEvent
from openiop.scheduling.actions.series import do_cancel_session
from openiop.testing.scheduling import local_at

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def roster(clinic):
    session = running_session(clinic.mh, minutes_ago=15, title="Morning process group")
    bookings = book_people(clinic, session, 3)
    return session, bookings


def _url(session) -> str:
    return reverse("attendance:roster", args=[session.public_id])


def _tap_url(session, patient) -> str:
    return reverse("attendance:check_in", args=[session.public_id, patient.public_id])


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("clinician", 200),
        ("frontdesk", 200),
        ("intern", 200),
        ("director", 200),
        ("auditor", 200),
        ("billing", 200),
        ("sysadmin", 403),
        ("outsider", 404),
        ("stranger", 404),
    ],
)
def test_who_may_open_the_roster(client, clinic, roster, who, expected):
    session, _ = roster
    client.force_login(getattr(clinic, who))
    assert client.get(_url(session)).status_code == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("clinician", 302),
        ("frontdesk", 302),
        ("intern", 302),
        ("auditor", 403),
        ("billing", 403),
        ("sysadmin", 403),
        ("outsider", 404),
        ("stranger", 404),
    ],
)
def test_who_may_check_people_in(client, clinic, roster, who, expected):
    session, bookings = roster
    client.force_login(getattr(clinic, who))
    response = client.post(_tap_url(session, bookings[0].patient), {"status": "present"})
    assert response.status_code == expected
    assert AttendanceRecord.objects.exists() == (expected == 302)


def test_anonymous_users_are_sent_to_sign_in(client, roster):
    session, bookings = roster
    assert client.get(_url(session)).status_code == 302
    assert client.post(_tap_url(session, bookings[0].patient), {"status": "present"}).status_code == 302
    assert not AttendanceRecord.objects.exists()


def test_the_roster_lists_everyone_booked_and_is_audited_as_a_patient_list(client, clinic, roster):
    session, bookings = roster
    client.force_login(clinic.frontdesk)
    response = client.get(_url(session))
    body = response.content.decode()
    for booking in bookings:
        assert booking.patient.display_name in body
    assert body.count('aria-pressed="true"') == 0
    assert "0 of 3 recorded" in body
    event = AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED, object_id=str(session.public_id)).get()
    assert event.actor == clinic.frontdesk
    assert event.patient_id is None


def test_auditors_see_the_roster_without_any_buttons(client, clinic, roster):
    session, bookings = roster
    do_check_in(session, bookings[0].patient, acting_user=clinic.frontdesk, status="present")
    client.force_login(clinic.auditor)
    body = client.get(_url(session)).content.decode()
    assert "Present" in body
    assert 'name="status"' not in body


def test_one_tap_answers_htmx_with_just_that_row(client, clinic, roster):
    session, bookings = roster
    patient = bookings[1].patient
    client.force_login(clinic.frontdesk)
    response = client.post(_tap_url(session, patient), {"status": "present"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('class="roster-row"') == 1
    assert f'id="row-{patient.public_id}"' in body
    assert patient.display_name in body and bookings[0].patient.display_name not in body
    assert 'value="present" class="btn btn-success"' in body and 'aria-pressed="true"' in body
    record = AttendanceRecord.objects.get(session=session, patient=patient)
    assert record.status == "present" and record.recorded_by == clinic.frontdesk


def test_the_details_panel_records_minutes_times_participation_and_remark(client, clinic, roster):
    session, bookings = roster
    patient = bookings[0].patient
    client.force_login(clinic.clinician)
    arrived = (session.starts_at + timedelta(minutes=5)).astimezone(clinic.mh.tz())
    response = client.post(
        _tap_url(session, patient),
        {
            "status": "late",
            "details": "1",
            "arrived": arrived.strftime("%H:%M"),
            "participation": "passive",
            "remark": "Quiet today",
        },
        **HTMX,
    )
    assert response.status_code == 200
    record = AttendanceRecord.objects.get(session=session, patient=patient)
    assert record.late_minutes == 5
    assert record.minutes_attended == 55
    assert record.participation == "passive" and record.remark == "Quiet today"


def test_bad_details_come_back_in_the_row_with_what_was_typed(client, clinic, roster):
    session, bookings = roster
    patient = bookings[0].patient
    client.force_login(clinic.clinician)
    response = client.post(
        _tap_url(session, patient),
        {"status": "present", "details": "1", "late_minutes": "20", "remark": "Came in at twenty past"},
        **HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Someone who came late is recorded as Late." in body
    assert 'value="Came in at twenty past"' in body
    assert '<details class="mt-1" open>' in body
    assert 'aria-invalid="true"' in body
    assert not AttendanceRecord.objects.exists()


def test_bad_details_on_a_recorded_person_come_back_with_the_record(client, clinic, roster):
    session, bookings = roster
    patient = bookings[0].patient
    do_check_in(session, patient, acting_user=clinic.clinician, status="present")
    client.force_login(clinic.clinician)
    response = client.post(
        _tap_url(session, patient), {"status": "present", "details": "1", "late_minutes": "20"}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Someone who came late is recorded as Late." in body
    assert 'data-testid="status">Present</span>' in body  # what is recorded, not "Not yet recorded"
    assert AttendanceRecord.objects.get(session=session, patient=patient).version == 1


def test_without_htmx_a_tap_redirects_and_an_error_re_renders_the_page(client, clinic, roster):
    session, bookings = roster
    client.force_login(clinic.frontdesk)
    response = client.post(_tap_url(session, bookings[0].patient), {"status": "present"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#row-{bookings[0].patient.public_id}")
    response = client.post(
        _tap_url(session, bookings[1].patient), {"status": "present", "details": "1", "late_minutes": "9"}
    )
    assert response.status_code == 422
    assert "Someone who came late is recorded as Late." in response.content.decode()


def test_someone_not_on_the_roster_is_a_404(client, clinic, roster):
    session, _ = roster
    other = running_session(clinic.mh, minutes_ago=5)
    [elsewhere] = book_people(clinic, other, 1, prefix="Other")
    client.force_login(clinic.frontdesk)
    assert client.post(_tap_url(session, elsewhere.patient), {"status": "present"}).status_code == 404


def test_a_future_session_shows_when_check_in_opens_and_no_buttons(client, clinic):
    session = session_at(clinic.mh, local_at(clinic.mh, 2, 9))
    book_people(clinic, session, 2)
    client.force_login(clinic.frontdesk)
    body = client.get(_url(session)).content.decode()
    assert "Check-in opens at" in body
    assert 'name="status"' not in body


def test_after_check_in_closes_recorded_rows_offer_a_correction_instead_of_taps(client, clinic):
    session = session_at(clinic.mh, timezone.now() - timedelta(days=2))
    done, _pending = book_people(clinic, session, 2)
    do_check_in(session, done.patient, acting_user=clinic.frontdesk, status="present")
    client.force_login(clinic.frontdesk)
    body = client.get(_url(session)).content.decode()
    assert "Check-in closed" in body
    assert body.count('name="status" value="present"') == 1  # only the person not yet recorded
    assert ">Correct<" in body


def test_a_cancelled_session_offers_cancelled_by_program_for_everyone(client, clinic):
    session = session_at(clinic.mh, local_at(clinic.mh, 1, 9))
    book_people(clinic, session, 3)
    do_cancel_session(session, acting_user=clinic.director, reason="Snow day")
    client.force_login(clinic.frontdesk)
    body = client.get(_url(session)).content.decode()
    assert "Record everyone as cancelled by program" in body
    response = client.post(reverse("attendance:record_cancelled", args=[session.public_id]))
    assert response.status_code == 302
    assert set(AttendanceRecord.objects.filter(session=session).values_list("status", flat=True)) == {"cancelled"}
    assert AttendanceRecord.objects.filter(session=session).count() == 3
    client.force_login(clinic.auditor)
    assert client.post(reverse("attendance:record_cancelled", args=[session.public_id])).status_code == 403
    client.force_login(clinic.outsider)
    assert client.post(reverse("attendance:record_cancelled", args=[session.public_id])).status_code == 404


def _roster_queries(client, clinic, size: int) -> int:
    session = running_session(clinic.mh, minutes_ago=5, title=f"Group of {size}")
    bookings = book_people(clinic, session, size, prefix=f"G{size}")
    for booking in bookings[: size // 2]:
        do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="present")
    client.get(_url(session))  # warm the session and the user's program cache the same way for both
    with CaptureQueriesContext(connection) as queries:
        response = client.get(_url(session))
    assert response.status_code == 200
    assert response.content.decode().count('class="roster-row"') == size
    return len(queries)


def test_the_roster_costs_the_same_queries_for_3_and_12_people(client, clinic):
    client.force_login(clinic.frontdesk)
    assert _roster_queries(client, clinic, 3) == _roster_queries(client, clinic, 12)
