"""Each program's note rules: its own NotePolicy row, or the defaults in settings.OPENIOP_DEFAULTS (read at call
time, so a deployment changes them without a migration)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from openiop.notes.models import Mode, NotePolicy
from openiop.programs.models import Program


def default_policy(program: Program) -> NotePolicy:
    """An unsaved policy holding the deployment's defaults."""
    defaults: dict[str, Any] = settings.OPENIOP_DEFAULTS
    return NotePolicy(
        program=program,
        default_format=str(defaults["note_default_format"]),
        place_of_service=str(defaults["note_place_of_service"]),
        telehealth_place_of_service=str(defaults["note_telehealth_place_of_service"]),
        note_due_business_days=int(defaults["note_due_business_days"]),
        crisis_note_due_hours=int(defaults["crisis_note_due_hours"]),
    )


def policy_for(program: Program) -> NotePolicy:
    """The program's saved policy, else the defaults. Cached on the program instance for the request."""
    cached = getattr(program, "_openiop_note_policy", None)
    if cached is not None:
        return cached
    policy = NotePolicy.objects.filter(program=program).first() or default_policy(program)
    program._openiop_note_policy = policy  # type: ignore[attr-defined]
    return policy


def place_of_service_for(program: Program, mode: str) -> str:
    policy = policy_for(program)
    return policy.place_of_service if mode == Mode.IN_PERSON else policy.telehealth_place_of_service
