from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from openiop.reminders.jobs import run_reminders


class Command(BaseCommand):
    help = (
        "Plan due reminders and send those whose time has come (email and SMS), each exactly once. Safe to run "
        "from several processes at once; the worker runs it periodically. --loop keeps running."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Run again every --interval seconds until stopped.")
        parser.add_argument("--interval", type=float, default=60.0, help="Seconds between runs with --loop.")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            counts = run_reminders()
            self.stdout.write(" ".join(f"{name}={value}" for name, value in counts.items()))
            if not options["loop"]:
                return
            time.sleep(max(options["interval"], 1.0))
