"""The entry point the worker's periodic registry calls: plan, then send.

``run_reminders`` is idempotent and safe to run from two processes at once (the planner's unique keys and the
sender's conditional claims decide; see ``planner`` and ``sender``).
"""

from __future__ import annotations

from datetime import datetime

from openiop.reminders.planner import plan_reminders
from openiop.reminders.sender import send_due


def run_reminders(now: datetime | None = None) -> dict[str, int]:
    """Plan due reminders and send those whose time has come; returns counts (planned, sent, dropped, ...)."""
    planned = plan_reminders(now)
    sent = send_due(now)
    return {
        "planned": planned["planned"],
        "rescheduled": planned["rescheduled"],
        "dropped": planned["dropped"] + sent["dropped"],
        "sent": sent["sent"],
        "deferred": sent["deferred"],
        "retry": sent["retry"],
        "failed": sent["failed"],
    }
