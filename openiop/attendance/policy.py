"""Each program's attendance policy: its own row, or the defaults in settings.OPENIOP_DEFAULTS (read at call time,
so a deployment changes them without a migration)."""

from __future__ import annotations

from django.conf import settings

from openiop.attendance.models import AttendancePolicy
from openiop.programs.models import Program

POLICY_FIELDS = (
    "week_starts_on",
    "clinical_hour_minutes",
    "outreach_after_consecutive_misses",
    "outreach_due_days",
    "review_after_unexcused",
    "review_window_days",
    "review_due_days",
)


def default_policy(program: Program) -> AttendancePolicy:
    """An unsaved policy holding the deployment's defaults."""
    defaults = settings.OPENIOP_DEFAULTS
    return AttendancePolicy(program=program, **{name: int(defaults[name]) for name in POLICY_FIELDS})


def policy_for(program: Program) -> AttendancePolicy:
    """The program's saved policy, else the defaults. Cached on the program instance for the request."""
    cached = getattr(program, "_openiop_attendance_policy", None)
    if cached is not None:
        return cached
    policy = AttendancePolicy.objects.filter(program=program).first() or default_policy(program)
    program._openiop_attendance_policy = policy  # type: ignore[attr-defined]
    return policy
