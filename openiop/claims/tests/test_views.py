"""Claims pages and API: who may read and write (billing, directors read, clinicians never see money, other
organizations 404), the whole path a billing user takes (build, read, export, download, import), bad input."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from openiop.claims.models import Claim, X12File
from openiop.conftest import login
from openiop.testing.claims import ack_277ca, billable_days, billed_episode, set_up_billing, weekdays


@pytest.fixture
def payer(clinic):
    return set_up_billing(clinic)


@pytest.fixture
def claim(clinic, payer):
    episode = billed_episode(clinic, payer)
    billable_days(episode, weekdays(date(2026, 11, 2), 3))
    from openiop.claims.actions import do_build_claims

    (built,) = do_build_claims(
        acting_user=clinic.billing, program=clinic.mh, payer=payer, start=date(2026, 11, 1), end=date(2026, 11, 30)
    ).created
    return built


def test_a_billing_user_builds_exports_downloads_and_imports_through_the_pages(client, clinic, payer):
    episode = billed_episode(clinic, payer)
    billable_days(episode, weekdays(date(2026, 11, 2), 4))
    login(client, clinic.billing)
    assert client.get(reverse("claims:build")).status_code == 200
    built = client.post(
        reverse("claims:build"),
        {"program": clinic.mh.pk, "payer": payer.pk, "period_start": "2026-11-01", "period_end": "2026-11-30"},
    )
    assert built.status_code == 302
    claim = Claim.objects.get()
    listing = client.get(reverse("claims:list"))
    assert listing.status_code == 200 and claim.control_number.encode() in listing.content
    detail = client.get(reverse("claims:detail", args=[claim.public_id]))
    assert detail.status_code == 200 and b"S9480" in detail.content

    sent = client.post(reverse("claims:export"), {"claim": [str(claim.public_id)]})
    file = X12File.objects.get(direction="out")
    assert sent.status_code == 302 and sent["Location"] == reverse("claims:file_detail", args=[file.public_id])
    download = client.get(reverse("claims:file_download", args=[file.public_id]))
    assert download.status_code == 200 and download.content.decode().startswith("ISA*")
    assert "Jordan" not in download["Content-Disposition"]

    from django.core.files.uploadedfile import SimpleUploadedFile

    claim.refresh_from_db()
    upload = SimpleUploadedFile("ack.x12", ack_277ca(file).encode())
    imported = client.post(reverse("claims:file_import"), {"file": upload})
    assert imported.status_code == 302
    claim.refresh_from_db()
    assert claim.status == Claim.Status.ACCEPTED

    again = client.post(
        reverse("claims:file_import"), {"file": SimpleUploadedFile("ack.x12", ack_277ca(file).encode())}
    )
    assert again.status_code == 400 and b"imported already" in again.content


def test_a_build_with_bad_dates_keeps_what_was_typed(client, clinic, payer):
    login(client, clinic.billing)
    answer = client.post(
        reverse("claims:build"),
        {"program": clinic.mh.pk, "payer": payer.pk, "period_start": "2026-11-30", "period_end": "2026-11-01"},
    )
    assert answer.status_code == 400 and b'value="2026-11-30"' in answer.content


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [("billing", 200, 200), ("director", 200, 403), ("auditor", 200, 403), ("clinician", 403, 403),
     ("frontdesk", 403, 403), ("stranger", 404, 403)],
)  # fmt: skip
def test_who_may_read_and_write_claims(client, clinic, claim, who, read, write):
    login(client, getattr(clinic, who))
    assert client.get(reverse("claims:detail", args=[claim.public_id])).status_code == read
    assert client.get(f"/api/v1/claims/{claim.public_id}").status_code == read
    assert client.get(reverse("claims:build")).status_code == write
    # The list answers everyone who reads billing; another organization's claims are simply not in it.
    listing = client.get(reverse("claims:list"))
    assert listing.status_code == (403 if read == 403 else 200)
    if who == "stranger":
        assert claim.control_number.encode() not in listing.content


def test_the_api_builds_lists_exports_and_imports(client, clinic, payer):
    episode = billed_episode(clinic, payer)
    billable_days(episode, weekdays(date(2026, 11, 2), 2))
    login(client, clinic.billing)
    body = {
        "program": str(clinic.mh.public_id),
        "payer": str(payer.public_id),
        "period_start": "2026-11-01",
        "period_end": "2026-11-30",
    }
    built = client.post("/api/v1/claims/build", body, content_type="application/json")
    assert built.status_code == 201 and built.json()["ready"] == 1
    (claim,) = built.json()["created"]
    assert client.get("/api/v1/claims?status=ready").json()[0]["id"] == claim["id"]
    detail = client.get(f"/api/v1/claims/{claim['id']}").json()
    assert len(detail["lines"]) == 2 and detail["lines"][0]["procedure_code"] == "S9480"

    exported = client.post("/api/v1/claims/export", {"claims": [claim["id"]]}, content_type="application/json")
    assert exported.status_code == 201 and exported.json()["kind"] == "837I"
    content = client.get(f"/api/v1/x12-files/{exported.json()['id']}").json()["content"]
    assert content.startswith("ISA*")

    ack = ack_277ca(X12File.objects.get(direction="out"))
    imported = client.post("/api/v1/x12-files/import", {"content": ack}, content_type="application/json")
    assert imported.status_code == 201
    duplicate = client.post("/api/v1/x12-files/import", {"content": ack}, content_type="application/json")
    assert duplicate.status_code == 422 and duplicate.json()["errors"][0]["field"] == "content"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"period_start": "2026-11-30", "period_end": "2026-11-01"}, "period_end"), ({"program": "not-a-uuid"}, "program"),
     ({"extra": 1}, "extra")],
)  # fmt: skip
def test_the_api_names_the_field_at_fault(client, clinic, payer, body, field):
    login(client, clinic.billing)
    base = {
        "program": str(clinic.mh.public_id),
        "payer": str(payer.public_id),
        "period_start": "2026-11-01",
        "period_end": "2026-11-30",
    }
    answer = client.post("/api/v1/claims/build", {**base, **body}, content_type="application/json")
    assert answer.status_code == 422
    assert field in [e["field"] for e in answer.json()["errors"]]
