"""835 posting: payments, partial payments with the patient's share, denials with their reasons, reversals, PLB,
unmatched claims, and the two refusals (the same file, the same payment in another file)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from openiop.claims import actions
from openiop.claims.models import Claim, ClaimPayment, LinePayment, PaymentAdjustment, Remittance
from openiop.lib import x12
from openiop.lib.x12.simulate import Outcome
from openiop.testing.claims import RATE, accepted_claims, remit, set_up_billing


@pytest.fixture
def payer(clinic):
    return set_up_billing(clinic)


def _post(clinic, text):
    return actions.do_import_acknowledgement(text, acting_user=clinic.billing, organization=clinic.org)


def test_a_full_payment_marks_the_claim_paid_and_keeps_the_remittance(clinic, payer):
    (claim,), sent = accepted_claims(clinic, payer, ["Jordan"])
    text = remit(sent, {claim.control_number: Outcome(payer_claim_number="PAY-77")}, trace="EFT-1")
    assert x12.validate(text) == []
    claim.payer_claim_number = ""
    claim.save()
    result = _post(clinic, text)
    claim.refresh_from_db()
    assert result.paid == [claim] and claim.status == Claim.Status.PAID
    assert claim.payer_claim_number == "PAY-77"  # kept when we had none
    remittance = Remittance.objects.get()
    assert (remittance.payer, remittance.trace_number, remittance.total_paid) == (payer, "EFT-1", RATE * 3)
    assert result.file.kind == "835" and "1 paid" in result.file.summary
    payment = claim.payments.get()
    assert payment.paid == RATE * 3 and payment.patient_responsibility == 0
    # Every line matched to ours by its REF*6R.
    assert sorted(li.claim_line.line_number for li in payment.lines.all() if li.claim_line) == [1, 2, 3]


def test_a_partial_payment_keeps_contractual_and_patient_shares(clinic, payer):
    (claim,), sent = accepted_claims(clinic, payer, ["Jordan"])
    outcome = Outcome(allowed=Decimal(300), coinsurance=Decimal(60), copay=Decimal(20))
    _post(clinic, remit(sent, {claim.control_number: outcome}))
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PAID
    payment = claim.payments.get()
    assert payment.paid == Decimal(900) - 80 and payment.patient_responsibility == 80
    adjustments = {(a.group, a.reason): a for a in PaymentAdjustment.objects.filter(claim_payment=payment)}
    assert adjustments[("PR", "2")].amount == 60 and adjustments[("PR", "2")].reason_text == "Coinsurance"
    assert adjustments[("PR", "3")].amount == 20
    assert sum(a.amount for a in PaymentAdjustment.objects.filter(group="CO", reason="45")) == (RATE - 300) * 3
    assert not payment.denied and not LinePayment.objects.filter(denied=True).exists()


def test_a_denial_records_its_reasons_in_words(clinic, payer):
    (claim,), sent = accepted_claims(clinic, payer, ["Jordan"])
    _post(clinic, remit(sent, {claim.control_number: Outcome("denied", carc="50", rarc="N130")}))
    claim.refresh_from_db()
    assert claim.status == Claim.Status.DENIED
    assert "CO-50: Payer does not consider the service medically necessary" in claim.status_reason
    assert "N130" in claim.status_reason
    payment = claim.payments.get()
    assert payment.denied and payment.paid == 0
    assert all(li.denied and li.remarks[0]["code"] == "N130" for li in payment.lines.all())


def test_a_denied_line_on_a_paid_claim_leaves_the_claim_paid(clinic, payer):
    (claim,), sent = accepted_claims(clinic, payer, ["Jordan"])
    _post(clinic, remit(sent, {claim.control_number: Outcome(denied_lines=(2,), carc="151", rarc="")}))
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PAID
    (denied,) = LinePayment.objects.filter(denied=True)
    assert denied.claim_line is not None and denied.claim_line.line_number == 2 and denied.paid == 0
    # The work queue lists the line (not the claim), with the reason in words.
    from openiop.claims import queries

    (row,) = queries.denials(clinic.billing)
    assert row.line == denied and row.amount == RATE and row.codes[0]["code"] == "CO-151"
    assert queries.denial_count(clinic.billing) == 1 and queries.denials(clinic.billing, reason="50") == []


def test_a_reversal_takes_the_payment_back_and_the_claim_returns_to_accepted(clinic, payer):
    (claim,), sent = accepted_claims(clinic, payer, ["Jordan"])
    _post(clinic, remit(sent, {claim.control_number: Outcome()}, trace="EFT-1"))
    result = _post(clinic, remit(sent, {claim.control_number: Outcome(reversal=True)}, number=906, trace="EFT-2"))
    claim.refresh_from_db()
    assert result.reversed == [claim] and claim.status == Claim.Status.ACCEPTED
    original, reversal = claim.payments.order_by("pk")
    assert reversal.reverses == original and reversal.paid == -RATE * 3 and reversal.status_code == "22"
    # The balance the payer carries forward is recorded on the remittance (PLB FB) and the payment is 0.
    assert reversal.remittance.total_paid == 0
    assert reversal.remittance.provider_adjustments.get().reason == "FB"
    assert [e.to_status for e in claim.events.all()][-2:] == ["paid", "accepted"]


def test_the_same_file_or_the_same_payment_twice_is_refused(clinic, payer):
    (claim,), sent = accepted_claims(clinic, payer, ["Jordan"])
    text = remit(sent, {claim.control_number: Outcome()}, trace="EFT-1")
    _post(clinic, text)
    with pytest.raises(ValidationError, match="imported already"):
        _post(clinic, text)
    again = remit(sent, {claim.control_number: Outcome()}, number=907, trace="EFT-1")
    with pytest.raises(ValidationError, match=f"EFT-1 .* posted already for claim {claim.control_number}"):
        _post(clinic, again)
    assert ClaimPayment.objects.count() == 1 and Remittance.objects.count() == 1


def test_an_unknown_claim_is_kept_unmatched_and_plb_is_recorded(clinic, payer):
    claims, sent = accepted_claims(clinic, payer, ["Jordan", "Casey"])
    text = remit(
        sent,
        {c.control_number: Outcome() for c in claims},
        provider_adjustments=[("L6", "INT-1", Decimal("-2.50"))],
    )
    # The payer answers a claim we never sent: the second claim's number, changed.
    text = text.replace(claims[1].control_number, "OI9999999999")
    result = _post(clinic, text)
    assert result.unknown == ["OI9999999999"] and "1 not ours" in result.file.summary
    unmatched = ClaimPayment.objects.get(claim__isnull=True)
    assert unmatched.control_number == "OI9999999999" and unmatched.lines.filter(claim_line__isnull=True).count() == 3
    remittance = Remittance.objects.get()
    plb = remittance.provider_adjustments.get()
    assert (plb.reason, plb.reference, plb.amount) == ("L6", "INT-1", Decimal("-2.50"))
    assert remittance.total_paid == RATE * 6 + Decimal("2.50")


def test_a_payment_without_a_277ca_moves_a_submitted_claim(clinic, payer):
    (claim,), sent = accepted_claims(clinic, payer, ["Jordan"])
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.SUBMITTED)
    _post(clinic, remit(sent, {claim.control_number: Outcome()}))
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PAID


def test_an_amount_no_payment_can_be_is_refused(clinic, payer):
    (claim,), sent = accepted_claims(clinic, payer, ["Jordan"])
    text = remit(sent, {claim.control_number: Outcome()})
    text = text.replace(f"CLP*{claim.control_number}*1*1350*1350", f"CLP*{claim.control_number}*1*1350*99999999999")
    with pytest.raises(ValidationError, match="too large"):
        _post(clinic, text)
    assert not Remittance.objects.exists()
