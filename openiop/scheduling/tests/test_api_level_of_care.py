"""POST /api/v1/episodes/{id}/level-of-care: access, the change and its consequences, problems naming the field."""

from __future__ import annotations

from django.utils import timezone

from openiop.conftest import login
from openiop.scheduling.actions.enrollment import do_enroll
from openiop.testing.levels import add_php
from openiop.testing.scheduling import admit, local_at, make_session


def _url(episode) -> str:
    return f"/api/v1/episodes/{episode.public_id}/level-of-care"


def _setup(clinic):
    php = add_php(clinic)
    episode = admit(clinic, "Ana")
    assert episode.admitted_on is not None
    make_session(clinic.mh, local_at(clinic.mh, 2, 9), track=clinic.day)
    do_enroll(episode, acting_user=clinic.clinician, track=clinic.day, starts_on=episode.admitted_on)
    body = {
        "track": str(php.track.public_id),
        "effective_on": timezone.localdate().isoformat(),
        "reason": "Needs a higher level",
    }
    return php, episode, body


def _post(client, episode, body):
    return client.post(_url(episode), body, content_type="application/json")


def test_access(client, clinic):
    _php, episode, body = _setup(clinic)
    assert _post(login(client, clinic.outsider), episode, body).status_code == 404
    assert _post(login(client, clinic.frontdesk), episode, body).status_code == 403
    client.logout()
    assert _post(client, episode, body).status_code == 401


def test_a_step_up_returns_the_episode_its_history_and_what_was_done(client, clinic):
    php, episode, body = _setup(clinic)
    response = _post(login(client, clinic.clinician), episode, {**body, "groups": [str(php.group.public_id)]})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["episode"]["program"] == str(php.program.public_id)
    assert data["episode"]["level_of_care"] == "php"
    assert [(p["level"], p["dose_hours"]) for p in data["episode"]["level_history"]] == [("iop", "9.0"), ("php", None)]
    assert {c["key"]: c["count"] for c in data["consequences"]}["sessions_booked"] == 3
    # The episode read back shows the same.
    assert client.get(f"/api/v1/episodes/{episode.public_id}").json()["level_of_care"] == "php"


def test_bad_input_is_a_problem_naming_the_field(client, clinic):
    _php, episode, body = _setup(clinic)
    login(client, clinic.clinician)
    cases = [
        ({**body, "track": str(clinic.teen.public_id)}, "track"),
        ({**body, "groups": [str(clinic.day.public_id)]}, "groups"),
        ({**body, "reason": ""}, "reason"),
        ({**body, "track": str(clinic.evening.public_id)}, "track"),
        ({**body, "effective_on": "2020-01-01"}, "effective_on"),
        ({**body, "effective_on": "not a date"}, "effective_on"),
    ]
    for sent, field in cases:
        response = _post(client, episode, sent)
        assert response.status_code == 422, (sent, response.content)
        assert response["Content-Type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]], (field, response.json())
    episode.refresh_from_db()
    assert episode.program == clinic.mh


def test_the_contract_lists_the_endpoint_and_the_episode_level(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    assert "post" in schema["paths"]["/api/v1/episodes/{episode_id}/level-of-care"]
    assert "level_of_care" in schema["components"]["schemas"]["EpisodeOut"]["properties"]
    assert "level_of_care" in schema["components"]["schemas"]["ProgramOut"]["properties"]
