"""The discharge summary (with its aftercare plan) and the patient's copy of the aftercare plan, as PDFs.

WeasyPrint is imported inside ``render_pdf`` so the application starts without Pango
(docs/decisions/0010-weasyprint.md); every resource but ``data:`` URLs is refused, so text typed into a summary can
never make the server fetch anything.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from openiop.discharge.models import CRISIS_RESOURCES, AftercarePlan, DischargeSummary, FollowUp
from openiop.recovery.summary import recovery_supports


def document_context(
    summary: DischargeSummary, plan: AftercarePlan | None, follow_ups: list[FollowUp]
) -> dict[str, Any]:
    """What the summary page and both PDFs show."""
    episode = summary.episode
    program = episode.program
    tz = program.tz()
    return {
        "summary": summary,
        "plan": plan,
        "follow_ups": follow_ups,
        "episode": episode,
        "patient": summary.patient,
        "program": program,
        "organization": program.site.organization,
        "crisis_resources": CRISIS_RESOURCES,
        "appointment_local": timezone.localtime(plan.appointment_at, tz) if plan and plan.appointment_at else None,
        "signed_local": timezone.localtime(summary.signed_at, tz) if summary.signed_at else None,
        "printed_local": timezone.localtime(timezone.now(), tz),
        "recovery_supports": recovery_supports(episode),  # meetings logged and the sponsor (recovery/README.md)
    }


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    import weasyprint  # imported here: it needs Pango (see the module docstring)

    html = render_to_string(template, context)
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()


def render_summary_pdf(context: dict[str, Any]) -> bytes:
    return render_pdf("discharge/pdf/summary.html", context)


def render_patient_copy_pdf(context: dict[str, Any]) -> bytes:
    return render_pdf("discharge/pdf/aftercare.html", context)
