"""The seat race, over real HTTP: many requests at once, each on its own connection, against the live server.

Every request is its own thread with its own database connection, released together by a barrier, so the
conditional UPDATE in do_book_seat is what decides who gets a seat (on SQLite and on PostgreSQL).
"""

from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread, _StaticFilesHandler
from django.utils import timezone

from openiop.api.models import ApiToken, hash_token
from openiop.patients.actions import do_open_episode
from openiop.scheduling.models import Booking, Session
from openiop.testing.fixtures import build_clinic
from openiop.testing.scheduling import admit, local_at, make_session

pytestmark = pytest.mark.django_db(transaction=True)

CAPACITY = 10
REQUESTS = 64
# Each round is a fresh race of 64 threads at a real server, about 2 s of CI. One round already makes 54 requests lose
# the race for the last seats; a second and third, each on a new session, show it is not the first race's luck.
REPETITIONS = 3


class _WideServer(ThreadedWSGIServer):
    # Django's default listen backlog (10) makes the kernel reset some of 64 simultaneous connections.
    request_queue_size = 256


class _WideServerThread(LiveServerThread):
    server_class = _WideServer


@pytest.fixture
def live_url(transactional_db):
    """A live server of our own (like pytest-django's live_server) whose backlog takes every racer at once."""
    thread = _WideServerThread("127.0.0.1", _StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: dict


def _token_for(user) -> str:
    raw = ApiToken.generate()
    # last_used_at is fresh, so the requests below never stop to touch it.
    ApiToken.objects.create(
        user=user, name="race test", token_hash=hash_token(raw), hint=raw[:8], last_used_at=timezone.now()
    )
    return raw


def _post(
    base_url: str, path: str, token: str, body: dict, barrier: threading.Barrier, headers: dict | None = None
) -> Answer:
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        connection.connect()
        barrier.wait(timeout=30)
        connection.request(
            "POST",
            f"/api/v1{path}",
            body=json.dumps(body),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})},
        )
        response = connection.getresponse()
        raw = response.read()
        return Answer(response.status, response.getheader("Content-Type", ""), json.loads(raw) if raw else {})
    finally:
        connection.close()


def _race(base_url: str, path: str, token: str, bodies: list[dict], headers: dict | None = None) -> list[Answer]:
    return _race_each(base_url, token, [(path, body) for body in bodies], headers)


def _race_each(
    base_url: str, token: str, requests: list[tuple[str, dict]], headers: dict | None = None
) -> list[Answer]:
    """Each (path, body) posted at once, released together by a barrier; the answers in order."""
    barrier = threading.Barrier(len(requests))
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = [pool.submit(_post, base_url, path, token, body, barrier, headers) for path, body in requests]
        return [f.result() for f in futures]


@pytest.fixture
def race_clinic(live_url):
    clinic = build_clinic()
    episodes = [admit(clinic, f"Racer{i:02d}") for i in range(REQUESTS)]
    return clinic, episodes, _token_for(clinic.frontdesk)


def test_64_requests_for_10_seats_give_10_bookings_and_54_full_answers_3_times(live_url, race_clinic):
    clinic, episodes, token = race_clinic
    bodies = [{"episode": str(e.public_id)} for e in episodes]
    for repetition in range(REPETITIONS):
        # A new day each time, so earlier bookings never overlap (and conflict with) this session.
        session = make_session(clinic.mh, local_at(clinic.mh, 1 + repetition, 9), capacity=CAPACITY)
        answers = _race(live_url, f"/sessions/{session.public_id}/bookings", token, bodies)

        statuses = sorted(a.status for a in answers)
        assert statuses == [201] * CAPACITY + [409] * (REQUESTS - CAPACITY), f"repetition {repetition}"
        for answer in answers:
            if answer.status == 409:
                assert answer.content_type == "application/problem+json"
                assert answer.body["title"] == "Session full"
                assert "next_sessions" in answer.body
        session.refresh_from_db()
        booked = Booking.objects.filter(session=session, status=Booking.Status.BOOKED)
        assert session.booked_count == CAPACITY == booked.count()
        winners = {a.body["episode"] for a in answers if a.status == 201}
        assert winners == {str(e) for e in booked.values_list("episode__public_id", flat=True)}


def test_one_idempotency_key_sent_by_8_threads_books_once(live_url, race_clinic):
    clinic, episodes, token = race_clinic
    session = make_session(clinic.mh, local_at(clinic.mh, 2, 9), capacity=CAPACITY)
    body = {"episode": str(episodes[0].public_id)}
    answers = _race(
        live_url,
        f"/sessions/{session.public_id}/bookings",
        token,
        [body] * 8,
        headers={"Idempotency-Key": "race-key-1"},
    )
    assert {a.status for a in answers} == {201}
    assert len({a.body["id"] for a in answers}) == 1
    assert Booking.objects.filter(session=session).count() == 1
    session.refresh_from_db()
    assert session.booked_count == 1


def test_a_cancellation_frees_exactly_one_seat(live_url, race_clinic, client):
    clinic, episodes, token = race_clinic
    session = make_session(clinic.mh, local_at(clinic.mh, 3, 9), capacity=CAPACITY)
    path = f"/sessions/{session.public_id}/bookings"
    answers = _race(live_url, path, token, [{"episode": str(e.public_id)} for e in episodes[:20]])
    assert sorted(a.status for a in answers) == [201] * CAPACITY + [409] * 10
    cancelled = next(a.body["id"] for a in answers if a.status == 201)

    client.force_login(clinic.frontdesk)
    for _ in range(2):  # a repeated cancel frees nothing more
        response = client.delete(
            f"/api/v1/bookings/{cancelled}", data={"reason": "Conflict with work"}, content_type="application/json"
        )
        assert response.status_code == 200
    session.refresh_from_db()
    assert session.booked_count == CAPACITY - 1

    losers = [e for e in episodes[:20] if not Booking.objects.filter(session=session, episode=e).exists()]
    answers = _race(live_url, path, token, [{"episode": str(e.public_id)} for e in losers[:2]])
    assert sorted(a.status for a in answers) == [201, 409]
    assert Session.objects.get(pk=session.pk).booked_count == CAPACITY
    assert Booking.objects.filter(session=session, status=Booking.Status.BOOKED).count() == CAPACITY


def test_one_person_booked_through_two_episodes_at_once_gets_no_overlapping_seats(live_url, transactional_db):
    """Two programs, one person, an episode in each: two bookings of overlapping sessions sent at once must still
    see each other (the patient's row serializes them, not the episode's), so exactly one of each pair books."""
    clinic = build_clinic()
    token = _token_for(clinic.director)
    for round_ in range(6):  # without that lock, about one pair in three booked both seats here
        mh = admit(clinic, f"Twice{round_}")
        su = do_open_episode(
            mh.patient, acting_user=None, program=clinic.su, admitted_on=mh.admitted_on,
            expected_discharge_on=mh.expected_discharge_on,
        )  # fmt: skip
        starts = local_at(clinic.mh, 2 + round_, 9)
        sessions = [make_session(clinic.mh, starts, capacity=CAPACITY), make_session(clinic.su, starts)]
        answers = _race_each(
            live_url,
            token,
            [
                (f"/sessions/{s.public_id}/bookings", {"episode": str(e.public_id)})
                for s, e in zip(sessions, (mh, su), strict=True)
            ],
        )
        assert sorted(a.status for a in answers) == [201, 422], answers
        assert Booking.objects.filter(patient=mh.patient, status=Booking.Status.BOOKED).count() == 1
