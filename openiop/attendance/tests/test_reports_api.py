"""The read endpoints: an episode's dose weeks and a program's attendance report. Same access rules as the pages
(403 for the role, 404 outside one's programs), problem bodies naming the field, audit on the patient read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.testing.attendance import (
    PRESENT,
    UNEXCUSED,
    admit_to_track,
    book,
    check_in_all,
    this_monday,
    track_day,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def last_week_person(clinic):
    monday = this_monday(clinic.mh) - timedelta(days=7)
    ep = admit_to_track(clinic, "Ivo", track=clinic.day, admitted_on=monday)
    mon, wed, fri = (track_day(clinic.mh, monday + timedelta(days=d), track=clinic.day) for d in (0, 2, 4))
    book([*mon, *wed, *fri], ep)
    check_in_all([*mon, *fri], ep, PRESENT, clinic.clinician)
    check_in_all(wed, ep, UNEXCUSED, clinic.clinician)
    return ep, monday


def test_dose_weeks_lists_the_episode_weeks_and_is_audited(client, clinic, last_week_person):
    ep, monday = last_week_person
    login(client, clinic.frontdesk)
    response = client.get(f"/api/v1/episodes/{ep.public_id}/dose-weeks")
    assert response.status_code == 200
    weeks = response.json()
    assert [w["start"] for w in weeks] == [monday.isoformat(), (monday + timedelta(days=7)).isoformat()]
    first = weeks[0]
    assert (first["status"], first["closed"], first["attended_minutes"], first["minimum_minutes"]) == (
        "missed", True, 360, 540,
    )  # fmt: skip
    event = AuditEvent.objects.latest("chain_index")
    assert (event.action, event.object_type, event.patient_id) == (AuditAction.RECORD_VIEWED, "dose", ep.patient_id)


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("stranger", 404), ("sysadmin", 403)])
def test_dose_weeks_access(client, clinic, last_week_person, who, status):
    ep, _ = last_week_person
    login(client, getattr(clinic, who))
    assert client.get(f"/api/v1/episodes/{ep.public_id}/dose-weeks").status_code == status


def test_the_report_endpoint_matches_the_page(client, clinic, last_week_person):
    _, monday = last_week_person
    login(client, clinic.billing)
    url = f"/api/v1/programs/{clinic.mh.public_id}/attendance-report"
    response = client.get(url, {"start": monday.isoformat(), "end": (monday + timedelta(days=6)).isoformat()})
    assert response.status_code == 200
    body = response.json()
    day = next(t for t in body["tracks"] if t["name"] == "Day")
    assert (day["scheduled_sessions"], day["attended"], day["absent_unexcused"]) == (9, 6, 3)
    assert (day["attendance_rate_percent"], day["no_show_rate_percent"], day["dose_met_percent"]) == (66.7, 33.3, 0.0)
    assert day["track"] == str(clinic.day.public_id)
    assert body["total"]["patient_weeks_due"] == 1
    assert "Ivo" not in response.content.decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [({"start": "2026-11-10", "end": "2026-11-01"}, "end"), ({"end": "2026-11-01"}, "start"),
     ({"start": "2025-01-01", "end": "2026-11-01"}, "end")],
)  # fmt: skip
def test_the_report_endpoint_names_the_bad_field(client, clinic, params, field):
    login(client, clinic.director)
    response = client.get(f"/api/v1/programs/{clinic.mh.public_id}/attendance-report", params)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("stranger", 404), ("sysadmin", 403)])
def test_the_report_endpoint_access(client, clinic, who, status):
    login(client, getattr(clinic, who))
    url = f"/api/v1/programs/{clinic.mh.public_id}/attendance-report"
    assert client.get(url, {"start": "2026-11-01", "end": "2026-11-07"}).status_code == status
