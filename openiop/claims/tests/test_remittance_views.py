"""835 import on the files page and the API, the file's page, the denials work queue and the remittance API: who
may read and act (billing writes, directors and auditors read, clinicians 403, other organizations 404), bad
input named."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from openiop.claims.models import Claim, Remittance
from openiop.conftest import login
from openiop.lib.x12.simulate import Outcome
from openiop.testing.claims import accepted_claims, remit, set_up_billing


@pytest.fixture
def posted(clinic):
    """Two claims answered by one 835: the first paid (partly, with coinsurance), the second denied CO-50/N130."""
    payer = set_up_billing(clinic)
    claims, sent = accepted_claims(clinic, payer, ["Jordan", "Casey"])
    paid, denied = claims
    text = remit(
        sent,
        {
            paid.control_number: Outcome(allowed=300, coinsurance=30),  # type: ignore[arg-type]
            denied.control_number: Outcome("denied", carc="50", rarc="N130"),
        },
        trace="EFT-9",
    )
    return payer, paid, denied, text


def test_a_billing_user_imports_an_835_and_works_the_denial_from_the_queue(client, clinic, posted):
    payer, paid, denied, text = posted
    login(client, clinic.billing)
    answer = client.post(reverse("claims:file_import"), {"file": SimpleUploadedFile("era.835", text.encode())})
    assert answer.status_code == 302
    page = client.get(answer["Location"])
    assert page.status_code == 200 and b"EFT-9" in page.content and b"CO-50" in page.content
    listing = client.get(reverse("claims:list"))
    assert b"data-denial-count>1<" in listing.content

    queue = client.get(reverse("claims:denials"))
    assert queue.status_code == 200
    body = queue.content.decode()
    assert denied.control_number in body and paid.control_number not in body
    assert "Payer does not consider the service medically necessary" in body and "N130" in body
    assert denied.control_number not in client.get(reverse("claims:denials") + "?reason=16").content.decode()
    assert (
        denied.control_number in client.get(reverse("claims:denials") + f"?payer={payer.pk}&reason=50").content.decode()
    )

    appealed = client.post(
        reverse("claims:denial_act", args=[denied.public_id]), {"action": "appeal", "reason": "Records attached"}
    )
    assert appealed.status_code == 302 and appealed["Location"] == reverse("claims:denials")
    denied.refresh_from_db()
    assert denied.status == Claim.Status.APPEALED and denied.status_reason == "Records attached"
    # Without a reason nothing moves.
    client.post(reverse("claims:denial_act", args=[paid.public_id]), {"action": "void", "reason": ""})
    paid.refresh_from_db()
    assert paid.status == Claim.Status.PAID


def test_a_bad_reason_filter_is_a_400_that_keeps_it(client, clinic, posted):
    login(client, clinic.billing)
    answer = client.get(reverse("claims:denials") + "?reason=xx%3C")
    assert answer.status_code == 400 and b'value="xx&lt;"' in answer.content


def test_the_api_imports_an_835_and_reads_remittances_and_denials(client, clinic, posted):
    payer, paid, denied, text = posted
    login(client, clinic.billing)
    imported = client.post("/api/v1/x12-files/import", {"content": text}, content_type="application/json")
    assert imported.status_code == 201 and imported.json()["kind"] == "835"
    (listed,) = client.get("/api/v1/remittances").json()
    assert listed["trace_number"] == "EFT-9" and listed["payer"] == str(payer.public_id)
    detail = client.get(f"/api/v1/remittances/{listed['id']}").json()
    first, second = detail["claim_payments"]
    assert first["claim"] == str(paid.public_id) and first["patient_responsibility"] == "30.00"
    assert {(a["group"], a["reason"]) for line in first["lines"] for a in line["adjustments"]} >= {("CO", "45")}
    assert second["denied"] and second["lines"][0]["remarks"][0]["code"] == "N130"
    (denial,) = client.get("/api/v1/claims/denials").json()
    assert denial["claim"] == str(denied.public_id) and denial["codes"][0]["code"] == "CO-50"
    # The same payment in another file: refused, naming the field.
    again = text.replace("*000000905*", "*000000906*")
    refused = client.post("/api/v1/x12-files/import", {"content": again}, content_type="application/json")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "content"
    assert "posted already" in refused.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("reason=ABCDEF", "reason"),
        ("payer=not-a-uuid", "payer"),
        ("payer=" + "0" * 8 + "-0000-0000-0000-" + "0" * 12, "payer"),
    ],
)
def test_the_denials_api_names_the_field_at_fault(client, clinic, query, field):
    login(client, clinic.billing)
    answer = client.get(f"/api/v1/claims/denials?{query}")
    assert answer.status_code == 422 and field in [e["field"] for e in answer.json()["errors"]]


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [("billing", 200, 302), ("director", 200, 403), ("auditor", 200, 403), ("clinician", 403, 403),
     ("frontdesk", 403, 403), ("stranger", 404, 404)],
)  # fmt: skip
def test_who_may_read_and_act_on_remittances_and_denials(client, clinic, posted, who, read, write):
    _, _, denied, text = posted
    from openiop.claims.actions import do_import_acknowledgement

    do_import_acknowledgement(text, acting_user=clinic.billing, organization=clinic.org)
    remittance = Remittance.objects.get()
    login(client, getattr(clinic, who))
    assert client.get(f"/api/v1/remittances/{remittance.public_id}").status_code == read
    assert client.get(reverse("claims:file_detail", args=[remittance.file.public_id])).status_code == read
    queue = client.get(reverse("claims:denials"))
    api = client.get("/api/v1/claims/denials")
    assert queue.status_code == api.status_code == (403 if read == 403 else 200)
    if who == "stranger":  # another organization: an empty queue, and nothing of ours
        assert api.json() == [] and client.get("/api/v1/remittances").json() == []
    acted = client.post(reverse("claims:denial_act", args=[denied.public_id]), {"action": "appeal", "reason": "x"})
    expected = write if who != "stranger" else 403
    assert acted.status_code == expected
    upload = client.post("/api/v1/x12-files/import", {"content": text}, content_type="application/json")
    assert upload.status_code in ((422,) if who == "billing" else (403,))  # billing: the same file is refused
