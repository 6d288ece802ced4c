"""`openiop plan_deadlines`: make plans for admitted episodes, raise their due tasks, review after safety alerts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from openiop.plans.deadlines import run_plan_deadlines


class Command(BaseCommand):
    help = "Create treatment plans for admitted episodes with their due tasks, and reviews after safety alerts."

    def handle(self, *args: Any, **options: Any) -> None:
        run = run_plan_deadlines()
        self.stdout.write(
            f"{run.plans_created} plans created, {run.safety_reviews} reviews after safety alerts, "
            f"{run.closed_for_discharge} reviews cancelled after discharge, {run.tasks_raised} tasks raised, "
            f"{run.tasks_closed} tasks closed."
        )
