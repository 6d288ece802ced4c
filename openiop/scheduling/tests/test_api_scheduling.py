from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from openiop.api.models import ApiToken, hash_token
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.scheduling.actions.booking import do_book_seat, do_cancel_booking, do_join_waitlist
from openiop.scheduling.models import Booking, Enrollment, Group, WaitlistEntry
from openiop.testing.scheduling import admit, local_at, make_session

PROBLEM = "application/problem+json"


def url(path: str) -> str:
    return f"/api/v1{path}"


@pytest.fixture
def group(clinic):
    return Group.objects.create(track=clinic.day, name="Day A", capacity=10)


@pytest.fixture
def session(clinic, group):
    return make_session(clinic.mh, local_at(clinic.mh, 4, 9), capacity=2, track=clinic.day, group=group)


@pytest.fixture
def episode(clinic):
    return admit(clinic, "Ana")


@pytest.fixture
def booking(clinic, session, episode):
    return do_book_seat(session, episode=episode, acting_user=clinic.clinician)


@pytest.fixture
def entry(clinic, group, session):
    return do_join_waitlist(admit(clinic, "Wes"), acting_user=clinic.frontdesk, group=group)


@pytest.fixture
def offered(clinic, session, booking, entry):
    do_book_seat(session, episode=admit(clinic, "Ben"), acting_user=clinic.clinician)
    do_cancel_booking(booking, acting_user=clinic.clinician)
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.OFFERED
    return entry


def _call(client, method, path, body=None):
    if body is None:
        return getattr(client, method)(url(path))
    return getattr(client, method)(url(path), body, content_type="application/json")


ENDPOINTS = [
    ("get", "/sessions/{s}", None),
    ("post", "/sessions/{s}/bookings", "booking"),
    ("delete", "/bookings/{b}", None),
    ("post", "/episodes/{e}/enrollment", "enrollment"),
    ("get", "/patients/{p}/schedule", None),
    ("delete", "/waitlist/{w}", None),
    ("post", "/waitlist/{w}/accept", None),
]


def _fill(clinic, path, body, session, booking, episode, entry):
    path = path.format(
        s=session.public_id, b=booking.public_id, e=episode.public_id, p=episode.patient.public_id, w=entry.public_id
    )
    if body == "booking":
        body = {"episode": str(episode.public_id)}
    elif body == "enrollment":
        body = {"track": str(clinic.day.public_id), "starts_on": str(timezone.localdate())}
    return path, body


@pytest.mark.parametrize("who", ["outsider", "stranger"])
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_outsiders_get_404(client, clinic, session, booking, episode, entry, who, method, path, body):
    path, body = _fill(clinic, path, body, session, booking, episode, entry)
    response = _call(login(client, getattr(clinic, who)), method, path, body)
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize(
    ("who", "method", "path", "body"),
    [
        ("sysadmin", "get", "/sessions", None),
        ("sysadmin", "get", "/sessions/{s}", None),
        ("billing", "post", "/sessions/{s}/bookings", "booking"),
        ("auditor", "post", "/sessions/{s}/bookings", "booking"),
        ("auditor", "delete", "/bookings/{b}", None),
        ("frontdesk", "post", "/episodes/{e}/enrollment", "enrollment"),
        ("auditor", "post", "/episodes/{e}/enrollment", "enrollment"),
        ("sysadmin", "get", "/patients/{p}/schedule", None),
        ("sysadmin", "get", "/waitlist", None),
        ("auditor", "post", "/waitlist", "waitlist"),
        ("auditor", "delete", "/waitlist/{w}", None),
        ("billing", "post", "/waitlist/{w}/accept", None),
    ],
)
def test_insufficient_role_gets_403(client, clinic, session, booking, episode, entry, who, method, path, body):
    path, body = _fill(clinic, path, body, session, booking, episode, entry)
    if body == "waitlist":
        body = {"episode": str(episode.public_id), "session": str(session.public_id)}
    response = _call(login(client, getattr(clinic, who)), method, path, body)
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM


def test_anonymous_gets_401(client, session):
    assert client.get(url("/sessions")).status_code == 401


def test_sessions_list_shows_free_seats_of_own_programs_only(client, clinic, session, booking):
    elsewhere = make_session(clinic.teen, local_at(clinic.teen, 4, 9))
    start = str(timezone.localdate())
    end = str(timezone.localdate() + timedelta(days=10))
    body = login(client, clinic.frontdesk).get(url("/sessions"), {"start": start, "end": end}).json()
    assert [(s["id"], s["free_seats"], s["booked_count"]) for s in body] == [(str(session.public_id), 1, 1)]
    assert body[0]["track"] == str(clinic.day.public_id)
    body = login(client, clinic.outsider).get(url("/sessions"), {"start": start, "end": end}).json()
    assert [s["id"] for s in body] == [str(elsewhere.public_id)]
    filtered = login(client, clinic.frontdesk).get(
        url("/sessions"), {"start": start, "end": end, "track": str(clinic.evening.public_id)}
    )
    assert filtered.json() == []


def test_sessions_list_refuses_a_huge_range(client, clinic):
    response = login(client, clinic.frontdesk).get(url("/sessions"), {"start": "2026-01-01", "end": "2026-12-31"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "end"


def test_sessions_list_keeps_a_constant_number_of_queries(client, clinic, group, django_assert_max_num_queries):
    login(client, clinic.frontdesk)
    params = {"start": str(timezone.localdate()), "end": str(timezone.localdate() + timedelta(days=20))}
    for day in range(1, 4):
        make_session(clinic.mh, local_at(clinic.mh, day, 9), track=clinic.day, group=group)
    with django_assert_max_num_queries(10) as first:
        assert len(client.get(url("/sessions"), params).json()) == 3
    for day in range(4, 16):
        make_session(clinic.mh, local_at(clinic.mh, day, 9), track=clinic.day, group=group)
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert len(client.get(url("/sessions"), params).json()) == 15


def test_session_detail_roster_is_for_clinical_staff_and_audited(client, clinic, session, booking):
    body = login(client, clinic.clinician).get(url(f"/sessions/{session.public_id}")).json()
    assert [r["name"] for r in body["roster"]] == ["Ana Rivera"]
    assert AuditEvent.objects.filter(
        action=AuditAction.PATIENTS_LISTED, object_type="session", object_id=str(session.public_id)
    ).exists()
    body = login(client, clinic.frontdesk).get(url(f"/sessions/{session.public_id}")).json()
    assert body["roster"] is None and body["free_seats"] == 1


def test_front_desk_books_a_seat(client, clinic, session, episode):
    response = login(client, clinic.frontdesk).post(
        url(f"/sessions/{session.public_id}/bookings"),
        {"episode": str(episode.public_id)},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["status"] == "booked"
    assert Booking.objects.get().booked_by == clinic.frontdesk


def test_full_session_is_a_409_problem_naming_the_next_sessions(client, clinic, session, booking, group):
    later = make_session(clinic.mh, local_at(clinic.mh, 6, 9), capacity=5, track=clinic.day, group=group)
    do_book_seat(session, episode=admit(clinic, "Ben"), acting_user=clinic.clinician)
    response = login(client, clinic.frontdesk).post(
        url(f"/sessions/{session.public_id}/bookings"),
        {"episode": str(admit(clinic, "Cal").public_id)},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["title"] == "Session full"
    assert [(n["id"], n["free_seats"]) for n in body["next_sessions"]] == [(str(later.public_id), 5)]


def test_booking_outside_the_episode_is_a_422_naming_the_field(client, clinic):
    far = make_session(clinic.mh, local_at(clinic.mh, 120, 9))
    response = login(client, clinic.frontdesk).post(
        url(f"/sessions/{far.public_id}/bookings"),
        {"episode": str(admit(clinic, "Cal").public_id)},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "session", "message": "outside the episode's dates"}]


def test_unknown_episode_is_a_422(client, clinic, session, patient):
    teen_episode = admit(clinic, "Tia", program=clinic.teen)
    response = login(client, clinic.frontdesk).post(
        url(f"/sessions/{session.public_id}/bookings"),
        {"episode": str(teen_episode.public_id)},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "episode"


def test_idempotency_key_header_and_body_make_one_booking(client, clinic, session, episode):
    login(client, clinic.frontdesk)
    path = url(f"/sessions/{session.public_id}/bookings")
    first = client.post(
        path, {"episode": str(episode.public_id)}, content_type="application/json", headers={"Idempotency-Key": "abc"}
    )
    second = client.post(
        path, {"episode": str(episode.public_id), "idempotency_key": "abc"}, content_type="application/json"
    )
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    other = client.post(
        path,
        {"episode": str(admit(clinic, "Ben").public_id), "idempotency_key": "abc"},
        content_type="application/json",
    )
    assert other.status_code == 409
    assert other.json()["title"] == "Idempotency key reused"


def test_bearer_token_can_book_without_csrf(client, clinic, session, episode):
    raw = ApiToken.generate()
    ApiToken.objects.create(user=clinic.frontdesk, name="kiosk", token_hash=hash_token(raw), hint=raw[:8])
    client.handler.enforce_csrf_checks = True
    response = client.post(
        url(f"/sessions/{session.public_id}/bookings"),
        {"episode": str(episode.public_id)},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 201


def test_session_cookie_posts_still_need_csrf(client, clinic, session, episode):
    client.handler.enforce_csrf_checks = True
    response = login(client, clinic.frontdesk).post(
        url(f"/sessions/{session.public_id}/bookings"),
        {"episode": str(episode.public_id)},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Booking.objects.exists()


def test_cancel_booking_with_a_reason(client, clinic, session, booking):
    response = login(client, clinic.frontdesk).delete(
        url(f"/bookings/{booking.public_id}"), {"reason": "Work"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["cancel_reason"] == "Work"
    session.refresh_from_db()
    assert session.booked_count == 0
    assert login(client, clinic.frontdesk).delete(url(f"/bookings/{booking.public_id}")).status_code == 200


def test_enrollment_books_sessions_then_moves_tracks(client, clinic, group, session, episode):
    evening = make_session(clinic.mh, local_at(clinic.mh, 9, 18), track=clinic.evening)
    login(client, clinic.clinician)
    today = timezone.localdate()
    response = client.post(
        url(f"/episodes/{episode.public_id}/enrollment"),
        {"track": str(clinic.day.public_id), "groups": [str(group.public_id)], "starts_on": str(today)},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["booked_sessions"] == [str(session.public_id)]
    response = client.post(
        url(f"/episodes/{episode.public_id}/enrollment"),
        {"track": str(clinic.evening.public_id), "starts_on": str(today + timedelta(days=1))},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["booked_sessions"] == [str(evening.public_id)]
    assert Enrollment.objects.filter(episode=episode).count() == 2
    bad = client.post(
        url(f"/episodes/{episode.public_id}/enrollment"),
        {"track": str(clinic.day.public_id), "groups": [str(episode.public_id)], "starts_on": str(today)},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "groups"


def test_patient_schedule_is_audited_and_constant_in_queries(
    client, clinic, group, episode, django_assert_max_num_queries
):
    login(client, clinic.clinician)
    path = url(f"/patients/{episode.patient.public_id}/schedule")
    params = {"start": str(timezone.localdate()), "end": str(timezone.localdate() + timedelta(days=30))}
    for day in (1, 2):
        do_book_seat(
            make_session(clinic.mh, local_at(clinic.mh, day, 9), track=clinic.day, group=group),
            episode=episode,
            acting_user=clinic.clinician,
        )
    with django_assert_max_num_queries(20) as first:
        assert len(client.get(path, params).json()) == 2
    for day in range(3, 12):
        do_book_seat(
            make_session(clinic.mh, local_at(clinic.mh, day, 9), track=clinic.day, group=group),
            episode=episode,
            acting_user=clinic.clinician,
        )
    with django_assert_max_num_queries(len(first.captured_queries)):
        body = client.get(path, params).json()
    assert len(body) == 11 and body[0]["booking_status"] == "booked"
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.RECORD_VIEWED, patient=episode.patient, object_type="booking"
        ).count()
        == 2
    )


def test_waitlist_join_list_accept_and_withdraw(client, clinic, group, session, offered):
    login(client, clinic.frontdesk)
    listed = client.get(url("/waitlist"), {"group": str(group.public_id), "status": "offered"}).json()
    assert [e["id"] for e in listed] == [str(offered.public_id)]
    assert AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED, object_type="waitlistentry").exists()
    assert login(client, clinic.outsider).get(url("/waitlist"), {"status": "offered"}).json() == []

    login(client, clinic.frontdesk)
    accepted = client.post(url(f"/waitlist/{offered.public_id}/accept"))
    assert accepted.status_code == 201 and accepted.json()["source"] == "waitlist"

    joined = client.post(
        url("/waitlist"),
        {"episode": str(admit(clinic, "Zed").public_id), "session": str(session.public_id)},
        content_type="application/json",
    )
    assert joined.status_code == 201 and joined.json()["status"] == "waiting"
    withdrawn = client.delete(url(f"/waitlist/{joined.json()['id']}"))
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


def test_accepting_a_seat_someone_else_took_is_a_409(client, clinic, session, offered):
    do_book_seat(session, episode=admit(clinic, "Fay"), acting_user=clinic.clinician)
    response = login(client, clinic.frontdesk).post(url(f"/waitlist/{offered.public_id}/accept"))
    assert response.status_code == 409 and response.json()["title"] == "Session full"


def test_joining_a_waitlist_needs_one_known_target(client, clinic, episode):
    login(client, clinic.frontdesk)
    response = client.post(url("/waitlist"), {"episode": str(episode.public_id)}, content_type="application/json")
    assert response.status_code == 422
    response = client.post(
        url("/waitlist"),
        {"episode": str(episode.public_id), "group": str(episode.public_id)},
        content_type="application/json",
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "group"


@pytest.mark.parametrize("who", ["outsider", "stranger"])
def test_outsiders_cannot_waitlist_an_episode_they_cannot_see(client, clinic, session, episode, who):
    response = login(client, getattr(clinic, who)).post(
        url("/waitlist"),
        {"episode": str(episode.public_id), "session": str(session.public_id)},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "episode", "message": "Unknown episode, or not one of yours."}]
    assert not WaitlistEntry.objects.filter(episode=episode).exists()
