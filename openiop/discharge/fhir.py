"""The discharge summary as a FHIR R4 DocumentReference (pure: a plain, JSON-ready dict).

Type LOINC 18842-5 "Discharge summary"; ``status`` is always ``current`` (this is the document of record), while
``docStatus`` says whether it is signed (``final``) or still a draft (``preliminary``). The context period runs from
admission to the (planned) discharge date. The content is an attachment pointing at the summary PDF, which the
PDF endpoint renders (and audits) on request, so no clinical text is copied into the resource. Tests validate the
shape with ``fhir.resources`` (R4B models; DocumentReference is the same in R4 and R4B).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.urls import reverse

from openiop.discharge.models import DischargeSummary

LOINC = "http://loinc.org"
DISCHARGE_SUMMARY_LOINC = "18842-5"
IDENTIFIER_SYSTEM = "https://openiop.org/fhir/discharge-summary"
CATEGORY_SYSTEM = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
TEDS_SYSTEM = "https://openiop.org/fhir/CodeSystem/teds-discharge-reason"
PART2_LABEL = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2"}


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def summary_to_fhir(summary: DischargeSummary, *, base_url: str = "") -> dict[str, Any]:
    """The summary as a DocumentReference; ``base_url`` (scheme and host) makes the PDF link absolute."""
    episode = summary.episode
    program = episode.program
    period: dict[str, str] = {"end": summary.discharge_on.isoformat()}
    if episode.admitted_on:
        period["start"] = episode.admitted_on.isoformat()
    dated = summary.signed_at or summary.updated_at
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": str(summary.public_id),
        "masterIdentifier": {"system": IDENTIFIER_SYSTEM, "value": str(summary.public_id)},
        "status": "current",
        "docStatus": "final" if summary.is_signed else "preliminary",
        "type": {
            "coding": [{"system": LOINC, "code": DISCHARGE_SUMMARY_LOINC, "display": "Discharge summary"}],
            "text": "Discharge summary",
        },
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "clinical-note", "display": "Clinical Note"}]}],
        "subject": {"reference": f"Patient/{summary.patient.public_id}"},
        "date": _instant(dated),
        "author": [{"display": summary.author.display_name}],
        "description": f"{program.name}: {summary.get_reason_display()} (TEDS-D {summary.reason})",
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "language": "en-US",
                    "url": f"{base_url}{reverse('discharge:summary_pdf', args=[summary.public_id])}",
                    "title": f"Discharge summary {summary.discharge_on:%Y-%m-%d}",
                    "creation": _instant(dated),
                }
            }
        ],
        "context": {
            "period": period,
            "practiceSetting": {"text": program.name},
            "related": [{"identifier": {"system": f"{IDENTIFIER_SYSTEM}/episode", "value": str(episode.public_id)}}],
        },
    }
    if summary.is_signed and summary.signed_by is not None:
        resource["authenticator"] = {"display": summary.signed_by.display_name}
    if program.is_substance_use:
        resource["meta"] = {"security": [dict(PART2_LABEL)]}
        resource["securityLabel"] = [{"coding": [dict(PART2_LABEL)]}]
    return resource
