"""Payers: the organization's list of whom claims go to, and the coverage forms' payer picker (the chart's
Insurance tab and the API), which names the coverage after the payer picked."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_add_coverage, do_create_payer, do_update_coverage, do_update_payer
from openiop.patients.models import Payer
from openiop.testing.fixtures import make_patient

MEDICARE = {"name": "Medicare Part A (J K)", "payer_id": "13001", "kind": "medicare", "claim_filing_indicator": "MA"}
FORM = {
    "priority": "1", "payer": "", "payer_kind": "commercial", "payer_name": "", "plan_name": "", "member_id": "1EG4",
    "group_number": "", "subscriber_name": "", "subscriber_date_of_birth": "", "relationship_to_subscriber": "self",
    "effective_from": "2026-01-01", "effective_to": "",
}  # fmt: skip


@pytest.fixture
def payers(clinic) -> dict[str, Payer]:
    return {
        "medicare": do_create_payer(acting_user=None, organization=clinic.org, **MEDICARE),
        "closed": do_create_payer(
            acting_user=None,
            organization=clinic.org,
            name="Closed Plan",
            payer_id="CLSD1",
            kind="commercial",
            claim_filing_indicator="CI",
            is_active=False,
        ),
        "foreign": do_create_payer(
            acting_user=None,
            organization=clinic.other_org,
            name="Elsewhere Plan",
            payer_id="ELSE1",
            kind="commercial",
            claim_filing_indicator="CI",
        ),
    }


def test_a_payer_is_validated_and_audited(clinic):
    payer = do_create_payer(acting_user=clinic.billing, organization=clinic.org, **{**MEDICARE, "payer_id": " 13001 "})
    assert (payer.payer_id, payer.timely_filing_days, payer.is_active) == ("13001", 90, True)
    event = AuditEvent.objects.filter(object_type="payer").get()
    assert event.action == AuditAction.CONFIG_CHANGED and event.organization_id_ref == clinic.org.pk
    with pytest.raises(ValidationError) as bad:
        do_create_payer(
            acting_user=None,
            organization=clinic.org,
            **{**MEDICARE, "name": "medicare part a (j k)", "payer_id": "x", "kind": "nope", "city": "Albany"},
        )
    assert {"name", "payer_id", "kind", "address_line1", "state", "postal_code"} <= set(bad.value.message_dict)
    assert do_update_payer(payer, acting_user=clinic.billing, timely_filing_days=365) == ["timely_filing_days"]


def test_the_picker_offers_the_organizations_active_payers(client, clinic, payers):
    patient = make_patient(clinic)
    login(client, clinic.billing)
    html = client.get(reverse("patients:coverage_add", args=[patient.public_id])).content.decode()
    assert "Medicare Part A (J K) (13001)" in html
    assert "Closed Plan" not in html and "Elsewhere Plan" not in html


def test_picking_a_payer_names_the_coverage(client, clinic, payers):
    patient = make_patient(clinic)
    login(client, clinic.billing)
    url = reverse("patients:coverage_add", args=[patient.public_id])
    response = client.post(url, {**FORM, "payer": payers["medicare"].public_id})
    assert response.status_code == 302
    coverage = patient.coverages.get()
    assert (coverage.payer, coverage.payer_name, coverage.payer_kind) == (
        payers["medicare"],
        MEDICARE["name"],
        "medicare",
    )
    assert {"payer", "payer_name"} <= set(AuditEvent.objects.filter(object_type="coverage").get().changed_fields)
    insurance = client.get(f"{patient.get_absolute_url()}?tab=insurance").content.decode()
    assert "payer ID" in insurance and "13001" in insurance


def test_neither_payer_nor_name_is_a_field_error_and_other_payers_are_refused(client, clinic, payers):
    patient = make_patient(clinic)
    login(client, clinic.billing)
    url = reverse("patients:coverage_add", args=[patient.public_id])
    response = client.post(url, FORM)
    assert 'id="id_payer_name_error"' in response.content.decode() and 'value="1EG4"' in response.content.decode()
    for other in ("closed", "foreign"):
        response = client.post(url, {**FORM, "payer": payers[other].public_id})
        assert 'id="id_payer_error"' in response.content.decode()
    assert not patient.coverages.exists()
    typed = client.post(url, {**FORM, "payer_name": "Book Now Health"})  # free text still works
    assert typed.status_code == 302 and patient.coverages.get().payer is None


def test_editing_keeps_an_inactive_payer_already_picked(client, clinic, payers):
    patient = make_patient(clinic)
    coverage = do_add_coverage(patient, acting_user=None, payer=payers["medicare"], member_id="1EG4")
    do_update_payer(payers["medicare"], acting_user=clinic.billing, is_active=False)
    login(client, clinic.billing)
    url = reverse("patients:coverage_edit", args=[coverage.public_id])
    assert "Medicare Part A (J K) (13001)" in client.get(url).content.decode()
    response = client.post(url, {**FORM, "payer": payers["medicare"].public_id, "member_id": "1EG5"})
    assert response.status_code == 302
    with pytest.raises(ValidationError):  # but no other coverage may pick it now
        do_update_coverage(
            do_add_coverage(patient, acting_user=None, priority=2, payer_name="Other", member_id="2"),
            acting_user=clinic.billing,
            payer=payers["medicare"],
        )


def test_the_api_takes_a_payer_by_id(client, clinic, payers):
    patient = make_patient(clinic)
    login(client, clinic.billing)
    url = f"/api/v1/patients/{patient.public_id}/coverages"
    created = client.post(
        url, {"payer": str(payers["medicare"].public_id), "member_id": "1EG4"}, content_type="application/json"
    )
    assert created.status_code == 201
    assert created.json()["payer"] == str(payers["medicare"].public_id)
    assert created.json()["payer_name"] == MEDICARE["name"]
    refused = client.post(
        url,
        {"payer": str(payers["foreign"].public_id), "member_id": "X2", "priority": 2},
        content_type="application/json",
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "payer"
    nameless = client.post(url, {"member_id": "X3", "priority": 2}, content_type="application/json")
    assert nameless.status_code == 422 and nameless.json()["errors"][0]["field"] == "payer_name"
    assert client.get(url).json()[0]["payer"] == str(payers["medicare"].public_id)
