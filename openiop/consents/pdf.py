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
    # The only resource a consent embeds is the drawn signature (a data: URL). Refusing every other protocol means
    # text a patient or staff typed can never make the server fetch a URL or read a local file.
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()


def render_disclosures_pdf(context: dict[str, Any]) -> bytes:
    """The accounting of disclosures a patient is given (``disclosures.list_context``); text only, nothing fetched."""
    import weasyprint  # imported here: it needs Pango (see the module docstring)

    html = render_to_string("consents/pdf/disclosures.html", context)
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
