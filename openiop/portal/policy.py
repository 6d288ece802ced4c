"""Each program's portal policy: its own row, or the defaults in settings.OPENIOP_DEFAULTS (read at call time, so a
deployment changes them without a migration)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from openiop.portal.models import PortalPolicy
from openiop.programs.models import Program

# Policy field -> OPENIOP_DEFAULTS key.
POLICY_DEFAULTS = {
    "makeup_booking": "portal_makeup_booking",
    "self_booking": "portal_self_booking",
    "booking_horizon_days": "portal_booking_horizon_days",
    "cancel_notice_hours": "portal_cancel_notice_hours",
}
POLICY_FIELDS = tuple(POLICY_DEFAULTS)


def default_policy(program: Program) -> PortalPolicy:
    """An unsaved policy holding the deployment's defaults."""
    defaults = settings.OPENIOP_DEFAULTS
    return PortalPolicy(
        program=program,
        makeup_booking=bool(defaults["portal_makeup_booking"]),
        self_booking=bool(defaults["portal_self_booking"]),
        booking_horizon_days=int(defaults["portal_booking_horizon_days"]),
        cancel_notice_hours=int(defaults["portal_cancel_notice_hours"]),
    )


def policy_for(program: Program) -> PortalPolicy:
    """The program's saved policy, else the defaults. Cached on the program instance for the request."""
    cached = getattr(program, "_openiop_portal_policy", None)
    if cached is not None:
        return cached
    policy = PortalPolicy.objects.filter(program=program).first() or default_policy(program)
    program._openiop_portal_policy = policy  # type: ignore[attr-defined]
    return policy


def policies_for(programs: list[Program]) -> dict[int, PortalPolicy]:
    """Policies of several programs (by id) in at most one query; each program instance caches its own."""
    missing = [p for p in programs if getattr(p, "_openiop_portal_policy", None) is None]
    if missing:
        saved = {row.program_id: row for row in PortalPolicy.objects.filter(program_id__in={p.pk for p in missing})}
        defaults: dict[int, PortalPolicy] = {}
        for program in missing:
            policy = saved.get(program.pk) or defaults.setdefault(program.pk, default_policy(program))
            program._openiop_portal_policy = policy  # type: ignore[attr-defined]
    return {p.pk: p._openiop_portal_policy for p in programs}  # type: ignore[attr-defined]


def invitation_lifetime() -> timedelta:
    return timedelta(days=int(settings.OPENIOP_DEFAULTS["portal_invitation_expiry_days"]))
