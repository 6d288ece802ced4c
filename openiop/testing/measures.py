"""Factories for measures tests: administrations made and answered through the real actions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from django.utils import timezone

from openiop.accounts.models import User
from openiop.measures import instruments
from openiop.measures.actions import do_complete, do_save_answers, do_start_administration
from openiop.measures.models import Administration
from openiop.patients.models import EpisodeOfCare, Patient


def episode_of(patient: Patient) -> EpisodeOfCare:
    return patient.episodes.exclude(status=EpisodeOfCare.Status.DISCHARGED).select_related("program__site").get()


def all_items(code: str, value: int) -> dict[str, int]:
    """Every scored item of the instrument answered ``value`` (unscored items left blank)."""
    return {item.code: value for item in instruments.get(code).items if item.scored}


def phq9(total_without_item9: int = 0, item9: int = 0) -> dict[str, int]:
    """PHQ-9 answers whose items 1-8 sum to ``total_without_item9`` (spread evenly), with item 9 as given."""
    answers = {f"phq9_{n}": 0 for n in range(1, 9)}
    left = total_without_item9
    for n in range(1, 9):
        step = min(3, left)
        answers[f"phq9_{n}"] = step
        left -= step
    if left:
        raise ValueError("items 1-8 sum to at most 24")
    answers["phq9_9"] = item9
    return answers


def start(
    patient: Patient, by: User, code: str = "phq9", *, today: date | None = None, episode: EpisodeOfCare | None = None
) -> Administration:
    return do_start_administration(episode or episode_of(patient), acting_user=by, instrument_code=code, today=today)


def completed(
    patient: Patient,
    by: User,
    code: str,
    answers: Mapping[str, Any],
    *,
    today: date | None = None,
    episode: EpisodeOfCare | None = None,
) -> Administration:
    """Started, answered and completed by staff; with ``today`` it is due and dated that day (noon, program zone)."""
    administration = start(patient, by, code, today=today, episode=episode)
    do_save_answers(administration, answers, acting_user=by, channel=Administration.Channel.STAFF)
    when = None
    if today is not None:
        tz = administration.episode.program.tz()
        when = min(datetime.combine(today, time(12), tzinfo=tz), timezone.now())
    return do_complete(administration, acting_user=by, channel=Administration.Channel.STAFF, completed_at=when)
