"""The session page: details, free seats, roster and waitlist; access, audit and query counts."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.models import EpisodeOfCare
from openiop.scheduling.models import Booking, WaitlistEntry
from openiop.testing.fixtures import make_patient
from openiop.testing.scheduling import make_booking, make_room, make_session, make_session_type

NY = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def session(clinic):
    return make_session(
        clinic.mh,
        datetime(2026, 12, 2, 9, tzinfo=NY),
        title="Wednesday process group",
        capacity=8,
        room=make_room(clinic.site, "Oak Room"),
        track=clinic.day,
        facilitators=(clinic.clinician,),
    )


def test_member_sees_details_free_seats_and_the_roster(client, clinic, session, patient):
    make_booking(session, patient, source=Booking.Source.ENROLLMENT)
    login(client, clinic.clinician)
    response = client.get(session.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Wednesday process group" in html
    assert "7 free" in html and "of 8" in html
    assert "Oak Room" in html
    assert "9:00 AM\u20139:55 AM" in html
    assert patient.get_absolute_url() in html
    assert "Jordan Rivera" in html
    assert "Track enrollment" in html


@pytest.mark.parametrize("name", ["frontdesk", "intern", "intake", "auditor", "director"])
def test_roster_is_shown_to_clinical_roles_and_front_desk(client, clinic, session, patient, name):
    make_booking(session, patient)
    login(client, getattr(clinic, name))
    response = client.get(session.get_absolute_url())
    assert response.status_code == 200
    assert "Jordan Rivera" in response.content.decode()


def test_showing_the_roster_is_audited_as_a_patient_list(client, clinic, session, patient):
    make_booking(session, patient)
    login(client, clinic.frontdesk)
    client.get(session.get_absolute_url())
    event = AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED, actor=clinic.frontdesk).get()
    assert event.object_type == "session"
    assert event.object_id == str(session.public_id)


def test_sysadmin_gets_403(client, clinic, session):
    login(client, clinic.sysadmin)
    assert client.get(session.get_absolute_url()).status_code == 403


@pytest.mark.parametrize("name", ["outsider", "stranger"])
def test_people_outside_the_program_get_404(client, clinic, session, name):
    login(client, getattr(clinic, name))
    assert client.get(session.get_absolute_url()).status_code == 404


def test_mental_health_staff_get_404_for_a_substance_use_session(client, clinic):
    su_session = make_session(
        clinic.su, datetime(2026, 12, 2, 13, tzinfo=NY), session_type=make_session_type(clinic.su, "Relapse prevention")
    )
    login(client, clinic.clinician)
    assert client.get(su_session.get_absolute_url()).status_code == 404
    login(client, clinic.director)
    assert client.get(su_session.get_absolute_url()).status_code == 200


def test_cancelled_bookings_and_the_waitlist_are_listed(client, clinic, session, patient):
    other = make_patient(clinic, legal_first_name="Casey", legal_last_name="Nguyen")
    make_booking(session, other, status=Booking.Status.CANCELLED, cancel_reason="Work shift")
    waiting = make_patient(clinic, legal_first_name="Avery", legal_last_name="Stone")
    WaitlistEntry.objects.create(episode=EpisodeOfCare.objects.get(patient=waiting), session=session)
    login(client, clinic.clinician)
    html = client.get(session.get_absolute_url()).content.decode()
    assert "Casey Nguyen" in html and "Work shift" in html
    assert "Avery Stone" in html
    assert "8 free" in html


def _roster_queries(client, url: str, expected: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert len(response.context["booked"]) == expected
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_roster(client, clinic, session):
    people = [
        make_patient(clinic, legal_first_name=f"P{i}", legal_last_name="Roster", date_of_birth=date(1990, 1, i + 1))
        for i in range(8)
    ]
    login(client, clinic.clinician)
    client.get(session.get_absolute_url())
    make_booking(session, people[0])
    one = _roster_queries(client, session.get_absolute_url(), 1)
    for person in people[1:]:
        make_booking(session, person)
    eight = _roster_queries(client, session.get_absolute_url(), 8)
    assert one == eight
