"""The billing setup API: payers, payer program settings, the fee schedule and the organization's billing identity;
access as on the pages, problem bodies naming the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from openiop.billing.actions import do_create_fee_rate, do_create_payer_setting, do_save_billing_provider
from openiop.billing.tests.test_setup import PAYER, PROVIDER, make_payer
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent

API = "/api/v1/billing"


@pytest.fixture
def setup(clinic):
    payer = make_payer(clinic)
    setting = do_create_payer_setting(
        acting_user=None, payer=payer, program=clinic.mh, claim_type="837P", place_of_service="53"
    )
    fee = do_create_fee_rate(
        acting_user=None,
        organization=clinic.org,
        payer=payer,
        code="S9480",
        rate=Decimal("250.00"),
        effective_from=date(2026, 1, 1),
    )
    do_save_billing_provider(clinic.org, acting_user=None, **PROVIDER)
    return {"payer": payer, "setting": setting, "fee": fee}


def _writes(setup, clinic) -> list[tuple[str, str, dict]]:
    return [
        ("post", f"{API}/payers", {**PAYER, "name": "Another", "payer_id": "ANOTH"}),
        ("patch", f"{API}/payers/{setup['payer'].public_id}", {"timely_filing_days": 120}),
        (
            "post",
            f"{API}/payer-settings",
            {
                "payer": str(setup["payer"].public_id),
                "program": str(clinic.su.public_id),
                "claim_type": "837P",
                "place_of_service": "57",
                "code_standard": "H0015",
            },
        ),
        ("patch", f"{API}/payer-settings/{setup['setting'].public_id}", {"authorization_required": True}),
        ("post", f"{API}/fee-schedule", {"code": "H0015", "rate": "200.00", "effective_from": "2026-01-01"}),
        ("patch", f"{API}/fee-schedule/{setup['fee'].public_id}", {"rate": "255.50"}),
        ("put", f"{API}/identity", {**PROVIDER, "legal_name": "Riverside Recovery, Inc."}),
    ]


READS = ["payers", "payer-settings", "fee-schedule", "identity"]


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [
        ("billing", 200, True),
        ("sysadmin", 200, True),
        ("director", 200, False),
        ("auditor", 200, False),
        ("clinician", 403, False),
        ("frontdesk", 403, False),
    ],
)
def test_access_matrix(client, clinic, setup, who, read, write):
    login(client, getattr(clinic, who))
    for path in READS:
        assert client.get(f"{API}/{path}").status_code == read, path
    for method, url, body in _writes(setup, clinic):
        response = getattr(client, method)(url, body, content_type="application/json")
        expected = (200, 201) if write else (403,)
        assert response.status_code in expected, (url, response.content)


def test_another_organization_gets_404s_and_sees_nothing(client, clinic, setup):
    from openiop.core.roles import Role
    from openiop.testing.fixtures import staff

    login(client, staff(clinic.other_org, "elsewherebilling", Role.BILLING, []))
    assert client.get(f"{API}/payers").json() == [] and client.get(f"{API}/fee-schedule").json() == []
    assert client.get(f"{API}/identity").status_code == 404  # not set up there
    for method, url, body in _writes(setup, clinic)[1::2]:  # the PATCHes of our records
        assert getattr(client, method)(url, body, content_type="application/json").status_code == 404, url
    response = client.post(
        f"{API}/fee-schedule",
        {"payer": str(setup["payer"].public_id), "code": "S9480", "rate": "1.00", "effective_from": "2026-01-01"},
        content_type="application/json",
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "payer"


def test_a_wrong_npi_check_digit_is_a_422_naming_npi(client, clinic, setup):
    login(client, clinic.billing)
    response = client.put(f"{API}/identity", {**PROVIDER, "npi": "1245319598"}, content_type="application/json")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["npi"]
    assert client.get(f"{API}/identity").json()["npi"] == PROVIDER["npi"]


def test_writes_answer_with_the_record_and_are_audited(client, clinic, setup):
    login(client, clinic.billing)
    before = AuditEvent.objects.filter(action=AuditAction.CONFIG_CHANGED).count()
    tricare = {**PAYER, "name": "TRICARE East", "payer_id": "TRCRE", "kind": "tricare", "claim_filing_indicator": "CH"}
    created = client.post(f"{API}/payers", tricare, content_type="application/json")
    assert created.status_code == 201 and created.json()["timely_filing_days"] == 365
    patched = client.patch(
        f"{API}/payers/{created.json()['id']}", {"is_active": False}, content_type="application/json"
    )
    assert patched.json()["is_active"] is False
    fee = client.patch(
        f"{API}/fee-schedule/{setup['fee'].public_id}", {"rate": "255.5"}, content_type="application/json"
    )
    assert Decimal(str(fee.json()["rate"])) == Decimal("255.50")
    overlap = client.post(
        f"{API}/fee-schedule",
        {"payer": str(setup["payer"].public_id), "code": "S9480", "rate": "1.00", "effective_from": "2026-03-01"},
        content_type="application/json",
    )
    assert overlap.status_code == 422 and overlap.json()["errors"][0]["field"] == "effective_from"
    professional = client.patch(
        f"{API}/payer-settings/{setup['setting'].public_id}", {"revenue_code": "0905"}, content_type="application/json"
    )
    assert professional.status_code == 422 and professional.json()["errors"][0]["field"] == "revenue_code"
    identity = client.get(f"{API}/identity").json()
    assert identity["tax_id"] == "12-3456789" and identity["sites"] == []
    assert AuditEvent.objects.filter(action=AuditAction.CONFIG_CHANGED).count() == before + 3
