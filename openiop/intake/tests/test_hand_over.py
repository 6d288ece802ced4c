"""Hand-over for signing (docs/clinical-rules.md#scope-of-practice): the intake coordinator drafts an assessment and
hands it to a named clinician who may sign it; a work task for them, shown on the assessment, closed at signing.
The sign button is shown only to someone who may sign; everyone else gets the hand-over."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.intake.actions import do_hand_over_assessment, do_sign_assessment
from openiop.testing.intake import complete, start
from openiop.worklist.models import WorkTask

pytestmark = pytest.mark.django_db
JSON = "application/json"


def _tasks(assessment):
    return WorkTask.objects.filter(trigger_key__startswith=f"sign_handover:intake:{assessment.public_id}:")


def test_the_coordinator_hands_over_and_signing_closes_the_task(client, clinic, patient):
    assessment = complete(start(patient, clinic.intake), clinic.intake)
    client = login(client, clinic.intake)
    page = client.get(reverse("intake:edit", args=[assessment.public_id])).content.decode()
    # No sign button for someone who cannot sign: the hand-over instead, listing only who may sign.
    assert "Sign and lock the assessment" not in page
    assert "Hand over for signing" in page and "Clinician Tester" in page
    response = client.post(
        reverse("intake:hand_over", args=[assessment.public_id]),
        {"handed_to": str(clinic.clinician.public_id)},
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Handed over to Clinician Tester, LCSW for signing on" in html
    task = _tasks(assessment).get()
    assert (task.kind, task.status, task.assigned_to) == (WorkTask.Kind.SIGN_HANDOVER, "open", clinic.clinician)
    assert task.episode is None and task.patient == patient and task.program == clinic.mh
    assert "handed over by" in task.reason and patient.legal_last_name not in task.reason
    row = AuditEvent.objects.filter(object_id=str(assessment.public_id), action=AuditAction.STATUS_CHANGED).last()
    assert row is not None and row.changed_fields == ["handed_over_to"] and row.actor == clinic.intake
    # The clinician sees it in their queue and on the assessment, with the sign button.
    client = login(client, clinic.clinician)
    queue = client.get(reverse("worklist:list")).content.decode()
    assert "Handed over for signing" in queue or "Sign the intake assessment" in queue
    page = client.get(reverse("intake:edit", args=[assessment.public_id])).content.decode()
    assert "Handed over to Clinician Tester, LCSW for signing on" in page
    assert 'type="submit">Sign and lock the assessment' in page and "data-handover-form" not in page
    do_sign_assessment(assessment, acting_user=clinic.clinician)
    task.refresh_from_db()
    assert task.status == "done" and task.outcome_note == "Assessment signed" and task.closed_by == clinic.clinician


def test_only_someone_who_may_sign_is_offered_and_accepted(client, clinic, patient):
    assessment = complete(start(patient, clinic.intake), clinic.intake)
    for refused in (clinic.frontdesk, clinic.outsider, clinic.intake, None):
        with pytest.raises(ValidationError) as exc:
            do_hand_over_assessment(assessment, acting_user=clinic.intake, to=refused)
        assert "handed_to" in exc.value.message_dict
    assert not _tasks(assessment).exists()
    # A bad choice re-renders the page with the error and keeps the form (422).
    client = login(client, clinic.intake)
    response = client.post(
        reverse("intake:hand_over", args=[assessment.public_id]), {"handed_to": str(clinic.frontdesk.public_id)}
    )
    assert response.status_code == 422 and "Choose one of the list." in response.content.decode()
    response = client.post(reverse("intake:hand_over", args=[assessment.public_id]), {})
    assert response.status_code == 422 and "Choose the clinician who signs it." in response.content.decode()


def test_a_second_hand_over_replaces_the_first(clinic, patient):
    assessment = complete(start(patient, clinic.intake), clinic.intake)
    do_hand_over_assessment(assessment, acting_user=clinic.intake, to=clinic.clinician)
    do_hand_over_assessment(assessment, acting_user=clinic.intake, to=clinic.clinician)  # the same: nothing new
    assert _tasks(assessment).count() == 1
    do_hand_over_assessment(assessment, acting_user=clinic.intake, to=clinic.director)
    open_tasks = _tasks(assessment).filter(status="open")
    assert [t.assigned_to for t in open_tasks] == [clinic.director]
    assert _tasks(assessment).get(assigned_to=clinic.clinician).outcome == WorkTask.Outcome.NOT_NEEDED


def test_access_to_the_hand_over(client, clinic, patient):
    assessment = complete(start(patient, clinic.intake), clinic.intake)
    url = reverse("intake:hand_over", args=[assessment.public_id])
    body = {"handed_to": str(clinic.clinician.public_id)}
    for who, status in (("frontdesk", 403), ("auditor", 403), ("outsider", 404), ("stranger", 404)):
        client.logout()
        assert login(client, getattr(clinic, who)).post(url, body).status_code == status, who
    assert not _tasks(assessment).exists()


def test_the_api_lists_signers_and_hands_over(client, clinic, patient):
    assessment = complete(start(patient, clinic.intake), clinic.intake)
    base = f"/api/v1/intake/{assessment.public_id}"
    client = login(client, clinic.intake)
    signers = client.get(f"{base}/signers").json()
    names = {s["display_name"] for s in signers}
    assert clinic.clinician.display_name in names and clinic.director.display_name in names
    assert clinic.intake.display_name not in names and clinic.frontdesk.display_name not in names
    bad = client.post(f"{base}/hand-over", {"to": str(clinic.frontdesk.public_id)}, content_type=JSON)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "to"
    unknown = client.post(f"{base}/hand-over", {"to": str(clinic.stranger.public_id)}, content_type=JSON)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "to"
    done = client.post(f"{base}/hand-over", {"to": str(clinic.clinician.public_id)}, content_type=JSON)
    assert done.status_code == 200
    handed = done.json()["handed_over"]
    assert handed["to"] == str(clinic.clinician.public_id) and handed["to_name"] == clinic.clinician.display_name
    for who, status in (("frontdesk", 403), ("auditor", 403), ("outsider", 404), ("stranger", 404)):
        client.logout()
        other = login(client, getattr(clinic, who))
        assert other.get(f"{base}/signers").status_code == status, who
        response = other.post(f"{base}/hand-over", {"to": str(clinic.clinician.public_id)}, content_type=JSON)
        assert response.status_code == status, who
    client.logout()
    client = login(client, clinic.clinician)
    assert client.post(f"{base}/sign").json()["handed_over"] is None
    assert not _tasks(assessment).filter(status="open").exists()
