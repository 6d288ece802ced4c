from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse

from openiop.conftest import login
from openiop.core import audit
from openiop.core.models import AuditAction, AuditEvent
from openiop.testing.fixtures import make_patient

REPORT = reverse("core:audit_report")
EXPORT = reverse("core:audit_export")


def _body(response) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.mark.parametrize("url", [REPORT, EXPORT])
@pytest.mark.parametrize("who", ["clinician", "director", "frontdesk", "billing", "intake", "intern"])
def test_roles_without_audit_access_get_403(client, clinic, url, who):
    assert login(client, getattr(clinic, who)).get(url).status_code == 403


@pytest.mark.parametrize("url", [REPORT, EXPORT])
def test_anonymous_is_sent_to_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_auditor_sees_own_organization_only(client, clinic, patient):
    other_org_patient = make_patient(clinic, clinic.stranger.programs.get(), admit=False, legal_first_name="Zed")
    response = login(client, clinic.auditor).get(REPORT)
    assert response.status_code == 200
    shown = {e.pk for e in response.context["page"].object_list}
    assert AuditEvent.objects.filter(patient=patient)[0].pk in shown
    assert not AuditEvent.objects.filter(patient=other_org_patient, pk__in=shown).exists()


def test_filters_by_user_patient_action_and_date(client, clinic, patient):
    other = make_patient(clinic, legal_first_name="Casey", legal_last_name="Nguyen")
    audit.record(action=AuditAction.CHART_VIEWED, acting_user=clinic.clinician, patient=patient, obj=patient)
    audit.record(action=AuditAction.CHART_VIEWED, acting_user=clinic.director, patient=other, obj=other)
    login(client, clinic.auditor)
    response = client.post(
        REPORT, {"user": clinic.clinician.public_id, "mrn": patient.mrn, "action": AuditAction.CHART_VIEWED}
    )
    assert response.status_code == 302 and patient.mrn not in response["Location"]
    page = client.get(response["Location"]).context["page"]
    assert [(e.actor_id, e.patient_id, e.action) for e in page] == [
        (clinic.clinician.pk, patient.pk, AuditAction.CHART_VIEWED)
    ]
    today = AuditEvent.objects.latest("chain_index").occurred_at.date()
    empty = client.get(REPORT, {"date_to": today.replace(year=today.year - 1).isoformat()}).context["page"]
    assert empty.paginator.count == 0


def test_bad_filters_show_field_errors_and_keep_input(client, clinic):
    response = login(client, clinic.auditor).post(
        REPORT, {"mrn": "NOPE-1", "date_from": "2026-05-02", "date_to": "2026-05-01"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "mrn" in form.errors and "date_to" in form.errors
    assert 'value="NOPE-1"' in response.content.decode()
    assert client.get(EXPORT, {"date_from": "2026-05-02", "date_to": "2026-05-01"}).status_code == 400


def test_csv_export_matches_filter_and_is_audited(client, clinic, patient):
    audit.record(action=AuditAction.CHART_VIEWED, acting_user=clinic.clinician, patient=patient, obj=patient)
    other = make_patient(clinic, legal_first_name="Casey", legal_last_name="Nguyen")
    login(client, clinic.auditor)
    found = client.post(REPORT, {"mrn": patient.mrn}, follow=True).content.decode()
    match = re.search(r'href="(/audit/export\.csv\?s=[^"]+)"', found)
    assert match is not None
    export_url = match.group(1)
    assert patient.mrn not in export_url
    response = client.get(export_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows and all(r["patient_mrn"] == patient.mrn for r in rows)
    assert {"Chart viewed", "Created"} <= {r["action"] for r in rows}
    assert AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORTED, actor=clinic.auditor).count() == 1
    # An MRN in the URL is ignored, never a filter: the whole report comes back.
    unfiltered = csv.DictReader(io.StringIO(_body(client.get(EXPORT, {"mrn": patient.mrn}))))
    assert other.mrn in {r["patient_mrn"] for r in unfiltered}


def test_viewing_the_report_is_audited(client, clinic):
    login(client, clinic.auditor).get(REPORT)
    assert AuditEvent.objects.filter(action=AuditAction.AUDIT_VIEWED, actor=clinic.auditor).count() == 1


def test_report_query_count_is_constant(client, clinic, patient, django_assert_max_num_queries):
    login(client, clinic.auditor)
    for _ in range(40):
        audit.record(action=AuditAction.CHART_VIEWED, acting_user=clinic.clinician, patient=patient, obj=patient)
    with django_assert_max_num_queries(14):
        assert client.get(REPORT).status_code == 200
