"""The printable plan (one version) as a PDF, rendered with WeasyPrint from a Django template.

WeasyPrint is imported inside ``render_plan_pdf`` so the application starts without Pango; only rendering needs it
(docs/decisions/0010-weasyprint.md). The only resource allowed is a data: URL (the patient's drawn signature), so
text staff or patients typed can never make the server fetch a URL or read a local file.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from openiop.accounts.models import User
from openiop.consents.notices import redisclosure_notice
from openiop.plans.models import PlanVersion
from openiop.programs.models import Program

PART2_FOCUS = (Program.Focus.SUBSTANCE_USE, Program.Focus.CO_OCCURRING)


def document_context(version: PlanVersion, printed_by: User | None = None) -> dict[str, Any]:
    plan = version.plan
    program = plan.episode.program
    tz = program.tz()

    def local(value: Any) -> Any:
        return timezone.localtime(value, tz) if value else None

    return {
        "version": version,
        "plan": plan,
        "patient": plan.patient,
        "episode": plan.episode,
        "program": program,
        "organization": program.site.organization,
        "clinician_signed": local(version.clinician_signed_at),
        "cosigned": local(version.cosigned_at),
        "patient_signed": local(version.patient_signed_at),
        "printed": local(timezone.now()),
        "printed_by": printed_by,
        # Part 2 records carry the prohibition on redisclosure wherever they go (42 CFR 2.32).
        "notice": redisclosure_notice("short") if program.focus in PART2_FOCUS else "",
    }


def render_plan_pdf(version: PlanVersion, printed_by: User | None = None) -> bytes:
    import weasyprint  # imported here: it needs Pango (see the module docstring)

    html = render_to_string("plans/pdf/plan.html", document_context(version, printed_by))
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
