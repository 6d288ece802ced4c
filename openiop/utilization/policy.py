"""Each program's utilization-review thresholds: its own row, or the defaults in settings.OPENIOP_DEFAULTS (read at
call time, so a deployment changes them without a migration). docs/clinical-rules.md explains each number."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from openiop.programs.models import Program
from openiop.utilization.models import UtilizationPolicy

# Field name -> OPENIOP_DEFAULTS key (and the value used when a deployment's settings lack it).
DEFAULT_KEYS: dict[str, tuple[str, int]] = {
    "expiring_within_days": ("auth_expiring_within_days", 7),
    "units_low_at": ("auth_units_low_at", 3),
    "review_due_within_days": ("ur_due_within_days", 3),
    "review_lead_days": ("ur_lead_days", 3),
    "unauthorized_lookback_days": ("auth_unauthorized_lookback_days", 30),
}
POLICY_FIELDS = tuple(DEFAULT_KEYS)


def default_policy(program: Program) -> UtilizationPolicy:
    """An unsaved policy holding the deployment's defaults."""
    defaults = settings.OPENIOP_DEFAULTS
    return UtilizationPolicy(
        program=program, **{name: int(defaults.get(key, fallback)) for name, (key, fallback) in DEFAULT_KEYS.items()}
    )


def policy_for(program: Program) -> UtilizationPolicy:
    return policies_for([program])[program.pk]


def policies_for(programs: Iterable[Program]) -> dict[int, UtilizationPolicy]:
    """Each program's policy by program id, in one query whatever the number of programs."""
    by_id = {p.pk: p for p in programs}
    saved = {row.program_id: row for row in UtilizationPolicy.objects.filter(program_id__in=list(by_id))}
    return {pk: saved.get(pk) or default_policy(program) for pk, program in by_id.items()}
