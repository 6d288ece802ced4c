"""The patient ledger: the arithmetic from a charge through the payer's partial payment and the patient's share to
the patient's payment, a refund and an adjustment; who may read and record; the statement PDF; bad input."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from openiop.claims.actions import do_import_acknowledgement
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.ledger import actions
from openiop.ledger.ledger import build_ledger
from openiop.ledger.models import LedgerEntry
from openiop.lib.x12.simulate import Outcome
from openiop.testing.claims import accepted_claims, remit, set_up_billing
from openiop.testing.pdftext import plain_text

TODAY = timezone.localdate


@pytest.fixture
def paid_claim(clinic):
    """Three days at 450 charged (1,350); the payer allows 300 a day (CO-45 150 a day) and the patient owes 30
    coinsurance and 20 copay: the payer pays 850."""
    payer = set_up_billing(clinic)
    (claim,), sent = accepted_claims(clinic, payer, ["Jordan"])
    outcome = Outcome(allowed=Decimal(300), coinsurance=Decimal(30), copay=Decimal(20))
    do_import_acknowledgement(
        remit(sent, {claim.control_number: outcome}), acting_user=clinic.billing, organization=clinic.org
    )
    return claim


def _totals(ledger):
    return (
        ledger.charges,
        ledger.insurance_paid,
        ledger.adjustments,
        ledger.patient_responsibility,
        ledger.patient_paid,
        ledger.balance,
        ledger.patient_balance,
    )


def test_the_balance_from_charge_to_refund(clinic, paid_claim):
    patient = paid_claim.patient
    assert _totals(build_ledger(patient)) == (1350, 850, 450, 50, 0, 50, 50)
    actions.do_record_patient_payment(
        patient, acting_user=clinic.frontdesk, amount=Decimal(40), method="card", on=TODAY(), reference="R-1"
    )
    assert _totals(build_ledger(patient)) == (1350, 850, 450, 50, 40, 10, 10)
    refund = actions.do_record_patient_payment(
        patient,
        acting_user=clinic.billing,
        amount=Decimal(5),
        method="cash",
        on=TODAY(),
        refund=True,
        reason="Overpaid",
    )
    assert refund.amount == -5 and refund.kind == LedgerEntry.Kind.REFUND
    assert _totals(build_ledger(patient)) == (1350, 850, 450, 50, 35, 15, 15)
    actions.do_adjust(
        patient, acting_user=clinic.billing, amount=Decimal(15), share="patient", reason="Small balance", on=TODAY()
    )
    ledger = build_ledger(patient)
    assert (ledger.balance, ledger.patient_balance) == (0, 0)
    kinds = [line.kind for line in ledger.lines]
    assert kinds[:4] == ["charge", "insurance", "write-off", "patient responsibility"]
    assert {"payment", "refund", "adjustment"} <= set(kinds)
    assert AuditEvent.objects.filter(action=AuditAction.CREATED, object_type="ledgerentry").count() == 3


def test_a_reversal_and_a_void_take_money_and_the_charge_back(clinic, paid_claim):
    from openiop.claims.actions import do_void
    from openiop.claims.models import X12File

    sent = X12File.objects.get(direction="out")
    reversal = remit(
        sent,
        {
            paid_claim.control_number: Outcome(
                reversal=True, allowed=Decimal(300), coinsurance=Decimal(30), copay=Decimal(20)
            )
        },
        number=906,
        trace="EFT-R",
    )
    do_import_acknowledgement(reversal, acting_user=clinic.billing, organization=clinic.org)
    assert _totals(build_ledger(paid_claim.patient)) == (1350, 0, 0, 0, 0, 1350, 0)
    paid_claim.refresh_from_db()
    do_void(paid_claim, acting_user=clinic.billing, reason="Billed in error")
    assert build_ledger(paid_claim.patient).balance == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"amount": Decimal(0)}, "amount"), ({"amount": Decimal("1.005")}, "amount"), ({"method": "bitcoin"}, "method"),
     ({"on": "future"}, "on"), ({"refund": True}, "reason")],
)  # fmt: skip
def test_a_bad_payment_is_refused_by_field(clinic, paid_claim, kwargs, field):
    values = {"amount": Decimal(10), "method": "cash", "on": TODAY(), **kwargs}
    if values["on"] == "future":
        values["on"] = TODAY() + timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        actions.do_record_patient_payment(paid_claim.patient, acting_user=clinic.billing, **values)
    assert field in caught.value.message_dict
    assert not LedgerEntry.objects.exists()


def test_entries_are_append_only(clinic, paid_claim):
    entry = actions.do_record_patient_payment(
        paid_claim.patient, acting_user=clinic.billing, amount=Decimal(10), method="cash", on=TODAY()
    )
    entry.amount = Decimal(1)
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


def test_the_statement_pdf_says_what_insurance_paid_and_what_the_patient_owes(client, clinic, paid_claim):
    patient = paid_claim.patient
    actions.do_record_patient_payment(
        patient, acting_user=clinic.billing, amount=Decimal(20), method="check", on=TODAY()
    )
    login(client, clinic.frontdesk)
    answer = client.get(reverse("ledger:statement", args=[patient.public_id]))
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert patient.legal_last_name not in answer["Content-Disposition"]
    text = plain_text(answer.content)
    assert patient.legal_last_name in text and "12 Elm Street" in text
    assert "Your insurance paid in this period: $850.00" in text and "You owe: $30.00" in text
    assert "How to pay" in text and paid_claim.control_number in text
    assert AuditEvent.objects.filter(action=AuditAction.EXPORTED, object_type="statement").exists()
    bad = client.get(reverse("ledger:statement", args=[patient.public_id]) + "?start=2026-12-01&end=2026-11-01")
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("who", "read", "record", "adjust"),
    [("billing", 200, 302, 302), ("frontdesk", 200, 302, 403), ("director", 200, 403, 403),
     ("auditor", 200, 403, 403), ("clinician", 403, 403, 403), ("stranger", 404, 403, 403)],
)  # fmt: skip
def test_who_may_read_and_record(client, clinic, paid_claim, who, read, record, adjust):
    patient = paid_claim.patient
    login(client, getattr(clinic, who))
    tab = client.get(reverse("patients:chart_tab", args=[patient.public_id, "ledger"]), headers={"HX-Request": "true"})
    assert tab.status_code == read
    assert client.get(f"/api/v1/patients/{patient.public_id}/ledger").status_code == read
    if read == 200:
        assert b'data-ledger="patient_balance">$50.00' in tab.content
        full = client.get(patient.get_absolute_url() + "?tab=ledger")
        assert full.status_code == 200 and b'data-ledger="balance"' in full.content
        assert (b"Record a payment" in tab.content) == (record == 302)
    body = {"amount": "25", "method": "cash", "on": TODAY().isoformat()}
    assert client.post(reverse("ledger:payment", args=[patient.public_id]), body).status_code == record
    adjusted = client.post(
        reverse("ledger:adjust", args=[patient.public_id]),
        {"amount": "5", "share": "patient", "reason": "Prompt pay", "on": TODAY().isoformat()},
    )
    assert adjusted.status_code == adjust


def test_a_bad_payment_form_keeps_what_was_typed(client, clinic, paid_claim):
    login(client, clinic.frontdesk)
    answer = client.post(
        reverse("ledger:payment", args=[paid_claim.patient.public_id]),
        {"amount": "12.50", "method": "cash", "on": TODAY().isoformat(), "refund": "on", "reference": "REF-77"},
    )
    assert answer.status_code == 400 and b"Say why" in answer.content
    assert b'value="12.50"' in answer.content and b'value="REF-77"' in answer.content
    assert not LedgerEntry.objects.exists()


def test_the_api_reads_the_ledger_and_records_a_payment(client, clinic, paid_claim):
    patient = paid_claim.patient
    login(client, clinic.frontdesk)
    url = f"/api/v1/patients/{patient.public_id}/payments"
    made = client.post(
        url,
        {"amount": "30", "method": "check", "on": TODAY().isoformat(), "reference": "1001"},
        content_type="application/json",
    )
    assert made.status_code == 201 and made.json()["kind"] == "payment"
    ledger = client.get(f"/api/v1/patients/{patient.public_id}/ledger").json()
    assert ledger["patient_balance"] == "20.00" and ledger["balance"] == "20.00"
    for body, field in (
        ({"amount": "-3", "method": "cash", "on": TODAY().isoformat()}, "amount"),
        ({"amount": "3", "method": "gold", "on": TODAY().isoformat()}, "method"),
        ({"amount": "3", "method": "cash", "on": TODAY().isoformat(), "refund": True}, "reason"),
    ):
        answer = client.post(url, body, content_type="application/json")
        assert answer.status_code == 422 and field in [e["field"] for e in answer.json()["errors"]], answer.json()


def test_emergency_access_opens_the_chart_not_the_ledger(client, clinic, paid_claim):
    from openiop.core.roles import Role
    from openiop.patients.emergency import do_grant_emergency_access
    from openiop.testing.fixtures import staff

    teen_director = staff(clinic.org, "teendirector", Role.DIRECTOR, [clinic.teen], credentials="MD")
    patient = paid_claim.patient
    do_grant_emergency_access(patient, acting_user=teen_director, reason_category="other", reason="Crisis call")
    login(client, teen_director)
    assert client.get(patient.get_absolute_url()).status_code == 200  # the grant opens the chart
    tab = client.get(reverse("patients:chart_tab", args=[patient.public_id, "ledger"]), headers={"HX-Request": "true"})
    assert tab.status_code == 404
    assert client.get(f"/api/v1/patients/{patient.public_id}/ledger").status_code == 404
