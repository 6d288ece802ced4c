"""The API's start/end filters mean program-local days: a Chicago program's 23:30 session is on its own day, even
though it is already the next day in the server's New York zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from openiop.conftest import login
from openiop.core.roles import Role
from openiop.scheduling.actions.booking import do_book_seat
from openiop.testing.fixtures import staff
from openiop.testing.scheduling import admit, make_session


@pytest.fixture(autouse=True)
def server_in_new_york(settings):
    settings.TIME_ZONE = "America/New_York"


@pytest.fixture
def day():
    return timezone.localdate() + timedelta(days=5)


@pytest.fixture
def late(clinic, day):
    """Sessions either side of midnight: two in Chicago (the teen program), one in New York (adult MH)."""
    chicago, new_york = clinic.teen.tz(), clinic.mh.tz()
    assert str(chicago) == "America/Chicago" and str(new_york) == "America/New_York"
    return {
        "chicago_late": make_session(clinic.teen, datetime.combine(day, time(23, 30), tzinfo=chicago), title="Late"),
        "chicago_next": make_session(
            clinic.teen, datetime.combine(day + timedelta(days=1), time(0, 30), tzinfo=chicago), title="Next"
        ),
        "new_york_late": make_session(clinic.mh, datetime.combine(day, time(23, 30), tzinfo=new_york), title="NY"),
    }


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()}


def test_a_program_less_query_takes_each_sessions_own_programs_day(client, clinic, day, late):
    login(client, staff(clinic.org, "both", Role.FRONT_DESK, [clinic.mh, clinic.teen]))
    on_day = _ids(client.get("/api/v1/sessions", {"start": str(day), "end": str(day)}))
    assert on_day == {str(late["chicago_late"].public_id), str(late["new_york_late"].public_id)}
    next_day = _ids(
        client.get("/api/v1/sessions", {"start": str(day + timedelta(days=1)), "end": str(day + timedelta(days=1))})
    )
    assert next_day == {str(late["chicago_next"].public_id)}


def test_a_program_query_uses_the_programs_zone(client, clinic, day, late):
    login(client, clinic.outsider)
    params = {"start": str(day), "end": str(day), "program": str(clinic.teen.public_id)}
    assert _ids(client.get("/api/v1/sessions", params)) == {str(late["chicago_late"].public_id)}
    params["start"] = params["end"] = str(day + timedelta(days=1))
    assert _ids(client.get("/api/v1/sessions", params)) == {str(late["chicago_next"].public_id)}


def test_the_patient_schedule_takes_program_local_days(client, clinic, day, late):
    episode = admit(clinic, "Tia", program=clinic.teen)
    for key in ("chicago_late", "chicago_next"):
        do_book_seat(late[key], episode=episode, acting_user=clinic.outsider)
    login(client, clinic.outsider)
    path = f"/api/v1/patients/{episode.patient.public_id}/schedule"
    rows = client.get(path, {"start": str(day), "end": str(day)}).json()
    assert [r["session"]["id"] for r in rows] == [str(late["chicago_late"].public_id)]
    rows = client.get(path, {"start": str(day + timedelta(days=1)), "end": str(day + timedelta(days=1))}).json()
    assert [r["session"]["id"] for r in rows] == [str(late["chicago_next"].public_id)]
