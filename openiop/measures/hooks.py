"""``safety_alert_raised`` is emitted when a critical answer raises a new ``SafetyAlert``, inside the transaction that
stores the answer and the alert, so apps above measures react to it without measures knowing them.

It is a ``core.hooks.Hook`` (ordered, synchronous, refused outside a transaction), emitted explicitly by
``actions._raise_alert_if_critical`` when it creates the alert (not when later answers extend it). Plans registers
the unscheduled plan review from ``PlansConfig.ready()``. The registered handlers are listed in
``docs/architecture.md`` ("Episode events and hooks").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from openiop.core.hooks import Hook

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.measures.models import SafetyAlert


@dataclass(frozen=True, kw_only=True)
class SafetyAlertRaised:
    """The alert as saved; ``acting_user`` is the staff member who entered the answers, or None (the patient's link
    or the clinic tablet)."""

    alert: SafetyAlert
    acting_user: User | None


safety_alert_raised: Hook[SafetyAlertRaised] = Hook("measures.safety_alert_raised")
