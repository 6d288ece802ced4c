"""Who may keep a copy: `Cache-Control: no-store` on every page a signed-in staff member, patient or family member
sees, on every API answer (errors too) and on anything not known to be public; the public pages and the static
files keep their caching."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from openiop.conftest import login
from openiop.portal.tests.conftest import family_login, portal_login
from openiop.testing.scheduling import admit


def test_private_answers_are_never_stored(clinic, patient):
    episode = admit(clinic, "Jordan", email="jordan@example.org")
    account = portal_login(episode.patient, by=clinic.frontdesk, username="jordan")
    family = family_login(episode.patient, by=clinic.frontdesk, username="alex")
    staff = login(Client(), clinic.clinician)
    answers = {
        "staff page": staff.get(reverse("patients:chart", args=[patient.public_id])),
        "staff HTMX fragment": staff.get(reverse("patients:list"), headers={"HX-Request": "true"}),
        "staff redirect": staff.get(reverse("patients:list").rstrip("/")),
        "staff 404": staff.get("/patients/00000000-0000-0000-0000-000000000000/"),
        "portal page": login(Client(), account.user).get(reverse("portal:home")),
        "family page": login(Client(), family.user).get(reverse("portal:family_home")),
        "API answer": staff.get("/api/v1/me"),
        "API 404": staff.get(f"/api/v1/patients/{clinic.mh.public_id}"),
        "API 401": Client().post("/api/v1/patients", "{}", content_type="application/json"),
        "API 415": Client().post("/api/v1/patients", "{}", content_type="text/plain"),
        "anonymous on a staff URL": Client().get(reverse("patients:list")),
    }
    for name, response in answers.items():
        assert "no-store" in response["Cache-Control"], name
    assert answers["API answer"]["Cache-Control"] == "no-store"


def test_public_pages_and_static_files_stay_cacheable(db):
    book = Client().get(reverse("book:index"))
    assert book.status_code == 200
    assert "no-store" not in book.get("Cache-Control", "")
    css = Client().get("/static/openiop.css")
    assert css.status_code == 200
    assert "max-age" in css["Cache-Control"] and "no-store" not in css["Cache-Control"]
