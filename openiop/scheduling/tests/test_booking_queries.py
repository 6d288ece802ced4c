"""Query counts of one booking through the API, pinned so that a regression fails here.

Counted through the test client inside the test's transaction (the API's write savepoint shows as a SAVEPOINT pair).
One new booking (``POST /api/v1/sessions/{id}/bookings``, session cookie) is 16: the login session, the user (with
the MFA gate's device check in the same statement), the API's write savepoint, the user's programs, the session
(scoped to them, no facilitators); the episode (scoped); in ``do_book_seat`` (no savepoint of its own: it raises its
refusals after its block) the episode lock (the checked columns only), the person's booked seats overlapping it (the
one already held here among them), the insert and the seat count (returning the new count) in one savepoint (4), the
audit row (chain head lock, insert, head update); the write savepoint's release. The session as the API read it is
booked (the seat's update checks its status and seats again). The login session is not saved (its idle timestamp
moved by less than a minute). The response is built from the rows the action holds. bench/README.md ("Hot-path
changes", "Figures of record (issue 16)") lists what went. If a change makes one of these cheaper, lower the number;
never raise it without saying why in the commit.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.conftest import login
from openiop.scheduling.actions.booking import do_book_seat
from openiop.scheduling.models import Booking
from openiop.testing.scheduling import admit, local_at, make_session

pytestmark = pytest.mark.django_db

NEW_BOOKING = 16
NEW_BOOKING_WITH_KEY = 17  # + the key's own lookup
BOOKED_ALREADY = 10  # the seat held is found by the overlap read: no insert, no audit row; its count is read


def _post(client, session, episode, **headers: str) -> int:
    path = f"/api/v1/sessions/{session.public_id}/bookings"
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            path, {"episode": str(episode.public_id)}, content_type="application/json", headers=headers
        )
    assert response.status_code == 201, response.content
    assert response.json()["episode"] == str(episode.public_id)
    print("\n".join(f"{i}. {q['sql'][:160]}" for i, q in enumerate(queries.captured_queries, 1)))
    return len(queries)


@pytest.fixture
def desk(client, clinic):
    session = make_session(clinic.mh, local_at(clinic.mh, 4, 9), capacity=5, track=clinic.day)
    episode = admit(clinic, "Ana")
    # Another seat of the person the same day, so the overlap read has a row to look at and pass over.
    do_book_seat(make_session(clinic.mh, local_at(clinic.mh, 4, 11)), episode=episode, acting_user=clinic.clinician)
    login(client, clinic.frontdesk)
    client.get("/api/v1/sessions", {"start": "2000-01-01"})  # the login session's first write is done
    return client, session, episode


def test_a_new_booking(desk):
    client, session, episode = desk
    assert _post(client, session, episode) == NEW_BOOKING
    assert Booking.objects.filter(session=session, patient=episode.patient).count() == 1


def test_a_new_booking_with_an_idempotency_key(desk):
    client, session, episode = desk
    assert _post(client, session, episode, **{"Idempotency-Key": "k-1"}) == NEW_BOOKING_WITH_KEY


def test_booking_a_seat_already_held(desk, clinic):
    client, session, episode = desk
    do_book_seat(session, episode=episode, acting_user=clinic.clinician)
    assert _post(client, session, episode) == BOOKED_ALREADY
    assert Booking.objects.filter(session=session, patient=episode.patient).count() == 1
