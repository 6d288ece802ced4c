"""The billable-days page, its CSV export and the billing API: access, totals, audit, bad input, query counts."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.billing.tests.conftest import add_coverage, make_day
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent

DAYS = "/billing/days/"
CSV = "/billing/days/export.csv"
API_DAYS = "/api/v1/billing/days"
PROBLEM = "application/problem+json"


@pytest.fixture
def worked(clinic, rules):
    """Three patient-days in Adult MH: a 4-service Medicare day, a 3-service Medicare day, a 2-service day.

    The names are long enough never to turn up by chance inside a token or id on the page."""
    days = []
    for name, count, days_ago in (("Adelphine", 4, 3), ("Bronwyn", 3, 3), ("Cypriana", 2, 2)):
        day = make_day(clinic, legal_first_name=name, days_ago=days_ago)
        add_coverage(day.patient, "medicare")
        day.attend(count)
        days.append(day)
    return days


def _params(clinic, worked, **extra):
    first = min(d.date for d in worked)
    last = max(d.date for d in worked)
    return {"program": clinic.mh.pk, "date_from": first.isoformat(), "date_to": last.isoformat(), **extra}


@pytest.mark.parametrize(
    ("who", "expected"),
    [("billing", 200), ("director", 200), ("auditor", 200), ("clinician", 403), ("frontdesk", 403), ("sysadmin", 403)],
)
def test_the_days_page_needs_view_billing(client, clinic, worked, who, expected):
    login(client, getattr(clinic, who))
    assert client.get(DAYS, _params(clinic, worked)).status_code == expected
    assert client.get(CSV, _params(clinic, worked)).status_code == expected


def test_another_programs_days_are_not_a_choice(client, clinic, worked):
    from openiop.core.roles import Role
    from openiop.testing.fixtures import staff

    teen_billing = staff(clinic.org, "teenbilling", Role.BILLING, [clinic.teen])
    login(client, teen_billing)
    response = client.get(DAYS, _params(clinic, worked))
    assert response.status_code == 200
    assert "valid choice" in response.content.decode()
    assert "Adelphine" not in response.content.decode()
    login(client, clinic.stranger)
    assert "Adelphine" not in client.get(DAYS, _params(clinic, worked)).content.decode()


def test_the_page_lists_each_patient_day_with_totals_and_audits_the_list(client, clinic, worked):
    login(client, clinic.billing)
    response = client.get(DAYS, _params(clinic, worked))
    html = response.content.decode()
    for name in ("Adelphine", "Bronwyn", "Cypriana"):
        assert name in html
    assert "4 services, 220 min: meets Medicare IOP (CMHC) (3 services); 4+ service tier" in html
    totals = response.context["totals"]
    assert (totals.days, totals.billable, totals.standard, totals.high, totals.not_billable) == (3, 2, 1, 1, 1)
    assert totals.minutes == 220 + 165
    assert 'data-total="billable">2<' in html
    assert AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED, object_type="billableday").count() == 1
    only = client.get(DAYS, _params(clinic, worked, billable_only="on"))
    assert "Cypriana" not in only.content.decode()


def test_a_backwards_range_names_the_field_and_keeps_the_dates(client, clinic, worked):
    login(client, clinic.billing)
    params = _params(clinic, worked)
    params["date_from"], params["date_to"] = params["date_to"], "2020-01-01"
    response = client.get(DAYS, params)
    assert response.status_code == 200
    assert response.context["form"].errors["date_to"] == ["The range must end on or after its start."]
    assert 'value="2020-01-01"' in response.content.decode()


def test_the_page_opens_on_the_last_two_weeks_of_the_first_program(client, clinic, worked):
    login(client, clinic.billing)
    response = client.get(DAYS)
    assert response.status_code == 200
    assert len(response.context["rows"]) == 3


def test_the_csv_export_has_every_row_and_writes_an_exported_audit_row(client, clinic, worked):
    login(client, clinic.billing)
    response = client.get(CSV, _params(clinic, worked))
    assert response["Content-Type"].startswith("text/csv")
    assert "Rivera" not in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["services"], r["billable"], r["tier"]) for r in rows] == [
        ("4", "yes", "high"),
        ("3", "yes", "standard"),
        ("2", "no", ""),
    ]
    assert rows[0]["code"] == "APC 5851/5852"
    event = AuditEvent.objects.get(action=AuditAction.EXPORTED)
    assert event.actor == clinic.billing and event.object_id == str(clinic.mh.public_id)
    assert event.patient_id is None


def _page_queries(client, params) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(DAYS, params)
    return len(ctx.captured_queries), len(response.context["rows"])


def test_the_page_query_count_does_not_grow_with_rows(client, clinic, rules, worked):
    login(client, clinic.billing)
    params = _params(clinic, worked)
    client.get(DAYS, params)
    few, shown = _page_queries(client, params)
    assert shown == 3
    for n in range(6):
        day = make_day(clinic, legal_first_name=f"Extra{n}", days_ago=2)
        day.attend(3)
    many, shown = _page_queries(client, params)
    assert shown == 9
    assert many == few


# --- API --------------------------------------------------------------------------------------------------------


def _api(client, clinic, worked, **extra):
    params = _params(clinic, worked, **extra)
    params["program"] = str(clinic.mh.public_id)
    return client.get(API_DAYS, params)


def test_the_api_lists_days_with_totals_and_filters_by_patient(client, clinic, worked):
    login(client, clinic.billing)
    body = _api(client, clinic, worked).json()
    assert body["count"] == 3 and body["totals"]["high"] == 1 and body["totals"]["not_billable"] == 1
    assert {r["tier"] for r in body["results"]} == {"high", "standard", ""}
    body = _api(client, clinic, worked, patient=str(worked[1].patient.public_id)).json()
    assert [r["service_count"] for r in body["results"]] == [3]
    assert AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED, object_type="billableday").count() == 2


@pytest.mark.parametrize(("who", "expected"), [("clinician", 403), ("frontdesk", 403), ("outsider", 403)])
def test_the_api_refuses_roles_without_view_billing(client, clinic, worked, who, expected):
    login(client, getattr(clinic, who))
    response = _api(client, clinic, worked)
    assert response.status_code == expected and response["Content-Type"] == PROBLEM


def test_the_api_hides_programs_outside_ones_own(client, clinic, worked):
    login(client, clinic.stranger)
    assert _api(client, clinic, worked).status_code == 404


def test_the_api_names_the_bad_field(client, clinic, worked):
    login(client, clinic.billing)
    response = _api(client, clinic, worked, date_to="2000-01-01")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "date_to"
    response = client.get(API_DAYS, {"program": str(clinic.mh.public_id), "date_from": "soon", "date_to": "2026-01-01"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "date_from"


def test_the_api_reads_payer_rules(client, clinic, rules):
    login(client, clinic.billing)
    body = client.get("/api/v1/billing/rules").json()
    assert {r["code"] for r in body} == {"APC 5851/5852", "S9480", "H0015"}
    login(client, clinic.clinician)
    assert client.get("/api/v1/billing/rules").status_code == 403
