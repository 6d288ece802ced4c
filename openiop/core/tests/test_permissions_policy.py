"""Every answer refuses the browser features OpenIOP never uses, and keeps Django's nosniff and referrer policy."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from openiop.core.headers import DENIED_FEATURES


def test_every_answer_refuses_unused_features(db):
    for response in (Client().get(reverse("accounts:login")), Client().get("/api/v1/me")):
        policy = {p.strip() for p in response["Permissions-Policy"].split(",")}
        assert {"camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"} <= policy
        assert policy == {f"{feature}=()" for feature in DENIED_FEATURES}
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
