"""Test factories for claims: a clinic set up to bill (identities, a payer, its program setting, a fee), billable
days as the billing app stores them, and the acknowledgement and remittance files a clearinghouse sends back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from openiop.attendance.models import AttendanceRecord
from openiop.billing.models import (
    BillableDay,
    BillingProvider,
    ClinicianBillingIdentity,
    FeeScheduleRate,
    PayerProgramSetting,
    SiteBillingIdentity,
)
from openiop.claims.models import Claim, SubmissionProfile, X12File
from openiop.lib.x12.simulate import Outcome, acknowledge_277ca, acknowledge_999, remit_835
from openiop.patients.actions import do_add_coverage
from openiop.patients.models import EpisodeOfCare, Payer
from openiop.testing.notes import diagnose
from openiop.testing.scheduling import admit, make_session, make_session_type

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


def billed_episode(clinic: Any, payer: Payer, first_name: str = "Jordan", program: Any = None) -> EpisodeOfCare:
    """An episode (MH unless ``program``) with the payer as primary coverage, a street address, a diagnosis and a
    primary clinician."""
    episode = admit(
        clinic,
        first_name,
        program=program,
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


def ack_999(sent: X12File, *, rejected: bool, number: int = 901) -> str:
    """The clearinghouse's 999 for ``sent``: every transaction set accepted, or every one rejected."""
    refused = [e["control_number"] for e in sent.transaction_control_numbers] if rejected else []
    return acknowledge_999(sent.content, at=timezone.now(), number=number, rejected=refused)


def ack_277ca(sent: X12File, *, rejected: dict[str, str] | None = None, number: int = 903) -> str:
    """The 277CA for ``sent``: each claim accepted (payer claim number ``ICN`` + our CLM01) unless ``rejected``
    gives its reason."""
    return acknowledge_277ca(sent.content, at=timezone.now(), number=number, rejected=rejected)


def remit(sent: X12File, outcomes: dict[str, Outcome], *, number: int = 905, **kwargs: Any) -> str:
    """The payer's 835 for claims of ``sent``, by CLM01 (see ``simulate.remit_835``)."""
    return remit_835(sent.content, at=timezone.now(), number=number, outcomes=outcomes, **kwargs)


def accepted_claims(clinic: Any, payer: Payer, names: list[str], *, days: int = 3) -> tuple[list[Claim], X12File]:
    """One accepted claim per patient named (``days`` weekdays of November 2026 each), sent in one 837 file and
    accepted by a 277CA: what an 835 answers."""
    from openiop.claims import actions

    for name in names:
        billable_days(billed_episode(clinic, payer, name), weekdays(date(2026, 11, 2), days))
    built = actions.do_build_claims(
        acting_user=clinic.billing, program=clinic.mh, payer=payer, start=date(2026, 11, 1), end=date(2026, 11, 30)
    ).created
    sent = actions.do_export_claims(built, acting_user=clinic.billing, organization=clinic.org).file
    actions.do_import_acknowledgement(ack_277ca(sent), acting_user=clinic.billing, organization=clinic.org)
    claims = list(Claim.objects.filter(pk__in=[c.pk for c in built]).order_by("number"))
    return claims, sent


@dataclass(frozen=True)
class Service:
    """One attended session to bill per service: its session type (created when missing) and what happened."""

    type_name: str
    service_kind: str
    minutes: int
    facilitator: Any
    hour: int = 9
    mode: str = "in_person"
    procedure_code: str = ""
    revenue_code: str = ""


def attended(episode: EpisodeOfCare, day: date, services: list[Service]) -> list[AttendanceRecord]:
    """Sessions on ``day`` (program-local) the episode's patient attended, as check-in stores them, each with its
    facilitator (the claims tests start from attendance already taken and decided, not from the check-in flow)."""
    program = episode.program
    records = []
    for spec in services:
        kind = make_session_type(
            program,
            spec.type_name,
            service_kind=spec.service_kind,
            procedure_code=spec.procedure_code,
            revenue_code=spec.revenue_code,
        )
        start = datetime.combine(day, time(spec.hour), tzinfo=program.tz())
        session = make_session(
            program, start, minutes=spec.minutes, session_type=kind, facilitators=(spec.facilitator,), mode=spec.mode
        )
        records.append(
            AttendanceRecord.objects.create(
                session=session,
                episode=episode,
                patient=episode.patient,
                status=AttendanceRecord.Status.PRESENT,
                minutes_attended=spec.minutes,
                recorded_by=spec.facilitator,
            )
        )
    return records


def rates(organization: Any, payer: Payer | None, codes: dict[str, str]) -> None:
    """Fee schedule rows for ``codes`` (code -> rate), the payer's own or (``payer`` None) the organization's."""
    for code, rate in codes.items():
        FeeScheduleRate.objects.get_or_create(
            organization=organization,
            payer=payer,
            code=code,
            modifier="",
            tier="",
            effective_from=date(2026, 1, 1),
            defaults={"rate": Decimal(rate)},
        )
