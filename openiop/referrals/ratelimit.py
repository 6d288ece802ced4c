"""A fixed-window counter per client address for the public Book Now pages, kept in Django's cache.

The limit (``OPENIOP_BOOKNOW_MAX_PER_HOUR``, default 5 booking attempts an hour) is read at call time. Only
submissions that pass the form's validation count (the views call :func:`hit` after ``is_valid()``): a typo that
sends the form back with errors costs the person nothing, while what the limit guards against, bookings and the
e-mails they send, still needs a valid form each time. The cache is the project's shared one (the database cache, or
Redis with ``CACHE_URL``; settings.py), so the count holds across every worker process, not per process.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

DEFAULT_MAX_PER_HOUR = 5
WINDOW_SECONDS = 3600


def max_per_hour() -> int:
    return int(getattr(settings, "OPENIOP_BOOKNOW_MAX_PER_HOUR", DEFAULT_MAX_PER_HOUR))


def _key(request: HttpRequest, scope: str) -> str:
    # REMOTE_ADDR only (X-Forwarded-For is client-controlled); hashed so the cache holds no address.
    address = request.META.get("REMOTE_ADDR") or "unknown"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()[:32]
    return f"openiop:booknow:{scope}:{digest}"


def hit(request: HttpRequest, scope: str = "book") -> bool:
    """Count one valid submission; False when the address has used up its attempts for this window."""
    key = _key(request, scope)
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=WINDOW_SECONDS)
        count = 1
    return count <= max_per_hour()
