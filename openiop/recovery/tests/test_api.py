"""The recovery supports API: staff reads per patient and per episode, scoped like the chart tab (outsider
organization 404, a role without VIEW_CLINICAL 403, another program's rows left out), audited, and a bad ``since``
answered with a problem body naming it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_open_episode
from openiop.portal.tests.care_support import patient_account
from openiop.recovery.tests.support import log_meetings, with_supports


@pytest.fixture
def logged(clinic, patient):
    """An Adult MH patient with meetings, sponsor and check-ins, and one meeting in a substance-use episode."""
    writer = patient_account(patient).user
    with_supports(clinic, patient, writer)
    su = do_open_episode(patient, acting_user=None, program=clinic.su, admitted_on=timezone.localdate())
    log_meetings(patient, writer, days=(0,), kind="na", note="SU side.", episode=su)
    return patient


def _url(patient) -> str:
    return f"/api/v1/patients/{patient.public_id}/recovery-supports"


@pytest.mark.parametrize(("who", "status"), [("clinician", 200), ("director", 200), ("frontdesk", 403),
                                             ("billing", 403), ("outsider", 404), ("stranger", 404)])  # fmt: skip
def test_access(client, clinic, logged, who, status):
    client.force_login(getattr(clinic, who))
    response = client.get(_url(logged))
    assert response.status_code == status
    if status >= 400:
        assert response["Content-Type"] == "application/problem+json"
    episode = logged.episodes.get(program=clinic.mh)
    assert client.get(f"/api/v1/episodes/{episode.public_id}/recovery-supports").status_code == status


def test_a_patients_supports_in_the_callers_programs_and_the_read_is_audited(client, clinic, logged):
    client.force_login(clinic.clinician)  # adult mental health only
    body = client.get(_url(logged)).json()
    assert [m["note"] for m in body["meetings"]] == ["Home group."] * 3  # not the substance-use meeting
    assert body["meetings"][0]["kind_label"] == "Alcoholics Anonymous (AA)"
    assert [c["social"] for c in body["check_ins"]] == [4, 2]  # newest first
    assert body["sponsor"]["name"] == "Dana Whitfield" and body["patient"] == str(logged.public_id)
    row = AuditEvent.objects.latest("chain_index")
    assert (row.action, row.actor_id, row.object_type) == (AuditAction.RECORD_VIEWED, clinic.clinician.pk,
                                                           "recovery_supports")  # fmt: skip
    su = logged.episodes.get(program=clinic.su)
    assert client.get(f"/api/v1/episodes/{su.public_id}/recovery-supports").status_code == 404
    client.force_login(clinic.director)
    body = client.get(f"/api/v1/episodes/{su.public_id}/recovery-supports").json()
    assert [(m["kind"], m["note"]) for m in body["meetings"]] == [("na", "SU side.")] and body["check_ins"] == []


def test_since_limits_the_rows_and_a_bad_one_is_a_problem_naming_it(client, clinic, logged):
    client.force_login(clinic.clinician)
    since = (timezone.localdate() - timedelta(days=3)).isoformat()
    body = client.get(_url(logged), {"since": since}).json()
    assert len(body["meetings"]) == 2 and len(body["check_ins"]) == 1
    response = client.get(_url(logged), {"since": "last week"})
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["since"]
