"""What a program offers in the practice log: its skills list and whether it asks about craving, from the
program's ``PracticePolicy`` row or ``settings.OPENIOP_DEFAULTS`` (read at call time)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from openiop.programs.models import Program
from openiop.skills.models import PracticePolicy


def _policy(program: Program) -> PracticePolicy | None:
    return PracticePolicy.objects.filter(program=program).first()


def skills_for(program: Program) -> list[str]:
    policy = _policy(program)
    if policy is not None and policy.skills:
        return list(policy.skills)
    return list(settings.OPENIOP_DEFAULTS["skills_practice_skills"])


def asks_craving(program: Program) -> bool:
    policy = _policy(program)
    mode = policy.craving if policy is not None else PracticePolicy.Craving.AUTO
    if mode == PracticePolicy.Craving.AUTO:
        return program.is_substance_use
    return mode == PracticePolicy.Craving.ASK


def edit_window() -> timedelta:
    """How long after writing an entry the patient may still change it."""
    return timedelta(hours=int(settings.OPENIOP_DEFAULTS["skills_practice_edit_hours"]))


def backdate_limit() -> timedelta:
    """How far back an entry's "when" may go (practice is logged close to when it happened)."""
    return timedelta(days=int(settings.OPENIOP_DEFAULTS["skills_practice_backdate_days"]))
