"""The demo clinic's claims, so /claims/ shows a billing office's month: built, sent, acknowledged, paid.

For last calendar month, the billing office builds the claims of every payer and program the payers' settings name
(one per episode, a line a billable day, or a line a service for Medicare and Evergreen Mutual), sends the ready
institutional and professional claims (keeping the last ready claim of each kind back, to send by hand), and the
clearinghouse answers the institutional file: a 999 that accepts it and a 277CA that accepts every claim but the
first, rejected for a subscriber name that does not match the payer's records. The payer's 835 then pays the first
accepted claim in full, the second in part (the fee schedule's contractual reduction, coinsurance and a copay the
patient owes) and denies the third as not medically necessary (CO-50, remark N130); the others wait. The partly paid
patient pays the copay at the front desk (the patient ledger's one payment) and has a commercial plan as secondary
coverage: the billing office bills it what the primary left (a secondary claim carrying the primary's answer, ready
to send). Claims the scrubber stopped (an episode without a diagnosis, a clinician without an NPI, a service without
a code) stay drafts with their problems named.

Derived from the clinic by rule (no random numbers) on the build's ``today``; idempotent: an organization that
already has claims is left alone. The acknowledgements and the remittance come from ``openiop.lib.x12.simulate``,
which answers our own 837 file as a clearinghouse and a payer would.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.billing.models import PayerProgramSetting
from openiop.claims.actions import do_build_claims, do_export_claims, do_import_acknowledgement
from openiop.claims.models import Claim, SubmissionProfile
from openiop.claims.secondary import build_secondary
from openiop.core.roles import Role
from openiop.ledger.actions import do_record_patient_payment
from openiop.ledger.models import LedgerEntry
from openiop.lib.x12.simulate import Outcome, acknowledge_277ca, acknowledge_999, remit_835
from openiop.patients.actions import do_add_coverage
from openiop.patients.models import Coverage
from openiop.programs.models import Organization

REJECTION = "Subscriber and insured name do not match the payer's records"


def _last_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


@transaction.atomic
def ensure_demo_claims(organization: Organization, today: date) -> dict[str, int] | None:
    if Claim.objects.filter(organization=organization).exists():
        return None
    billing = User.objects.filter(organization=organization, role=Role.BILLING).order_by("pk").first()
    if billing is None:
        return None
    SubmissionProfile.objects.get_or_create(
        organization=organization,
        defaults={
            "sender_id": "OPENIOPDEMO",
            "receiver_id": "CLEARDEMO",
            "submitter_name": organization.name[:60],
            "submitter_id": "OPENIOPDEMO",
            "contact_name": "Billing office",
            "contact_phone": "5550100000",
            "receiver_name": "Demo Clearinghouse",
            "receiver_etin": "CLEARDEMO",
            "usage": SubmissionProfile.Usage.TEST,
        },
    )
    start, end = _last_month(today)
    settings = PayerProgramSetting.objects.filter(payer__organization=organization, is_active=True).select_related(
        "payer", "program__site__organization"
    )
    for setting in settings.order_by("payer__name", "program__name"):
        do_build_claims(acting_user=billing, program=setting.program, payer=setting.payer, start=start, end=end)
    sent = 0
    for kind in (Claim.ClaimType.INSTITUTIONAL, Claim.ClaimType.PROFESSIONAL):
        ready = list(
            Claim.objects.filter(organization=organization, claim_type=kind, status=Claim.Status.READY).order_by(
                "number"
            )
        )
        to_send = ready[:-1]  # the last one waits for someone to send it from the list
        if not to_send:
            continue
        exported = do_export_claims(to_send, acting_user=billing, organization=organization)
        sent += len(to_send)
        if kind != Claim.ClaimType.INSTITUTIONAL:
            continue
        now = timezone.now()
        content = exported.file.content
        do_import_acknowledgement(
            acknowledge_999(content, at=now, number=7001), acting_user=billing, organization=organization
        )
        rejected = {to_send[0].control_number: REJECTION}
        do_import_acknowledgement(
            acknowledge_277ca(content, at=now, number=7002, rejected=rejected),
            acting_user=billing,
            organization=organization,
        )
        _remit(content, [c.control_number for c in to_send[1:4]], billing, organization)
    claims = Claim.objects.filter(organization=organization)
    if not claims.exists():
        return None  # no billable days last month (a demo built without its history): nothing was done
    return {
        "claims": claims.count(),
        "sent": sent,
        "drafts": claims.filter(status=Claim.Status.DRAFT).count(),
        "accepted": claims.filter(status=Claim.Status.ACCEPTED).count(),
        "paid": claims.filter(status=Claim.Status.PAID).count(),
        "denied": claims.filter(status=Claim.Status.DENIED).count(),
        "secondary": claims.filter(primary_claim__isnull=False).count(),
    }


def _remit(content: str, numbers: list[str], billing: User, organization: Organization) -> None:
    """The payer's 835 for the first accepted claims: paid, partly paid with the patient's share, denied."""
    kinds = [
        Outcome(),
        Outcome(allowed=Decimal(300), coinsurance=Decimal(45), copay=Decimal(20)),
        Outcome("denied", carc="50", rarc="N130"),
    ]
    outcomes = dict(zip(numbers, kinds, strict=False))
    if not outcomes:
        return
    text = remit_835(content, at=timezone.now(), number=7003, outcomes=outcomes, trace="EFT7003")
    do_import_acknowledgement(text, acting_user=billing, organization=organization)
    if len(numbers) < 2:
        return
    partly_paid = Claim.objects.select_related("patient").get(organization=organization, number=int(numbers[1][2:]))
    desk = User.objects.filter(organization=organization, role=Role.FRONT_DESK).order_by("pk").first()
    do_record_patient_payment(
        partly_paid.patient,
        acting_user=desk or billing,
        amount=Decimal(20),
        method=LedgerEntry.Method.CARD,
        on=timezone.localdate(),
        reference="DEMO-COPAY",
    )
    _bill_secondary(partly_paid, billing)


def _bill_secondary(claim: Claim, billing: User) -> None:
    """The partly paid patient's secondary coverage, with the first other commercial payer billed the same way for
    the program, and the secondary claim for what the primary left."""
    setting = (
        PayerProgramSetting.objects.filter(
            program=claim.program,
            claim_type=claim.claim_type,
            is_active=True,
            payer__is_active=True,
            payer__organization_id=claim.organization_id,
            payer__kind=Coverage.PayerKind.COMMERCIAL,
        )
        .exclude(payer=claim.payer)
        .select_related("payer")
        .order_by("payer__name")
        .first()
    )
    if setting is None:
        return
    payer = setting.payer
    do_add_coverage(
        claim.patient,
        acting_user=billing,
        priority=Coverage.Priority.SECONDARY,
        payer=payer,
        payer_kind=payer.kind,
        payer_name=payer.name,
        member_id=f"SEC{claim.number:07d}",
    )
    build_secondary(claim, billing)
