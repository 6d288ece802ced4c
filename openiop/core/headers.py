"""Response headers for the whole site: the browser features it never uses, and who may keep a copy of a page.

The content security policy itself is django-csp's (``CONTENT_SECURITY_POLICY`` in settings); Django's
SecurityMiddleware sends nosniff, the referrer policy and HSTS. Static files never get here: WhiteNoise answers them
first, with its own long cache lifetime.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Features no page of OpenIOP uses, refused for the page and anything it embeds: a script that slipped in still cannot
# reach the camera, the microphone, the patient's location, payments or devices. Only names browsers know: Chromium
# logs a console error on every page for an unknown one (Web Bluetooth has no policy name of its own in it).
DENIED_FEATURES = (
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "geolocation",
    "gyroscope",
    "hid",
    "identity-credentials-get",
    "idle-detection",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)

# The only pages a browser or proxy may keep a copy of: public pages shown the same to everyone who is not signed in
# (the sign-in forms and Book Now's program pages). Everything else, including every API answer and error, is
# patient or staff data, or may be: `Cache-Control: no-store`, so nothing stays in a shared computer's cache or its
# back button after logout.
CACHEABLE_PUBLIC_VIEWS = frozenset(
    {
        "accounts:login",
        "portal:login",
        "book:index",
        "book:crisis",
        "book:organization",
        "book:program",
    }
)


def may_cache(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    match = getattr(request, "resolver_match", None)
    return match is not None and match.view_name in CACHEABLE_PUBLIC_VIEWS


class SecurityHeadersMiddleware:
    """Permissions-Policy on every answer; `no-store` on every answer but the public pages above; no content security
    policy on a PDF."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if response.get("Content-Type", "").startswith("application/pdf"):
            # A PDF runs no script and takes no style from us, and Chromium's viewer shows it as a plugin that
            # object-src 'none' would block: django-csp (the middleware around this one) leaves it without a policy.
            response._csp_exempt = True  # type: ignore[attr-defined]
        if not may_cache(request) and "no-store" not in response.get("Cache-Control", ""):
            # Replace rather than add to: a `public, max-age` a view set would contradict no-store.
            response["Cache-Control"] = "no-store"
        return response
