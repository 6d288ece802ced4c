"""Reading the medication list (access is the chart's: callers check the patient first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet
from django.http import Http404

from openiop.accounts.models import User
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.medications.models import Allergy, Medication, MoudCoordination, NoKnownAllergies, Reconciliation
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import chart_program_ids, get_patient_for_user


def active_on(patient: Patient, day: date) -> QuerySet[Medication]:
    """The patient's medications taken on ``day`` (started by then or start unknown, not stopped before it)."""
    return Medication.objects.filter(
        Q(start_date__isnull=True) | Q(start_date__lte=day),
        Q(stop_date__isnull=True) | Q(stop_date__gte=day),
        patient=patient,
    )


def active_ingredients(patient: Patient, day: date) -> set[str]:
    """The lowercase ingredient names of everything the patient takes on ``day``: what a drug test may find
    because it was prescribed (the labs app's interpretation reads this). A free entry without ingredients adds
    its name, lowercased, so "Buprenorphine" typed by hand still counts."""
    found: set[str] = set()
    for ingredients, name in active_on(patient, day).values_list("ingredients", "name"):
        found.update(i.lower() for i in ingredients or [name])
    return found


def on_moud(patient: Patient, day: date) -> bool:
    return active_on(patient, day).filter(is_moud=True).exists()


# --- The chart's reads (the caller has checked the patient's chart access) -------------------------------------


def medications_for_user(user: User, patient: Patient) -> QuerySet[Medication]:
    """The patient's medications the user may read: those recorded outside any episode, and those of episodes in
    programs whose records the user reads on the chart (a substance-use program's list stays with its staff)."""
    return Medication.objects.filter(
        Q(episode__isnull=True) | Q(episode__program_id__in=chart_program_ids(user, patient)), patient=patient
    ).select_related("episode__program", "recorded_by")


def get_medication_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.EDIT_CLINICAL) -> Medication:
    """A medication to change: the role first (403), then the patient in the user's own programs (404)."""
    require(user, cap)
    found = Medication.objects.select_related("patient", "episode__program").filter(public_id=public_id).first()
    if found is None:
        raise Http404
    patient = get_patient_for_user(user, found.patient.public_id, cap)
    if found.episode is not None and found.episode.program_id not in program_ids_for(user):
        raise Http404
    found.patient = patient
    return found


def get_allergy_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.EDIT_CLINICAL) -> Allergy:
    require(user, cap)
    found = Allergy.objects.select_related("patient").filter(public_id=public_id).first()
    if found is None:
        raise Http404
    found.patient = get_patient_for_user(user, found.patient.public_id, cap)
    return found


def allergies(patient: Patient) -> list[Allergy]:
    return list(Allergy.objects.filter(patient=patient, is_active=True).order_by("substance", "pk"))


def no_known_allergies(patient: Patient) -> NoKnownAllergies | None:
    return NoKnownAllergies.objects.filter(patient=patient).select_related("recorded_by").first()


def reconciliations_for_user(user: User, patient: Patient) -> QuerySet[Reconciliation]:
    """The patient's signed reconciliations in the user's chart programs, newest first."""
    return Reconciliation.objects.filter(
        patient=patient, episode__program_id__in=chart_program_ids(user, patient)
    ).select_related("episode__program", "signed_by")


def last_reconciliation(patient: Patient) -> Reconciliation | None:
    """The latest of all the patient's reconciliations (what the next one compares against)."""
    return Reconciliation.objects.filter(patient=patient).order_by("-signed_at", "-pk").first()


def coordinations_for_user(user: User, patient: Patient) -> QuerySet[MoudCoordination]:
    return MoudCoordination.objects.filter(
        patient=patient, episode__program_id__in=chart_program_ids(user, patient)
    ).select_related("episode__program", "consent", "updated_by")


# --- Reconciliation: what changed ----------------------------------------------------------------------------

# What a reconciliation compares between two lists (the name too: a free entry corrected is a change).
COMPARED = ("name", "strength", "dose", "route", "frequency")


def snapshot(medication: Medication) -> dict[str, Any]:
    return {
        "id": str(medication.public_id),
        **{name: getattr(medication, name) for name in COMPARED},
        "moud": medication.is_moud,
    }


def changes_between(before: list[dict[str, Any]], now: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What changed from the list signed ``before`` to the list ``now`` (both as ``snapshot`` gives them): started
    (on the list now, not before), stopped (the reverse) and changed (a compared field differs), in that order,
    each by name. With nothing before (the first reconciliation) everything taken now is "started"."""
    old = {row["id"]: row for row in before}
    new = {row["id"]: row for row in now}
    started = [
        {"change": "started", "id": i, "name": row["name"], "fields": []} for i, row in new.items() if i not in old
    ]
    stopped = [
        {"change": "stopped", "id": i, "name": row["name"], "fields": []} for i, row in old.items() if i not in new
    ]
    changed = []
    for i, row in new.items():
        if i in old:
            fields = [f for f in COMPARED if old[i].get(f) != row.get(f)]
            if fields:
                changed.append({"change": "changed", "id": i, "name": row["name"], "fields": fields})
    return sorted(started, key=_by_name) + sorted(stopped, key=_by_name) + sorted(changed, key=_by_name)


def _by_name(row: dict[str, Any]) -> tuple[str, str]:
    return (row["name"].casefold(), row["id"])


def pending_changes(patient: Patient, day: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The list a reconciliation signed on ``day`` would record, and what changed since the last one."""
    current = [snapshot(m) for m in active_on(patient, day).order_by("name", "pk")]
    last = last_reconciliation(patient)
    return current, changes_between(last.medications if last else [], current)


@dataclass(frozen=True)
class Due:
    """A reconciliation the episode owes: at ``occasion`` (intake or a level-of-care change), since ``since``."""

    episode: EpisodeOfCare
    occasion: str
    since: date

    @property
    def label(self) -> str:
        return Reconciliation.Occasion(self.occasion).label


def last_level_change(episode: EpisodeOfCare) -> date | None:
    """The day the episode's latest step down or up took effect (None: its level never changed)."""
    history = episode.level_history or []
    return date.fromisoformat(history[-1]["from"]) if len(history) > 1 else None


def dues_for(episodes: QuerySet[EpisodeOfCare]) -> list[Due]:
    """What ``episodes`` owe, those open and admitted: an intake reconciliation when none was signed in the episode, a
    level-of-care one when the level changed and no level-of-care reconciliation was signed since. (The discharge one
    is part of the discharge: the summary shows the last reconciliation.) The tab and the work queue both read it."""
    episodes = episodes.filter(
        status__in=(EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD), admitted_on__isnull=False
    ).select_related("program")
    signed: dict[int, list[tuple[str, date]]] = {}
    rows = Reconciliation.objects.filter(episode__in=episodes).values_list("episode_id", "occasion", "reconciled_on")
    for episode_id, occasion, day in rows:
        signed.setdefault(episode_id, []).append((occasion, day))
    due = []
    for episode in episodes.order_by("admitted_on", "pk"):
        done = signed.get(episode.pk, [])
        changed = last_level_change(episode)
        if not done:
            assert episode.admitted_on is not None  # filtered above
            due.append(Due(episode, Reconciliation.Occasion.INTAKE, episode.admitted_on))
        elif changed is not None and not any(
            occasion == Reconciliation.Occasion.LEVEL_OF_CARE and day >= changed for occasion, day in done
        ):
            due.append(Due(episode, Reconciliation.Occasion.LEVEL_OF_CARE, changed))
    return due


def reconciliations_due(user: User, patient: Patient) -> list[Due]:
    """What the patient's open episodes in the user's programs owe (``dues_for``)."""
    return dues_for(EpisodeOfCare.objects.filter(patient=patient, program_id__in=program_ids_for(user)))
