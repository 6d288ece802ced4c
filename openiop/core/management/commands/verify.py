from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from openiop.core.audit import anchor_paths, verify_with_anchors
from openiop.core.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Verify the audit trail's keyed hash chain against its head and the anchor files; names every row where it "
        "breaks (the first first) and exits non-zero if any does."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        breaks, latest = verify_with_anchors()
        total = AuditEvent.objects.count()
        if latest is None:
            files = ", ".join(str(p) for p in anchor_paths())
            self.stdout.write(f"no anchors yet in {files} (`openiop audit_anchor` writes one; the daily job does too)")
        else:
            self.stdout.write(f"latest anchor: {latest} in {latest.source}")
        if breaks:
            for item in breaks:
                self.stderr.write(f"BROKEN {item}")
            raise CommandError(f"audit chain broken in {len(breaks)} place(s) across {total} rows")
        self.stdout.write(f"audit chain intact: {total} rows verified")
