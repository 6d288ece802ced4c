"""Discharge numbers, read from ``settings.OPENIOP_DEFAULTS`` at call time (never at import)."""

from __future__ import annotations

from django.conf import settings


def follow_up_days() -> list[int]:
    """Days after the discharge date when aftercare check-ins fall due, ascending, without repeats."""
    return sorted({int(d) for d in settings.OPENIOP_DEFAULTS.get("follow_up_days", [7, 30, 90]) if int(d) > 0})


def summary_due_days() -> int:
    """How many days after the discharge date the summary may wait before it is overdue (program policy)."""
    return int(settings.OPENIOP_DEFAULTS.get("discharge_summary_due_days", 7))
