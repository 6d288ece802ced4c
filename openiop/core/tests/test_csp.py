"""The content security policy on every kind of answer: strict (nothing inline, no eval, no plugins, no framing),
the same on a staff page, a portal page, the sign-in page, an error and the API; a PDF carries none."""

from __future__ import annotations

from typing import cast

import pytest
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from openiop.conftest import login
from openiop.core.headers import SecurityHeadersMiddleware
from openiop.portal.tests.conftest import portal_login
from openiop.testing.scheduling import admit

EXPECTED = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
}


def directives(response) -> dict[str, set[str]]:
    header = response["Content-Security-Policy"]
    assert "unsafe" not in header  # no 'unsafe-inline', 'unsafe-eval' or 'unsafe-hashes', anywhere
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = set(sources)
    return parsed


def test_policy_is_strict_on_staff_portal_sign_in_error_and_api_answers(clinic, patient):
    staff = login(Client(), clinic.clinician)
    jordan = admit(clinic, "Jordan", email="jordan@example.org").patient
    account = portal_login(jordan, by=clinic.frontdesk, username="jordan")
    portal = login(Client(), account.user)
    answers = {
        "staff page": staff.get(reverse("patients:chart", args=[patient.public_id])),
        "portal page": portal.get(reverse("portal:home")),
        "sign-in page": Client().get(reverse("accounts:login")),
        "Book Now": Client().get(reverse("book:index")),
        "not found": staff.get("/no-such-page/"),
        "API": staff.get("/api/v1/me"),
        "API error": Client().get("/api/v1/me"),
    }
    for name, response in answers.items():
        assert response.status_code in {200, 401, 404}, name
        assert directives(response) == EXPECTED, name


def test_a_nonce_appears_only_when_a_template_uses_one(rf: RequestFactory):
    def page(request):
        return HttpResponse(f'<script nonce="{request.csp_nonce}">1</script>')

    response = CSPMiddleware(page)(rf.get("/"))
    nonce = directives(response)["script-src"] - {"'self'"}
    assert len(nonce) == 1 and next(iter(nonce)).startswith("'nonce-")


@pytest.mark.parametrize(("content_type", "has_policy"), [("application/pdf", False), ("text/html", True)])
def test_pdf_carries_no_policy(rf: RequestFactory, content_type, has_policy):
    # Chromium shows a PDF in a plugin that object-src 'none' would block; a PDF runs nothing of ours anyway.
    def view(request):
        return HttpResponse(b"%PDF-1.7", content_type=content_type)

    response = cast(HttpResponse, CSPMiddleware(SecurityHeadersMiddleware(view))(rf.get("/consents/x/pdf")))
    assert ("Content-Security-Policy" in response) is has_policy
