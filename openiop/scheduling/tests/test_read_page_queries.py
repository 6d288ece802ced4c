"""Statements of the read pages, pinned, and the same for N and 3N rows: the chart, the patient list and a search
(patients app), the day calendar. Counted through the test client after a first request (the session's clock is then
fresh, so no request saves the session). If a change makes a page cheaper, lower its number; never raise one without
saying why in the commit. bench/README.md ("Per-request and read paths") lists what each costs."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.attendance.tests.rosters import book_people, running_session
from openiop.conftest import login
from openiop.patients.models import Patient
from openiop.testing.deferred import refuse_deferred_reads
from openiop.testing.fixtures import make_patient
from openiop.testing.scheduling import make_room

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
LIST = reverse("patients:list")

# Session, user (with the MFA gate's device check), programs; the patient, its episodes and care teams; the chart's
# audit row (3); the work-queue badge; the header's and first tab's contributions of other apps (alerts, level of care,
# scores, episodes with patient, attendance policy, coverage, payer rules, bookings, records, plans, notes due, the
# next bookings, consents, Part 2 flag, the MOUD flag's medications, the unexpected drug-test result flag).
CHART = 26
# Session, user, programs; the page (26 rows), its episodes, their scores; the audit row (3); the work-queue and
# emergency-review badges (a director); the program filter's choices.
LIST_PAGE = 12
LIST_COUNTED = LIST_PAGE + 1  # more than a page: the COUNT for "page 1 of N"
# The fragment (no badges, no choices): session, user, programs, page, episodes, scores, audit row (3), and the search
# kept in the session under its token (a session write: savepoint, update, release).
SEARCH_ONE_PAGE = 12
# Session, user, programs; the sites, the sessions, their facilitators; the room, facilitator and track choices (each
# read once: the sites serve the view and the select, which read them three times before).
DAY = 9


def _count(client, method: str, url: str, data: dict | None = None, **extra) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data or {}, **extra)
    assert response.status_code == 200
    print("\n".join(f"{i}. {q['sql'][:160]}" for i, q in enumerate(queries.captured_queries, 1)))
    return len(queries)


def _people(clinic, n: int, prefix: str) -> list[Patient]:
    return [make_patient(clinic, legal_first_name=f"{prefix}{i}", legal_last_name=f"Count{prefix}") for i in range(n)]


def test_the_chart(client, clinic):
    patient = make_patient(clinic, legal_first_name="Chart")
    session = running_session(clinic.mh, minutes_ago=5, title="Counted group")
    login(client, clinic.clinician)
    client.get(patient.get_absolute_url())
    few = _count(client, "get", patient.get_absolute_url())
    book_people(clinic, session, 3)
    _people(clinic, 6, "C")
    assert _count(client, "get", patient.get_absolute_url()) == few == CHART


def test_the_list_and_a_search(client, clinic):
    _people(clinic, 9, "A")  # N: 9 people, one page
    login(client, clinic.director)
    client.get(LIST)
    one_page = _count(client, "get", LIST)
    search = _count(client, "post", LIST, {"q": "counta"}, **HTMX)
    _people(clinic, 18, "B")  # 3N: 27 people, two pages
    assert one_page == LIST_PAGE
    assert _count(client, "get", LIST) == LIST_COUNTED
    assert _count(client, "get", LIST, {"page": 2}) == LIST_COUNTED - 1  # the last page tells the count
    # The same search again (its token reused, no session write), now with the other 18 in the organization.
    assert search == SEARCH_ONE_PAGE
    assert _count(client, "post", LIST, {"q": "counta"}, **HTMX) == SEARCH_ONE_PAGE - 3
    assert _count(client, "post", LIST, {"q": "countb"}, **HTMX) == SEARCH_ONE_PAGE


def test_the_list_reads_every_column_it_shows_at_once(client, clinic, monkeypatch):
    """The list reads only the columns a row shows (``.only``): one it left out would be read row by row."""
    patient = make_patient(clinic, legal_first_name="Shown", legal_last_name="Rowperson", preferred_name="Sho")
    patient.episodes.update(primary_clinician=clinic.clinician)
    login(client, clinic.director)
    client.get(LIST)
    refuse_deferred_reads(monkeypatch)
    html = client.post(LIST, {"q": "rowperson"}, **HTMX).content.decode()
    for shown in ("Rowperson", patient.mrn, clinic.day.name, clinic.clinician.last_name, "Active"):
        assert shown in html, shown


def test_the_day_calendar(client, clinic):
    login(client, clinic.frontdesk)
    url = reverse("scheduling:day")
    today = {"date": timezone.localdate().isoformat()}
    client.get(url, today)
    for minutes in (30, 90, 150):  # N sessions
        book_people(clinic, running_session(clinic.mh, minutes_ago=minutes, title=f"N{minutes}"), 1, prefix="N")
    few = _count(client, "get", url, today)
    for minutes in (60, 120, 180, 210, 240, 270):  # 3N
        book_people(clinic, running_session(clinic.mh, minutes_ago=minutes, title=f"M{minutes}"), 2, prefix="M")
    assert _count(client, "get", url, today) == few == DAY


def test_the_day_calendar_reads_every_column_it_shows_at_once(client, clinic, monkeypatch):
    """The calendar reads only the columns a block shows (``.only``): one it left out would be read row by row."""
    track = clinic.mh.tracks.first()
    running_session(
        clinic.mh,
        minutes_ago=30,
        title="Shown group",
        room=make_room(clinic.mh.site, "Oak room"),
        track=track,
        facilitators=(clinic.clinician,),
    )
    login(client, clinic.frontdesk)
    refuse_deferred_reads(monkeypatch)
    html = client.get(reverse("scheduling:day"), {"date": timezone.localdate().isoformat()}).content.decode()
    for shown in ("Shown group", "Oak room", clinic.clinician.get_full_name(), track.name, "0/16"):
        assert shown in html, shown
