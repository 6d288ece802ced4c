from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from openiop.measures.alerts import escalate_overdue_alerts


class Command(BaseCommand):
    help = (
        "Email the on-call clinician once for every safety alert not acknowledged within its program's escalation "
        "time. Safe to run as often as you like (every minute or five); issue 8's worker will schedule it."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = escalate_overdue_alerts()
        self.stdout.write(f"{count} safety alerts escalated")
