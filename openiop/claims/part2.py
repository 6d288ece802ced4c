"""42 CFR Part 2 on the payment paths: a claim, a remittance's follow-up or an eligibility inquiry about a person in
a substance-use program tells the payer that they are in treatment there, so it needs a Part 2 consent that covers
the payer and the purpose of payment (the general TPO designation, or the health plan named).

HIPAA itself permits disclosures to a health plan for payment (45 CFR 164.506), so other records need no consent
here; OpenIOP's stricter rule for families and outside providers (consents/checks.py) is about those recipients.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from openiop.consents.checks import Decision, Recipient, may_disclose, part2_programs
from openiop.consents.models import DataClass, Purpose
from openiop.patients.models import EpisodeOfCare, Patient

# What a claim carries about the person: diagnoses, and the days they attended (dates of service).
CLAIM_DATA = (DataClass.DIAGNOSES, DataClass.ATTENDANCE)


@dataclass(frozen=True)
class PayerConsent:
    decision: Decision
    recipient: Recipient | None  # the recipient the consent covers (None when refused)

    @property
    def allowed(self) -> bool:
        return self.decision.allowed


def payer_consent(
    patient: Patient,
    payer_name: str,
    *,
    episode: EpisodeOfCare | None = None,
    data_classes: Iterable[str] = CLAIM_DATA,
) -> PayerConsent | None:
    """None when no Part 2 record is involved; else the decision for the payer (general designation first, then the
    payer by name as an organization), allowed or with the reason that names the missing consent."""
    if not part2_programs(patient, episode):
        return None
    classes = list(data_classes)
    refusal: Decision | None = None
    for recipient in (Recipient.payer(), Recipient.provider(payer_name)):
        decision: Decision | None = None
        for data_class in classes:
            decision = may_disclose(
                patient, recipient=recipient, data_class=data_class, purpose=Purpose.PAYMENT, episode=episode
            )
            if not decision.allowed:
                break
        assert decision is not None  # classes is never empty
        if decision.allowed:
            return PayerConsent(decision, recipient)
        refusal = refusal or decision
    assert refusal is not None
    return PayerConsent(refusal, None)
