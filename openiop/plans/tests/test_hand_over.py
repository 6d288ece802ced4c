"""Handing a plan draft over for signing (docs/clinical-rules.md#scope-of-practice): the page offers the hand-over
instead of the sign button to someone who may not sign a plan; the task goes to the named clinician and closes
when they sign."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from openiop.conftest import login
from openiop.plans import actions
from openiop.plans.models import PlanVersion
from openiop.testing.plans import draft, fill
from openiop.worklist.models import WorkTask

pytestmark = pytest.mark.django_db
JSON = "application/json"


def _tasks(version):
    return WorkTask.objects.filter(trigger_key__startswith=f"sign_handover:plan:{version.public_id}:")


@pytest.fixture
def version(clinic, patient):
    version = draft(patient, clinic.intake)
    fill(version, clinic.intake)
    return version


def test_the_page_offers_the_hand_over_and_signing_closes_the_task(client, clinic, version):
    client = login(client, clinic.intake)
    url = reverse("plans:version", args=[version.public_id])
    page = client.get(url).content.decode()
    assert "Sign as the clinician" not in page and "Hand over for signing" in page
    response = client.post(
        reverse("plans:hand_over", args=[version.public_id]),
        {"handed_to": str(clinic.clinician.public_id)},
        follow=True,
    )
    assert "Handed over to Clinician Tester, LCSW for signing on" in response.content.decode()
    task = _tasks(version).get()
    assert (task.kind, task.assigned_to, task.episode) == ("sign_handover", clinic.clinician, version.plan.episode)
    # A reader (the auditor) sees the hand-over on the draft too.
    assert "Handed over to Clinician Tester, LCSW" in login(client, clinic.auditor).get(url).content.decode()
    page = login(client, clinic.clinician).get(url).content.decode()
    assert "Sign as the clinician" in page and "data-handover-form" not in page
    signed = actions.do_sign_version(version, acting_user=clinic.clinician)
    assert signed.status == PlanVersion.Status.AWAITING_PATIENT and signed.author == clinic.clinician
    task.refresh_from_db()
    assert task.status == "done" and task.outcome_note == "Treatment plan signed"


def test_bad_choices_are_refused_and_the_form_comes_back(client, clinic, version):
    with pytest.raises(ValidationError) as exc:
        actions.do_hand_over_version(version, acting_user=clinic.intake, to=clinic.frontdesk)
    assert "handed_to" in exc.value.message_dict
    client = login(client, clinic.intake)
    response = client.post(
        reverse("plans:hand_over", args=[version.public_id]), {"handed_to": str(clinic.frontdesk.public_id)}
    )
    assert response.status_code == 422 and "Choose one of the list." in response.content.decode()
    assert not _tasks(version).exists()


def test_access_to_the_hand_over(client, clinic, version):
    url = reverse("plans:hand_over", args=[version.public_id])
    api = f"/api/v1/plan-versions/{version.public_id}"
    body = {"handed_to": str(clinic.clinician.public_id)}
    for who, status in (("frontdesk", 403), ("auditor", 403), ("outsider", 404), ("stranger", 404)):
        client.logout()
        other = login(client, getattr(clinic, who))
        assert other.post(url, body).status_code == status, who
        assert other.get(f"{api}/signers").status_code == status, who
        to = {"to": str(clinic.clinician.public_id)}
        assert other.post(f"{api}/hand-over", to, content_type=JSON).status_code == status, who
    assert not _tasks(version).exists()


def test_the_api_hands_over(client, clinic, version):
    api = f"/api/v1/plan-versions/{version.public_id}"
    client = login(client, clinic.intake)
    names = {s["display_name"] for s in client.get(f"{api}/signers").json()}
    assert clinic.clinician.display_name in names and clinic.intake.display_name not in names
    bad = client.post(f"{api}/hand-over", {"to": str(clinic.billing.public_id)}, content_type=JSON)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "to"
    done = client.post(f"{api}/hand-over", {"to": str(clinic.director.public_id)}, content_type=JSON)
    assert done.status_code == 200 and done.json()["handed_over"]["to"] == str(clinic.director.public_id)
    assert client.get(api).json()["handed_over"]["to_name"] == clinic.director.display_name
