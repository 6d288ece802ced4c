"""Files that must never be served by the web server: signed consent PDFs and written revocations.

They live under ``settings.VAR_DIR / "private" / "consents"`` (read at call time), outside STATIC_ROOT and
MEDIA_ROOT, and reach a browser only through the access-checked, audited download views.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation


def private_dir() -> Path:
    return Path(settings.VAR_DIR) / "private" / "consents"


def _path(name: str) -> Path:
    root = private_dir().resolve()
    path = (root / name).resolve()
    if root not in path.parents:
        raise SuspiciousFileOperation(f"{name!r} is outside the private consent store")
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(name: str, data: bytes) -> str:
    """Write ``data`` as ``name`` (relative to the store) and return its SHA-256."""
    path = _path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.chmod(0o600)
    tmp.replace(path)
    return sha256(data)


def read(name: str) -> bytes | None:
    path = _path(name)
    return path.read_bytes() if path.is_file() else None
