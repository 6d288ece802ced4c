from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from openiop.core.audit import verify_chain
from openiop.core.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; names every row where it breaks and exits non-zero if any does."

    def handle(self, *args: Any, **options: Any) -> None:
        breaks = verify_chain()
        total = AuditEvent.objects.count()
        if breaks:
            for item in breaks:
                self.stderr.write(f"BROKEN {item}")
            raise CommandError(f"audit chain broken in {len(breaks)} place(s) across {total} rows")
        self.stdout.write(f"audit chain intact: {total} rows verified")
