from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from openiop.measures.actions import schedule_all_due


class Command(BaseCommand):
    help = (
        "Create the questionnaires due today for every episode (intake, weekly, discharge, follow-ups) and expire "
        "the overdue ones. Idempotent; run it daily (issue 8's worker will schedule it)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        created, expired = schedule_all_due()
        self.stdout.write(f"{created} questionnaires due, {expired} expired")
