"""Two (or twenty) people picking the same intake slot at once: one gets it, the others are told and offered the
next free slots, and nothing of theirs is stored.

Every attempt runs in its own thread with its own database connection, released together by a barrier, so the
conditional UPDATE on booked_count is what decides (on SQLite and on PostgreSQL). The last test races through
the real public pages (session, CSRF, the view) with one Django test client per thread.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.db import connection
from django.test import Client

from openiop.referrals.booking import SlotTaken, do_book_intake, do_book_now
from openiop.referrals.models import IntakeAppointment, IntakeSlot, Referral
from openiop.testing.fixtures import build_clinic
from openiop.testing.referrals import DETAILS, make_referral, make_slot

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 12
REPETITIONS = 5


def _in_thread(work, barrier: threading.Barrier):
    try:
        barrier.wait(timeout=30)
        return work()
    finally:
        connection.close()


def _race(works: list) -> list:
    barrier = threading.Barrier(len(works))
    results = []
    with ThreadPoolExecutor(max_workers=len(works)) as pool:
        futures = [pool.submit(_in_thread, w, barrier) for w in works]
        for future in futures:
            try:
                results.append(future.result())
            except SlotTaken as exc:
                results.append(exc)
    return results


def _public_attempt(slot: IntakeSlot, i: int):
    details = {**DETAILS, "first_name": f"Racer{i:02d}", "date_of_birth": date(1990, 1, 1 + i)}
    return lambda: do_book_now(slot, details=details, prescreen={"danger": "no"}, prescreen_result="likely_fit")


def test_twelve_people_for_one_slot_give_one_booking_and_eleven_just_taken_answers_five_times():
    clinic = build_clinic()
    for hour in (9, 10, 11, 13):
        make_slot(clinic.mh, 9, hour)
    for repetition in range(REPETITIONS):
        slot = make_slot(clinic.mh, 2 + repetition, 14)
        results = _race([_public_attempt(slot, i) for i in range(RACERS)])

        taken = [r for r in results if isinstance(r, SlotTaken)]
        won = [r for r in results if not isinstance(r, SlotTaken)]
        assert (len(won), len(taken)) == (1, RACERS - 1), f"repetition {repetition}"
        slot.refresh_from_db()
        assert slot.booked_count == 1
        assert IntakeAppointment.objects.filter(slot=slot, status="booked").count() == 1
        # The losers' referrals were rolled back with their attempt: only the winner is stored.
        assert Referral.objects.filter(appointments__slot=slot).count() == 1
        assert Referral.objects.filter(source="book_now").count() == repetition + 1
        for exc in taken:
            assert exc.next_slots, "the loser is shown the next free slots"
            assert all(s.free > 0 and s.pk != slot.pk for s in exc.next_slots)


def test_a_slot_of_three_seats_takes_exactly_three_staff_bookings():
    clinic = build_clinic()
    slot = make_slot(clinic.mh, 3, 9, capacity=3)
    referrals = [make_referral(clinic, first_name=f"Staffrace{i}") for i in range(8)]
    results = _race(
        [lambda r=r: do_book_intake(slot, referral=r, acting_user=clinic.intake, send_email=False) for r in referrals]
    )
    assert sum(not isinstance(r, SlotTaken) for r in results) == 3
    slot.refresh_from_db()
    assert slot.booked_count == 3 == IntakeAppointment.objects.filter(slot=slot, status="booked").count()
    assert Referral.objects.filter(stage="scheduled").count() == 3


def test_one_referral_booked_twice_at_once_gets_one_appointment():
    clinic = build_clinic()
    first, second = make_slot(clinic.mh, 3, 9), make_slot(clinic.mh, 3, 11)
    referral = make_referral(clinic)
    results = _race(
        [
            lambda s=s: _or_error(lambda: do_book_intake(s, referral=referral, acting_user=clinic.intake))
            for s in (first, second)
        ]
    )
    assert sorted(type(r).__name__ for r in results) == ["ValidationError", "tuple"]
    assert IntakeAppointment.objects.filter(referral=referral, status="booked").count() == 1
    assert sorted(IntakeSlot.objects.values_list("booked_count", flat=True)) == [0, 1]


def _or_error(work):
    from django.core.exceptions import ValidationError

    try:
        return work()
    except ValidationError as exc:
        return exc


def _prepared_client(program, slot, i: int) -> tuple[Client, str]:
    """A visitor who has answered the pre-screen and picked the slot, ready to send their details."""
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=f"10.0.0.{i + 1}")
    base = f"/book/programs/{program.public_id}"
    client.get(f"{base}/check/")
    token = client.cookies["csrftoken"].value
    answers = {
        "danger": "no",
        "after_inpatient": "yes",
        "moderate_symptoms": "yes",
        "stable_home": "yes",
        "support": "yes",
        "can_commit": "yes",
        "track": "either",
    }
    response = client.post(f"{base}/check/", {**answers, "csrfmiddlewaretoken": token})
    assert response.status_code == 302, response.content[:400]
    response = client.post(f"{base}/times/", {"slot": str(slot.public_id), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    return client, token


def test_two_visitors_on_the_public_pages_one_gets_the_slot_the_other_sees_just_taken():
    clinic = build_clinic()
    slot = make_slot(clinic.mh, 4, 10)
    make_slot(clinic.mh, 5, 10)
    visitors = [_prepared_client(clinic.mh, slot, i) for i in range(2)]
    url = f"/book/programs/{clinic.mh.public_id}/details/"

    def submit(client: Client, token: str, i: int):
        data = {
            **DETAILS,
            "first_name": f"Visitor{i}",
            "date_of_birth": "1991-02-03",
            "slot": str(slot.public_id),
            "website": "",
            "csrfmiddlewaretoken": token,
        }
        return client.post(url, data)

    responses = _race([lambda c=c, t=t, i=i: submit(c, t, i) for i, (c, t) in enumerate(visitors)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 302]
    loser = next(r for r in responses if r.status_code == 200)
    text = loser.content.decode()
    assert "just taken" in text
    assert "Visitor" in text  # what they typed is kept
    slot.refresh_from_db()
    assert slot.booked_count == 1
    assert Referral.objects.count() == 1
