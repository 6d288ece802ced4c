"""The signed copy of a consent as a PDF, rendered with WeasyPrint from a Django template.

WeasyPrint is imported inside ``render_consent_pdf`` so the application starts (and every other page works) on a
machine without Pango; only rendering needs it (docs/decisions/0010-weasyprint.md).
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from openiop.consents.models import Consent, ConsentKind
from openiop.consents.notices import (
    REVOCATION_INSTRUCTIONS,
    SIGNATURE_ATTESTATION,
    STATEMENTS,
    redisclosure_notice,
)


def pdf_name(consent: Consent) -> str:
    return f"signed/{consent.public_id}.pdf"


def document_context(consent: Consent) -> dict[str, Any]:
    """What the consent page and the PDF both show: the words signed, the scope and the signature."""
    tz = consent.program.tz()
    signature = consent.signature
    return {
        "consent": consent,
        "patient": consent.patient,
        "program": consent.program,
        "organization": consent.program.site.organization,
        "statement": STATEMENTS[consent.kind],
        "attestation": SIGNATURE_ATTESTATION,
        "revocation_instructions": consent.revocation_instructions or REVOCATION_INSTRUCTIONS,
        "notice": (
            redisclosure_notice(consent.redisclosure_form or "short") if consent.kind == ConsentKind.PART2 else ""
        ),
        "signature": signature,
        "signed_local": timezone.localtime(signature.signed_at, tz),
    }


def render_consent_pdf(consent: Consent) -> bytes:
    import weasyprint  # imported here: it needs Pango (see the module docstring)

    html = render_to_string("consents/pdf/consent.html", document_context(consent))
    return weasyprint.HTML(string=html, url_fetcher=_data_urls_only).write_pdf()


def _data_urls_only(url: str, *args: Any, **kwargs: Any) -> Any:
    # The only resource a consent embeds is the drawn signature (a data: URL); never fetch anything else, so
    # text a patient or staff typed can never make the server request a URL.
    import weasyprint

    if not url.startswith("data:"):
        raise ValueError("consent PDFs load no external resources")
    return weasyprint.default_url_fetcher(url, *args, **kwargs)
