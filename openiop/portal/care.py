"""The care parts of the patient portal (questionnaires, plan, skills practice, aftercare): what the pages read,
always scoped to the account's own patient (anything else is a 404), and ``home_cards`` for the home page.

What a patient sees of their own record: their questionnaires and their own scores in plain words (a total, its
band and a trend), except where a number would mislead (``OPENIOP_DEFAULTS["portal_scores_hidden"]``: the C-SSRS
total is a risk level for the care team); the plan version in force or the one waiting for their signature, never
drafts; the aftercare and safety plan only once the discharge is signed. Never safety-alert details, staff notes
or the discharge summary's clinical text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from openiop.discharge.models import AftercarePlan, DischargeSummary
from openiop.measures import instruments, trends
from openiop.measures.models import Administration
from openiop.measures.schedules import family
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.plans.actions import awaits_patient
from openiop.plans.models import PlanVersion
from openiop.plans.queries import awaiting_patient_q, with_content
from openiop.portal.models import PortalAccount
from openiop.skills.models import PracticeEntry

OPEN_EPISODE = (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD)

# What each questionnaire is about, in the patient's words (the form itself shows the published name).
TOPICS = {
    "phq9": "Mood",
    "gad7": "Worry and anxiety",
    "pcl5": "Stress after hard experiences",
    "auditc": "Alcohol use",
    "audit": "Alcohol use",
    "dast10": "Drug use",
    "bam": "Recovery check-in",
    "cssrs_screener": "Safety check",
}


def topic(code: str) -> str:
    return TOPICS.get(family(code), "Check-in")


def shows_score(code: str) -> bool:
    """Whether the patient sees this questionnaire's total as a number."""
    instrument = instruments.REGISTRY.get(code)
    hidden = set(settings.OPENIOP_DEFAULTS["portal_scores_hidden"])
    return instrument is not None and instrument.has_total and family(code) not in hidden


# --- Questionnaires ----------------------------------------------------------------------------------------------


def _administrations(patient: Patient) -> QuerySet[Administration]:
    return Administration.objects.filter(patient=patient, instrument_code__in=list(instruments.REGISTRY))


def open_administrations(patient: Patient) -> QuerySet[Administration]:
    """Questionnaires the patient can fill now, oldest due first."""
    return (
        _administrations(patient)
        .filter(status__in=Administration.OPEN)
        .select_related("episode__program")
        .order_by("due_on", "created_at")
    )


def get_open_administration(patient: Patient, public_id: UUID | str) -> Administration:
    return get_object_or_404(
        _administrations(patient)
        .filter(status__in=Administration.OPEN)
        .select_related("patient", "episode__program__site__organization"),
        public_id=public_id,
    )


def get_own_administration(patient: Patient, public_id: UUID | str) -> Administration:
    return get_object_or_404(
        _administrations(patient).select_related("episode__program__site__organization"), public_id=public_id
    )


@dataclass(frozen=True)
class CheckIn:
    """One completed questionnaire as the patient's history shows it."""

    administration: Administration
    topic: str
    short_name: str
    show_score: bool
    total: int | None
    max_total: int
    band: str

    @property
    def when(self) -> Any:
        return self.administration.when


def check_in(administration: Administration) -> CheckIn:
    instrument = instruments.get(administration.instrument_code)
    shown = shows_score(administration.instrument_code) and administration.total is not None
    band = next((b.label for b in instrument.bands if b.key == administration.band_key), "") if shown else ""
    return CheckIn(
        administration=administration,
        topic=topic(administration.instrument_code),
        short_name=instrument.short_name,
        show_score=shown,
        total=administration.total if shown else None,
        max_total=instrument.max_total,
        band=band,
    )


def check_in_history(patient: Patient) -> tuple[list[CheckIn], list[trends.Panel]]:
    """The patient's completed questionnaires, newest first, and a trend panel per instrument whose score they see
    (one query)."""
    completed = list(
        _administrations(patient)
        .filter(status=Administration.Status.COMPLETED)
        .select_related("episode__program")
        .order_by("completed_at", "pk")
    )
    panels = [p for p in trends.panels(completed) if shows_score(p.instrument.code) and p.scored]
    return [check_in(a) for a in reversed(completed)], panels


# --- Treatment plan ----------------------------------------------------------------------------------------------

PATIENT_VISIBLE = (PlanVersion.Status.ACTIVE, PlanVersion.Status.AWAITING_PATIENT)


def _versions(patient: Patient) -> QuerySet[PlanVersion]:
    return PlanVersion.objects.filter(
        plan__patient=patient, plan__episode__status__in=OPEN_EPISODE, status__in=PATIENT_VISIBLE
    )


def plan_versions(patient: Patient) -> list[PlanVersion]:
    """For each open episode's plan: the version waiting for the patient's signature, else the one in force.
    A fixed number of queries (``plans.queries.with_content``)."""
    versions = list(with_content(_versions(patient)).order_by("plan__episode__admitted_on", "plan_id", "-number"))
    chosen: dict[int, PlanVersion] = {}
    for version in versions:
        current = chosen.get(version.plan_id)
        if current is None or version.status == PlanVersion.Status.AWAITING_PATIENT:
            chosen[version.plan_id] = version
    for version in chosen.values():
        # Waiting for the patient's signature: before it applies (the patient-signature rule) or after (the
        # clinician-signature rule, where the plan is in force and the patient still reads and signs it).
        version.awaits_patient = awaits_patient(version)  # type: ignore[attr-defined]
    return list(chosen.values())


def get_awaiting_version(patient: Patient, public_id: UUID | str) -> PlanVersion:
    """A version the patient may sign: waiting for them, whether or not it is in force yet (the program's rule)."""
    return get_object_or_404(with_content(_versions(patient).filter(awaiting_patient_q())), public_id=public_id)


# --- Aftercare ---------------------------------------------------------------------------------------------------


def signed_aftercare(patient: Patient) -> list[tuple[DischargeSummary, AftercarePlan]]:
    """Aftercare plans released to the patient: their discharge is signed and the plan locked. Two queries."""
    summaries = list(
        DischargeSummary.objects.filter(patient=patient, status=DischargeSummary.Status.SIGNED)
        .select_related("episode__program__site__organization", "patient")
        .order_by("-discharge_on")
    )
    plans = {
        p.episode_id: p
        for p in AftercarePlan.objects.filter(episode_id__in=[s.episode_id for s in summaries], locked_at__isnull=False)
    }
    return [(s, plans[s.episode_id]) for s in summaries if s.episode_id in plans]


def get_signed_aftercare(patient: Patient, public_id: UUID | str) -> tuple[DischargeSummary, AftercarePlan]:
    summary = get_object_or_404(
        DischargeSummary.objects.filter(patient=patient, status=DischargeSummary.Status.SIGNED).select_related(
            "episode__program__site__organization", "patient"
        ),
        public_id=public_id,
    )
    plan = get_object_or_404(AftercarePlan, episode_id=summary.episode_id, locked_at__isnull=False)
    return summary, plan


# --- Home --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CareCards:
    questionnaires_due: list[Administration]
    plans_to_sign: list[PlanVersion]
    last_practice: PracticeEntry | None
    can_practice: bool
    has_aftercare: bool


def home_cards(account: PortalAccount) -> dict[str, Any]:
    """Context for ``portal/partials/care_cards.html`` (``{"care": CareCards}``): questionnaires due now, plan
    versions waiting for the patient's signature, the last practice entry and whether practice can be logged,
    and whether a signed aftercare plan exists. Four queries, whatever the record holds. Empty for family accounts."""
    if account.kind != "patient":
        return {}
    patient = account.patient
    due = list(open_administrations(patient))
    to_sign = list(
        PlanVersion.objects.filter(
            awaiting_patient_q(), plan__patient=patient, plan__episode__status__in=OPEN_EPISODE
        ).order_by("plan_id")
    )
    last = PracticeEntry.objects.filter(patient=patient).order_by("-practiced_at", "-id").first()
    # One query for both: an open episode (practice can be logged) and a signed discharge (aftercare to read).
    flags = set(
        EpisodeOfCare.objects.filter(patient=patient, admitted_on__isnull=False)
        .values_list("status", "discharge_summary__status")
        .distinct()
    )
    return {
        "care": CareCards(
            questionnaires_due=due,
            plans_to_sign=to_sign,
            last_practice=last,
            can_practice=any(status in OPEN_EPISODE for status, _ in flags),
            has_aftercare=any(summary == DischargeSummary.Status.SIGNED for _, summary in flags),
        )
    }


def open_episodes(patient: Patient) -> list[EpisodeOfCare]:
    """The episodes practice can be logged for, most recent admission first."""
    return list(
        EpisodeOfCare.objects.filter(patient=patient, status__in=OPEN_EPISODE, admitted_on__isnull=False)
        .select_related("program")
        .order_by("-admitted_on", "-id")
    )
