"""Query counts of the roster tap and the roster page, pinned so that a regression fails here.

Counted through the test client as the tablet sends a tap (HTMX POST, status only), inside the test's transaction
(so the action's transaction shows as a SAVEPOINT pair). What one first check-in costs, in order: the login
session, the user (with the MFA gate's device check in the same statement), the user's programs; the session; the
person's seat (the view hands it to the action, which reads neither it nor the session again; the record is read
under the action's lock, and by the view only to show it next to errors); the action's record lock; the insert
(savepoint); billing's episode lock and pending-day upsert (the day is decided after the commit); the check-in's
audit row; the notes receiver's look for a group note of the session still lacking the person's part (a first
attendance only). The login session is not saved: its idle timestamp moved by less than a minute
(openiop.accounts.middleware.IDLE_WRITE_SECONDS). After the commit, the
queued decision (run inline by the tests' task backend): the episode lock (the payer kind on the day read with it),
the pending row, the day's records, payer rule, its billable day (read, pending row deleted, insert, audit row: chain
head lock, insert, head update). bench/README.md lists them.
If a change makes one of these cheaper, lower the number; never raise it without saying why in the commit.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.attendance.actions import do_check_in
from openiop.attendance.models import AttendanceRecord
from openiop.attendance.tests.rosters import book_people, running_session
from openiop.billing.models import BillableDay
from openiop.testing.scheduling import make_booking
from openiop.worklist.models import WorkTask

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
FIRST_CHECK_IN = 17  # 16 + the notes receiver's group-note lookup (a person's first attendance on the session)
CHANGE = 16
CHECK_IN_RAISING_A_TASK = 32
ACTION_FIRST_CHECK_IN = 13  # do_check_in alone, as the API and the demo call it
DECISION_AFTER_COMMIT = 10  # the queued billable-day decision, outside the tap's transaction
ROSTER_PAGE = 10


def _tap(client, session, patient, **data: str) -> int:
    url = reverse("attendance:check_in", args=[session.public_id, patient.public_id])
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, data, **HTMX)
    assert response.status_code == 200
    assert b'class="roster-row"' in response.content
    listed = "\n".join(f"{i}. {q['sql'][:160]}" for i, q in enumerate(queries.captured_queries, 1))
    print(listed)  # shown by pytest when the count below fails
    return len(queries)


@pytest.fixture
def tablet(client, clinic):
    session = running_session(clinic.mh, minutes_ago=15, title="Counted group")
    bookings = book_people(clinic, session, 3)
    client.force_login(clinic.frontdesk)
    client.get(reverse("attendance:roster", args=[session.public_id]))  # the page the taps come from
    return client, session, bookings


def test_a_first_check_in(tablet):
    client, session, bookings = tablet
    assert _tap(client, session, bookings[0].patient, status="present") == FIRST_CHECK_IN
    assert AttendanceRecord.objects.get(session=session, patient=bookings[0].patient).status == "present"


def test_a_first_check_in_through_the_action(tablet, clinic):
    _, session, bookings = tablet
    with CaptureQueriesContext(connection) as queries:
        do_check_in(session, bookings[2].patient, acting_user=clinic.frontdesk, status="present")
    print("\n".join(f"{i}. {q['sql'][:160]}" for i, q in enumerate(queries.captured_queries, 1)))
    assert len(queries) == ACTION_FIRST_CHECK_IN


def test_the_billable_day_decided_after_the_commit(tablet, clinic, django_capture_on_commit_callbacks):
    _, session, bookings = tablet
    with django_capture_on_commit_callbacks() as arranged:
        do_check_in(session, bookings[1].patient, acting_user=clinic.frontdesk, status="present")
    assert len(arranged) == 1  # the decision's task, queued once the check-in commits
    with CaptureQueriesContext(connection) as queries:
        arranged[0]()
    print("\n".join(f"{i}. {q['sql'][:160]}" for i, q in enumerate(queries.captured_queries, 1)))
    assert len(queries) == DECISION_AFTER_COMMIT
    assert BillableDay.objects.filter(episode=bookings[1].episode).count() == 1


def test_a_change_during_check_in(tablet, clinic):
    client, session, bookings = tablet
    do_check_in(session, bookings[0].patient, acting_user=clinic.frontdesk, status="present")
    # A one-tap Late while the session runs: late since its start, the present version kept.
    assert _tap(client, session, bookings[0].patient, status="late") == CHANGE
    record = AttendanceRecord.objects.get(session=session, patient=bookings[0].patient)
    assert (record.status, record.late_minutes, record.version) == ("late", 15, 2)


def test_a_check_in_that_raises_an_outreach_task(tablet, clinic):
    client, session, bookings = tablet
    person = bookings[1]
    yesterday = running_session(clinic.mh, minutes_ago=24 * 60, title="Yesterday's group")
    make_booking(yesterday, person.patient, episode=person.episode)
    do_check_in(yesterday, person.patient, acting_user=clinic.frontdesk, status="absent_unexcused")
    assert _tap(client, session, person.patient, status="absent_unexcused") == CHECK_IN_RAISING_A_TASK
    assert WorkTask.objects.filter(episode=person.episode, kind=WorkTask.Kind.OUTREACH).count() == 1


def _roster_queries(client, clinic, size: int) -> int:
    session = running_session(clinic.mh, minutes_ago=5, title=f"Group of {size}")
    bookings = book_people(clinic, session, size, prefix=f"Q{size}")
    for booking in bookings[: size // 2]:
        do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="present")
    url = reverse("attendance:roster", args=[session.public_id])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('class="roster-row"') == size
    return len(queries)


def test_the_roster_page_of_3_and_of_12_people(client, clinic):
    client.force_login(clinic.frontdesk)
    assert _roster_queries(client, clinic, 3) == ROSTER_PAGE
    assert _roster_queries(client, clinic, 12) == ROSTER_PAGE
