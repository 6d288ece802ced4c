from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from openiop.core.audit import verify_with_anchors, write_anchor


class Command(BaseCommand):
    help = (
        "Verify the audit chain, then append its last row's position and hash (MACed) to the anchor file(s) "
        "(AUDIT_ANCHOR_PATH, AUDIT_ANCHOR_COPY_PATH). Refuses to anchor a broken chain."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        breaks, _ = verify_with_anchors()
        if breaks:
            # Anchoring now would vouch for the tampered rows; `openiop verify` lists them.
            raise CommandError(f"audit chain broken in {len(breaks)} place(s); not anchored (run `openiop verify`)")
        anchor = write_anchor()
        if anchor is None:
            self.stdout.write("audit chain is empty; nothing to anchor")
            return
        self.stdout.write(f"anchored {anchor}")
