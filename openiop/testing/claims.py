"""Test factories for claims: a clinic set up to bill (identities, a payer, its program setting, a fee), billable
days as the billing app stores them, and the acknowledgement files a clearinghouse sends back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from openiop.billing.models import (
    BillableDay,
    BillingProvider,
    ClinicianBillingIdentity,
    FeeScheduleRate,
    PayerProgramSetting,
    SiteBillingIdentity,
)
from openiop.claims.models import Claim, SubmissionProfile, X12File
from openiop.patients.actions import do_add_coverage
from openiop.patients.models import EpisodeOfCare, Payer
from openiop.testing.notes import diagnose
from openiop.testing.scheduling import admit

RATE = Decimal("450.00")


@dataclass
class Billing:
    payer: Payer
    setting: PayerProgramSetting
    episode: EpisodeOfCare


def set_up_billing(clinic: Any, *, claim_type: str = "837I", **setting: Any) -> Payer:
    """The organization's identities, one commercial payer billed per diem for the MH program, its fee."""
    org = clinic.org
    BillingProvider.objects.get_or_create(
        organization=org,
        defaults={
            "legal_name": "Riverside Recovery LLC",
            "npi": "1234567893",
            "tax_id": "12-3456789",
            "taxonomy_code": "261QM0801X",
            "address_line1": "100 River Road",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701-1234",
        },
    )
    SiteBillingIdentity.objects.get_or_create(
        site=clinic.site, defaults={"npi": "1679576722", "taxonomy_code": "261QM0801X"}
    )
    for user, npi in ((clinic.clinician, "1245319599"), (clinic.director, "1093817645")):
        ClinicianBillingIdentity.objects.get_or_create(
            user=user,
            defaults={
                "organization": org,
                "npi": npi,
                "taxonomy_code": "101YM0800X",
                "may_attend": True,
                "may_render": True,
                "may_supervise": True,
            },
        )
    SubmissionProfile.objects.get_or_create(
        organization=org,
        defaults={
            "sender_id": "RIVERSIDE",
            "receiver_id": "CLEARHOUSE",
            "submitter_name": "Riverside Recovery",
            "submitter_id": "RIVERSIDE",
            "contact_name": "Billing Office",
            "contact_phone": "5550100000",
            "receiver_name": "Clear Claims",
            "receiver_etin": "CLEARHOUSE",
        },
    )
    payer, _ = Payer.objects.get_or_create(
        organization=org,
        payer_id="BHH01",
        defaults={"name": "Blue Harbor Health", "kind": "commercial", "claim_filing_indicator": "CI"},
    )
    values = {
        "claim_type": claim_type,
        "type_of_bill": "013" if claim_type == "837I" else "",
        "revenue_code": "0905" if claim_type == "837I" else "",
        "code_standard": "S9480",
        "place_of_service": "" if claim_type == "837I" else "11",
    }
    values.update(setting)
    PayerProgramSetting.objects.update_or_create(payer=payer, program=clinic.mh, defaults=values)
    FeeScheduleRate.objects.get_or_create(
        organization=org,
        payer=payer,
        code="S9480",
        modifier="",
        tier="",
        effective_from=date(2026, 1, 1),
        defaults={"rate": RATE},
    )
    return payer


def billed_episode(clinic: Any, payer: Payer, first_name: str = "Jordan") -> EpisodeOfCare:
    """An MH episode with the payer as primary coverage, a street address, a diagnosis and a primary clinician."""
    episode = admit(
        clinic,
        first_name,
        admitted_days_ago=40,
        address_line1="12 Elm Street",
        city="Springfield",
        state="IL",
        postal_code="62704",
        sex_assigned_at_birth="female",
    )
    EpisodeOfCare.objects.filter(pk=episode.pk).update(primary_clinician=clinic.clinician)
    do_add_coverage(
        episode.patient,
        acting_user=None,
        payer=payer,
        payer_kind=payer.kind,
        payer_name=payer.name,
        member_id="BH123456",
        group_number="G-77",
    )
    diagnose(episode, clinic.clinician, "F33.1")
    return EpisodeOfCare.objects.select_related("patient", "program__site", "primary_clinician").get(pk=episode.pk)


def billable_days(episode: EpisodeOfCare, days: list[date], *, billable: bool = True) -> list[BillableDay]:
    """Decisions as the billing app stores them (the claims tests start from decisions, not attendance)."""
    return [
        BillableDay.objects.create(
            episode=episode,
            patient=episode.patient,
            program=episode.program,
            date=day,
            payer_kind="commercial",
            is_billable=billable,
            tier="standard" if billable else "",
            service_count=3 if billable else 1,
            minutes_attended=180 if billable else 60,
            reason="3 services, 180 min: meets the rule" if billable else "1 service, 60 min: needs 3 services",
            evaluated_at=timezone.now(),
        )
        for day in days
    ]


def weekdays(start: date, count: int) -> list[date]:
    out: list[date] = []
    day = start
    while len(out) < count:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def _envelope(kind: str, group: int, version: str, body: list[str]) -> str:
    segments = [
        f"ISA*00*          *00*          *ZZ*CLEARHOUSE     *ZZ*RIVERSIDE      *260302*1015*^*00501*{group:09d}*0*T*:",
        f"GS*{kind}*CLEARHOUSE*RIVERSIDE*20260302*1015*{group}*X*{version}",
        *body,
    ]
    segments.append(f"GE*1*{group}")
    segments.append(f"IEA*1*{group:09d}")
    return "~\n".join(segments) + "~\n"


def ack_999(sent: X12File, *, rejected: bool, number: int = 901) -> str:
    """A 999 answering every transaction set of ``sent``: all accepted, or all rejected with an NM1 error."""
    version = "005010X223A2" if sent.kind == X12File.Kind.CLAIMS_837I else "005010X222A1"
    body = ["ST*999*0001*005010X231A1", f"AK1*HC*{sent.group_control_number}*{version}"]
    for entry in sent.transaction_control_numbers:
        body.append(f"AK2*837*{entry['control_number']}*{version}")
        if rejected:
            body += ["IK3*NM1*8*2010*8", "IK4*9*67*1", "IK5*R*5"]
        else:
            body.append("IK5*A")
    count = len(sent.transaction_control_numbers)
    body.append(f"AK9*{'R' if rejected else 'A'}*{count}*{count}*{0 if rejected else count}")
    body.append(f"SE*{len(body) + 1}*0001")
    return _envelope("FA", number, "005010X231A1", body)


def ack_277ca(claims: list[Claim], *, rejected: set[str] = frozenset(), number: int = 903) -> str:  # type: ignore[assignment]
    """A 277CA: each claim accepted (with a payer claim number) unless its control number is in ``rejected``."""
    body = [
        "ST*277*0001*005010X214",
        "BHT*0085*08*277CA0001*20260303*0800*TH",
        "HL*1**20*1",
        "NM1*PR*2*Blue Harbor Health*****PI*BHH01",
        "TRN*1*0001",
        "DTP*050*D8*20260302",
        "DTP*009*D8*20260303",
        "HL*2*1*21*1",
        "NM1*41*2*Riverside Recovery*****46*RIVERSIDE",
        "TRN*2*0001",
        "STC*A1:19:PR*20260303*WQ*1",
        "HL*3*2*19*1",
        "NM1*85*2*Riverside Recovery LLC*****XX*1234567893",
        "TRN*1*0",
        "STC*A1:19:85**WQ*1",
    ]
    hl = 3
    for claim in claims:
        hl += 1
        body += [f"HL*{hl}*3*PT", "NM1*QC*1*Rivera*Jordan****MI*BH123456", f"TRN*2*{claim.control_number}"]
        if claim.control_number in rejected:
            body.append("STC*A7:562:85*20260303*U*1********Billing provider NPI is not on file")
        else:
            body += ["STC*A2:20:PR*20260303*WQ*1", f"REF*1K*ICN{claim.number:08d}"]
    body.append(f"SE*{len(body) + 1}*0001")
    return _envelope("HN", number, "005010X214", body)
