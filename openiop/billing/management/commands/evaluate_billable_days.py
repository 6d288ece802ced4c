"""`openiop evaluate_billable_days --program <uuid> --since <date>`: decide again every patient-day of a program
with attendance (or an earlier decision) since the date. Idempotent: a day whose decision has not changed is left
alone, so a second run writes nothing. Run it after changing a payer rule or entering coverage late."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiop.billing.days import days_to_evaluate, evaluate_and_store
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (use YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = "Re-evaluate the billable days of one program since a date (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", required=True, help="the program's public id (UUID)")
        parser.add_argument("--since", required=True, help="first program-local date, YYYY-MM-DD")
        parser.add_argument("--until", help="last program-local date (default: no end)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            program = Program.objects.select_related("site").get(public_id=options["program"])
        except (Program.DoesNotExist, ValidationError, ValueError) as exc:
            raise CommandError(f"No program with id {options['program']}") from exc
        since = _date(options["since"])
        until = _date(options["until"]) if options.get("until") else None
        if until is not None and until < since:
            raise CommandError("--until is before --since")
        pairs = days_to_evaluate(program, since, until)
        episodes = EpisodeOfCare.objects.select_related("program__site", "patient").in_bulk({e for e, _ in pairs})
        changed = 0
        for episode_id, day in pairs:
            _, written = evaluate_and_store(episodes[episode_id], day)
            changed += written
        noun = "patient-day" if len(pairs) == 1 else "patient-days"
        self.stdout.write(f"{program.name}: {len(pairs)} {noun} evaluated, {changed} changed.")
