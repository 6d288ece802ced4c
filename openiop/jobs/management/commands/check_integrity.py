from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiop.jobs import integrity


class Command(BaseCommand):
    help = (
        "Check the episode invariants in this database (docs/operations.md lists the codes). Prints each violation "
        "(public ids only) or 'No violations.'; exits 1 when an error is found (with --strict, a warning too)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
        parser.add_argument("--strict", action="store_true", help="Exit 1 on warnings as well as errors.")
        parser.add_argument(
            "--check", action="append", choices=sorted(integrity.CHECKS), dest="codes", help="Run only this check."
        )
        parser.add_argument(
            "--record", action="store_true", help="Keep the report for the /jobs/ page, as the daily job does."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = integrity.run_checks(codes=options["codes"])
        if options["record"]:
            integrity.save_report(report)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        elif not report.violations:
            self.stdout.write("No violations.")
        else:
            for violation in report.violations:
                severity = integrity.CHECKS[violation.code].severity.value.upper()
                self.stdout.write(f"{severity} {violation.line()}")
            counts = ", ".join(f"{code} {n}" for code, n in report.counts.items() if n)
            self.stdout.write(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s): {counts}")
        failing = len(report.errors) + (len(report.warnings) if options["strict"] else 0)
        if failing:
            raise CommandError(f"{failing} violation(s) of the episode invariants", returncode=1)
