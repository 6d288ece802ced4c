"""The demo clinic's medication lists, so the chart's Medications tab, the MOUD header flag, the API and the FHIR
Bundle have something to show.

Every active substance-use patient gets a list: most are on buprenorphine/naloxone from an outside prescriber, one
on methadone from an opioid treatment program (with the prescriber/OTP coordination, the last dose confirmed, and a
Part 2 consent naming the OTP), one on extended-release naltrexone; some take psychiatric medications too; some have
an allergy, the others "no known allergies"; each list has a signed intake reconciliation. Mental-health patients
get a few psychiatric medications. Everything goes through ``medications.actions`` (validated and audited).

Deterministic (patients by admission date and MRN, plans by position), and idempotent: an organization that
already has medications is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction

from openiop.accounts.models import User
from openiop.consents.actions import SignatureInput, do_record_consent
from openiop.consents.models import ConsentKind, ExpiryKind, RecipientKind
from openiop.medications import actions
from openiop.medications.models import Medication
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Organization, Program
from openiop.programs.signing import signers_for

SUD = (Program.Focus.SUBSTANCE_USE, Program.Focus.CO_OCCURRING)
OTP = ("Harbor Opioid Treatment Program", "518-555-0190")
PRESCRIBER = ("Dr. Ana Ortiz", "Eastside Family Medicine", "518-555-0175")


@dataclass(frozen=True)
class Med:
    key: str
    strength: str
    dose: str
    frequency: str
    source: str = Medication.Source.EXTERNAL_PRESCRIBER
    prescriber: str = PRESCRIBER[0]
    reason: str = ""


BUP = Med("buprenorphine-naloxone-film", "8 mg/2 mg", "1 film", "once daily", reason="Opioid use disorder")
METHADONE = Med(
    "methadone-otp", "10 mg/mL", "85 mg", "once daily", Medication.Source.OTP, OTP[0], "Opioid use disorder"
)
NALTREXONE = Med("naltrexone-er-injection", "380 mg", "1 injection", "every 4 weeks", reason="Opioid use disorder")
PSYCH = (
    Med("sertraline", "100 mg", "1 tablet", "once daily", prescriber="Dr. Lee Park", reason="Depression"),
    Med("trazodone", "50 mg", "1 tablet", "at bedtime", Medication.Source.SELF_REPORT, "", "Sleep"),
    Med("gabapentin", "300 mg", "1 capsule", "three times daily", prescriber="Dr. Lee Park", reason="Anxiety"),
    Med("prazosin", "2 mg", "1 capsule", "at bedtime", prescriber="Dr. Lee Park", reason="Nightmares"),
    Med("escitalopram", "10 mg", "1 tablet", "once daily", prescriber="Dr. Lee Park", reason="Anxiety"),
    Med("bupropion", "150 mg", "1 tablet", "every morning", prescriber="Dr. Lee Park", reason="Depression"),
    Med("quetiapine", "50 mg", "1 tablet", "at bedtime", prescriber="Dr. Lee Park", reason="Bipolar disorder"),
)
# Substance-use patients by position: their MOUD (None: not on MOUD), then the psychiatric medications' positions.
SUD_PLANS: tuple[tuple[Med | None, tuple[int, ...]], ...] = (
    (METHADONE, (0,)),
    (BUP, ()),
    (BUP, (1, 2)),
    (NALTREXONE, (4,)),
    (BUP, (3,)),
    (None, (5,)),
)
ALLERGIES = (("Penicillin", "Hives", "moderate"), ("Codeine", "Vomiting", "mild"), ("Sulfa drugs", "Rash", "mild"))
MH_PER_PATIENT = 2


def _episodes(organization: Organization, sud: bool) -> list[EpisodeOfCare]:
    qs = EpisodeOfCare.objects.filter(
        patient__organization=organization,
        status=EpisodeOfCare.Status.ACTIVE,
        admitted_on__isnull=False,
        primary_clinician__isnull=False,
    ).select_related("program__site", "patient", "primary_clinician")
    qs = qs.filter(program__focus__in=SUD) if sud else qs.filter(program__focus=Program.Focus.MENTAL_HEALTH)
    return list(qs.order_by("admitted_on", "patient__mrn"))


def ensure_demo_medications(organization: Organization, today: date) -> int:
    """Returns how many medications were recorded (0 when the organization already has some)."""
    if Medication.objects.filter(patient__organization=organization).exists():
        return 0
    return _build(organization, today)


def _add(episode: EpisodeOfCare, writer: User, med: Med, today: date, days_before: int) -> None:
    assert episode.admitted_on is not None  # filtered above
    actions.do_add_medication(
        episode.patient, acting_user=writer, episode=episode, today=today, formulary_key=med.key,
        strength=med.strength, dose=med.dose, frequency=med.frequency, source=med.source, prescriber=med.prescriber,
        reason=med.reason, start_date=min(today, episode.admitted_on - timedelta(days=days_before)),
    )  # fmt: skip


@transaction.atomic
def _build(organization: Organization, today: date) -> int:
    made = 0
    for index, episode in enumerate(_episodes(organization, sud=True)):
        moud, psych = SUD_PLANS[index % len(SUD_PLANS)]
        if moud is METHADONE and index:
            moud = BUP  # one patient through the OTP is enough to show it; the rest see a prescriber
        writer = episode.primary_clinician
        assert writer is not None
        for med in ([moud] if moud else []) + [PSYCH[i] for i in psych]:
            _add(episode, writer, med, today, days_before=30 + 7 * index)
            made += 1
        if index % 2 == 0:
            substance, reaction, severity = ALLERGIES[(index // 2) % len(ALLERGIES)]
            actions.do_add_allergy(episode.patient, acting_user=writer, substance=substance, reaction=reaction,
                                   severity=severity, today=today)  # fmt: skip
        else:
            actions.do_state_no_known_allergies(episode.patient, acting_user=writer, today=today)
        if moud is METHADONE:
            _coordinate_with_otp(episode, writer, today)
        elif moud is BUP:
            # Those without a Part 2 consent for their treating providers show "release needed" on the tab.
            actions.do_save_moud_coordination(
                episode, acting_user=writer, prescriber_name=PRESCRIBER[0], prescriber_practice=PRESCRIBER[1],
                prescriber_phone=PRESCRIBER[2], today=today,
            )  # fmt: skip
        signer = _signer(episode, writer)
        if signer is not None:
            actions.do_sign_reconciliation(
                episode.patient, acting_user=signer, episode=episode, occasion="intake", today=today,
                note="Reviewed with the patient and the prescriber's list.",
            )  # fmt: skip
    for index, episode in enumerate(_episodes(organization, sud=False)):
        writer = episode.primary_clinician
        assert writer is not None
        for n in range(MH_PER_PATIENT - index % 2):
            _add(episode, writer, PSYCH[(index + 3 * n) % len(PSYCH)], today, days_before=60 + index)
            made += 1
    return made


def _signer(episode: EpisodeOfCare, writer: User) -> User | None:
    """The primary clinician signs when within scope (programs.signing); else the first clinician who may."""
    signers = signers_for(episode.program, actions.RECONCILIATION_DOCUMENT)
    return writer if writer in signers else next(iter(signers), None)


def _coordinate_with_otp(episode: EpisodeOfCare, writer: User, today: date) -> None:
    """The OTP, the patient's Part 2 consent naming it, and yesterday's dose confirmed by phone."""
    do_record_consent(
        episode.patient, acting_user=writer, kind=ConsentKind.PART2, episode=episode,
        signature=SignatureInput(signer_name=episode.patient.legal_name, method="typed", agreed=True),
        information_description="My medication list and my attendance, to coordinate my methadone treatment.",
        data_classes=["medications", "attendance"], recipient_kind=RecipientKind.OUTSIDE_PROVIDER,
        recipient_organization=OTP[0], purposes=["treatment"], expiry_kind=ExpiryKind.EVENT,
        expiry_event="Discharge from the program", redisclosure_form="short", render_pdf=False,
    )  # fmt: skip
    actions.do_save_moud_coordination(
        episode, acting_user=writer, otp_name=OTP[0], otp_phone=OTP[1], last_dose_on=today - timedelta(days=1),
        last_dose_how="otp_call", last_dose_confirmed_by="Dosing nurse", today=today,
    )  # fmt: skip
