"""A program admin sets the program's signing credentials (scope of practice) and its plan policy, on the
administration pages and through the API; changes are audited, a bad form keeps what was typed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.plans.models import PlanPolicy
from openiop.programs.signing import signing_refusal

pytestmark = pytest.mark.django_db
JSON = "application/json"


def test_the_admin_chooses_the_credentials_and_signing_follows(client, clinic):
    client = login(client, clinic.director)
    url = reverse("programs:program_signing", args=[clinic.mh.public_id])
    page = client.get(url).content.decode()
    assert 'value="LCSW"' in page and 'value="RN"' in page  # the defaults and the staff records' credentials
    assert "None ticked: the default list (MD, DO" in page
    response = client.post(url, {"signing_credentials": ["MD", "PHD"], "supervised_signing_credentials": ["MSW"]})
    assert response.status_code == 302
    clinic.mh.refresh_from_db()
    assert (clinic.mh.signing_credentials, clinic.mh.supervised_signing_credentials) == (["MD", "PHD"], ["MSW"])
    assert "Signing a progress note needs" in signing_refusal(clinic.clinician, clinic.mh, "a progress note")
    row = AuditEvent.objects.filter(action=AuditAction.CONFIG_CHANGED, object_id=str(clinic.mh.public_id)).last()
    assert row is not None and set(row.changed_fields) == {"signing_credentials", "supervised_signing_credentials"}
    detail = client.get(clinic.mh.get_absolute_url()).content.decode()
    assert "MD, PHD" in detail and reverse("plans:program_policy", args=[clinic.mh.public_id]) in detail
    # Ticking nothing goes back to the organization's default.
    client.post(url, {})
    clinic.mh.refresh_from_db()
    assert clinic.mh.signing_credentials == [] and signing_refusal(clinic.clinician, clinic.mh, "a progress note") == ""


def test_an_unknown_credential_is_refused_and_the_choice_kept(client, clinic):
    client = login(client, clinic.director)
    url = reverse("programs:program_signing", args=[clinic.mh.public_id])
    response = client.post(url, {"signing_credentials": ["MD", "WIZARD"]})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    boxes = re.findall(r'<input[^>]*name="signing_credentials" value="MD"[^>]*>', response.content.decode())
    assert len(boxes) == 1 and boxes[0].endswith("checked>")  # what was ticked stays ticked
    clinic.mh.refresh_from_db()
    assert clinic.mh.signing_credentials == []


def test_the_plan_policy_page(client, clinic):
    client = login(client, clinic.director)
    url = reverse("plans:program_policy", args=[clinic.mh.public_id])
    page = client.get(url).content.decode()
    assert "When the patient signs (or declines to sign)" in page and 'value="7"' in page and 'value="30"' in page
    bad = client.post(
        url,
        {"in_force_at": "clinician_signature", "patient_signature_due_days": "0", "plan_review_interval_days": "21"},
    )
    html = bad.content.decode()
    assert bad.status_code == 200 and "greater than or equal to 1" in html and 'value="21"' in html
    assert not PlanPolicy.objects.filter(program=clinic.mh).exists()
    ok = client.post(
        url,
        {"in_force_at": "clinician_signature", "patient_signature_due_days": "10", "plan_review_interval_days": "21"},
    )
    assert ok.status_code == 302
    policy = PlanPolicy.objects.get(program=clinic.mh)
    assert (policy.in_force_at, policy.patient_signature_due_days, policy.plan_review_interval_days) == (
        "clinician_signature", 10, 21,
    )  # fmt: skip
    row = AuditEvent.objects.filter(action=AuditAction.CONFIG_CHANGED, object_type="planpolicy").last()
    assert row is not None and row.actor == clinic.director
    assert set(row.changed_fields) == {"in_force_at", "patient_signature_due_days", "plan_review_interval_days"}


def test_the_api(client, clinic):
    base = f"/api/v1/programs/{clinic.mh.public_id}"
    client = login(client, clinic.director)
    got = client.get(f"{base}/signing").json()
    assert got["own_signing_credentials"] == [] and "LCSW" in got["signing_credentials"]
    bad = client.put(f"{base}/signing", {"signing_credentials": ["MD", "WIZARD"]}, content_type=JSON)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "signing_credentials"
    done = client.put(f"{base}/signing", {"signing_credentials": ["md", "MD", "PsyD"]}, content_type=JSON)
    assert done.status_code == 200 and done.json()["signing_credentials"] == ["MD", "PSYD"]
    assert client.get(f"{base}/plan-policy").json()["is_default"] is True
    bad = client.put(f"{base}/plan-policy", {"in_force_at": "whenever"}, content_type=JSON)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "in_force_at"
    bad = client.put(f"{base}/plan-policy", {"plan_review_interval_days": 0}, content_type=JSON)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "plan_review_interval_days"
    done = client.put(f"{base}/plan-policy", {"in_force_at": "clinician_signature"}, content_type=JSON)
    body = done.json()
    assert done.status_code == 200 and body["in_force_at"] == "clinician_signature" and body["is_default"] is False
    assert body["plan_review_interval_days"] == 30
    for who, status in (("clinician", 403), ("auditor", 403), ("intake", 403), ("outsider", 403), ("stranger", 404)):
        client.logout()
        other = login(client, getattr(clinic, who))
        for path in ("signing", "plan-policy"):
            assert other.get(f"{base}/{path}").status_code == status, (who, path)
            assert other.put(f"{base}/{path}", {}, content_type=JSON).status_code == status, (who, path)
    client.logout()
    teen = login(client, clinic.director).get(f"/api/v1/programs/{clinic.teen.public_id}/signing")
    assert teen.status_code == 404
