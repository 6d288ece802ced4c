"""The diagnoses a note may address: its episode's, from intake.

A diagnosis belongs to the episode when it was recorded on it, or on an intake assessment of the episode, or on an
assessment the episode's own program made of the patient before the episode opened (an assessment at referral has
no episode yet, and admission does not link it). An assessment by another program is not the episode's: a
substance-use program's diagnoses stay inside it. Ruled-out and removed diagnoses are never offered. The primary
one comes first (the latest assessment's, if several assessments named one).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from openiop.intake.models import Diagnosis
from openiop.patients.models import EpisodeOfCare

ORDER = ("-is_primary", "-assessment__assessed_on", "code", "pk")


def _offered() -> QuerySet[Diagnosis]:
    return (
        Diagnosis.objects.filter(is_active=True)
        .exclude(status=Diagnosis.Status.RULED_OUT)
        .select_related("assessment")
        .order_by(*ORDER)
    )


def _belongs(diagnosis: Diagnosis, episode: EpisodeOfCare) -> bool:
    if diagnosis.episode_id == episode.pk:
        return True
    assessment = diagnosis.assessment
    if assessment is None:
        return False
    if assessment.episode_id is not None:
        return assessment.episode_id == episode.pk
    return assessment.patient_id == episode.patient_id and assessment.program_id == episode.program_id


def diagnoses_by_episode(episodes: Iterable[EpisodeOfCare]) -> dict[int, list[Diagnosis]]:
    """Each episode's diagnoses, primary first: one query for any number of episodes."""
    episodes = list(episodes)
    result: dict[int, list[Diagnosis]] = defaultdict(list)
    if not episodes:
        return result
    ids = [e.pk for e in episodes]
    rows = _offered().filter(
        Q(episode_id__in=ids)
        | Q(assessment__episode_id__in=ids)
        | Q(assessment__episode__isnull=True, assessment__patient_id__in={e.patient_id for e in episodes})
    )
    for diagnosis in rows:
        for episode in episodes:
            if _belongs(diagnosis, episode):
                result[episode.pk].append(diagnosis)
    return result


def episode_diagnoses(episode: EpisodeOfCare) -> list[Diagnosis]:
    return diagnoses_by_episode([episode])[episode.pk]


def primary_of(diagnoses: list[Diagnosis]) -> Diagnosis | None:
    """The primary diagnosis (the list comes primary first); None when no diagnosis is marked primary."""
    return diagnoses[0] if diagnoses and diagnoses[0].is_primary else None
