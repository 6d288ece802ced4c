"""Checks on uploaded referral documents: only PDFs, within a size limit, recognised by their first bytes.

The name, the declared type and the magic bytes are all checked because each can be faked on its own; the
limit comes from settings (``OPENIOP_REFERRAL_UPLOAD_MAX_MB``, read at call time).
"""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

DEFAULT_MAX_MB = 10
PDF_MAGIC = b"%PDF-"
# Browsers and scanners declare PDFs in a few ways; anything else is refused.
PDF_TYPES = {"application/pdf", "application/x-pdf"}


def max_upload_bytes() -> int:
    return int(getattr(settings, "OPENIOP_REFERRAL_UPLOAD_MAX_MB", DEFAULT_MAX_MB)) * 1024 * 1024


def clean_name(name: str) -> str:
    """The original file name, reduced to its last part and printable characters (it is shown to staff)."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if c.isprintable())
    return base.strip()[:200] or "referral.pdf"


def check_pdf(upload: UploadedFile) -> bytes:
    """The file's bytes when it is an acceptable PDF; otherwise a ValidationError on the ``file`` field."""
    limit = max_upload_bytes()
    name = upload.name or ""
    if not name.lower().endswith(".pdf"):
        raise ValidationError({"file": "Upload a PDF file (its name must end in .pdf)."})
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if declared not in PDF_TYPES:
        raise ValidationError({"file": "This file is not a PDF (the browser sent it as another type)."})
    if upload.size is not None and upload.size > limit:
        raise ValidationError({"file": f"The file is larger than the {limit // (1024 * 1024)} MB limit."})
    if upload.size == 0:
        raise ValidationError({"file": "The file is empty."})
    upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise ValidationError({"file": f"The file is larger than the {limit // (1024 * 1024)} MB limit."})
    if not content.startswith(PDF_MAGIC):
        raise ValidationError({"file": "This file is not a PDF (its contents do not start like one)."})
    return content
