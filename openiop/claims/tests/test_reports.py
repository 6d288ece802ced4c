"""Revenue-cycle reports: A/R aging by payer from sent claims less what remittances paid and adjusted, days in A/R,
denials by reason with the denial rate, billed against paid per program; the CSV; who may read them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.claims import actions, reports
from openiop.conftest import login
from openiop.lib.x12.simulate import Outcome
from openiop.testing.claims import RATE, accepted_claims, remit, set_up_billing


@pytest.fixture
def posted(clinic):
    """Three claims of 3 days each ($1,350): one paid in full, one paid $1,000 with $250 CO-45 and $100 PR-2, one
    denied CO-50; and a fourth sent but not answered."""
    payer = set_up_billing(clinic)
    claims, sent = accepted_claims(clinic, payer, ["Ana", "Ben", "Cy", "Dee"])
    full, partial, denied, _waiting = claims
    outcomes = {
        full.control_number: Outcome(),
        partial.control_number: Outcome(allowed=Decimal("366.67"), coinsurance=Decimal("100")),
        denied.control_number: Outcome(kind="denied"),
    }
    actions.do_import_acknowledgement(remit(sent, outcomes), acting_user=clinic.billing, organization=clinic.org)
    return claims


def test_aging_counts_what_payers_still_owe_by_days_since_sent(clinic, posted):
    full, partial, denied, waiting = posted
    aging = reports.aging(clinic.billing)
    owed = {c.number: reports.outstanding(c) for c in reports.sent_claims(clinic.billing)}
    assert owed[full.number] == 0 and owed[waiting.number] == RATE * 3
    assert owed[denied.number] == 0  # the CO-50 adjustment takes the whole charge off the payer's balance
    # partial: charged 1350, the simulator's allowed amount per line leaves a CO-45 and PR-2 of 100 on the first
    assert owed[partial.number] == 0
    (row,) = aging.rows
    assert row.buckets[0] == RATE * 3 and row.total == aging.total == RATE * 3 and row.claims == 1
    # Sent today: 4 claims of $1,350 over 90 days is $60 a day, so $1,350 is 22.5 days of charges.
    assert aging.daily_charges == Decimal("60.00") and aging.days_in_ar == Decimal("22.5")
    later = reports.aging(clinic.billing, timezone.localdate() + timedelta(days=45))
    assert later.rows[0].buckets[1] == RATE * 3  # 45 days after it was sent: the 31-60 bucket


def test_denials_by_reason_and_billed_against_paid(clinic, posted):
    today = timezone.localdate()
    result = reports.denials(clinic.billing, today - timedelta(days=30), today)
    assert (result.adjudicated, result.denied) == (3, 1) and result.rate == Decimal("33.3")
    (row,) = [r for r in result.rows if r.reason == "50"]
    assert (row.group, row.claims, row.amount) == ("CO", 1, RATE * 3)
    (program,) = reports.billed_and_paid(clinic.billing, today - timedelta(days=30), today)
    paid = sum(p.paid for c in posted for p in c.payments.all())
    assert program.billed == RATE * 12 and program.paid == paid


def test_the_page_and_its_csv(client, clinic, posted):
    login(client, clinic.billing)
    page = client.get(reverse("claims:reports"))
    assert page.status_code == 200 and b"CO-50" in page.content and b"$1,350.00" in page.content
    answer = client.get(reverse("claims:reports") + "?format=csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    assert rows[0][0] == "payer" and rows[1][0] == "Blue Harbor Health" and rows[-1][0] == "all payers"
    bad = client.get(reverse("claims:reports"), {"start": "2026-12-01", "end": "2026-11-01"})
    assert bad.status_code == 400 and b'value="2026-12-01"' in bad.content


@pytest.mark.parametrize(("who", "status"), [("billing", 200), ("director", 200), ("auditor", 200),
                                             ("clinician", 403), ("frontdesk", 403)])  # fmt: skip
def test_who_reads_the_reports(client, clinic, who, status):
    login(client, getattr(clinic, who))
    assert client.get(reverse("claims:reports")).status_code == status


def test_another_organizations_claims_stay_out(client, clinic, posted):
    login(client, clinic.stranger)
    page = client.get(reverse("claims:reports"))
    assert page.status_code == 200 and b"Blue Harbor Health" not in page.content


def test_the_api_answers_the_same_figures_and_names_a_bad_field(client, clinic, posted):
    login(client, clinic.billing)
    body = client.get("/api/v1/claims/reports").json()
    assert Decimal(body["ar_total"]) == RATE * 3 and body["aging"][0]["payer"] == "Blue Harbor Health"
    assert (body["claims_adjudicated"], body["claims_denied"]) == (3, 1)
    assert body["denials"][0]["reason"] in {"50", "45"} and body["programs"][0]["program"] == clinic.mh.name
    bad = client.get("/api/v1/claims/reports", {"start": "2026-12-01", "end": "2026-11-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "end"
    login(client, clinic.clinician)
    assert client.get("/api/v1/claims/reports").status_code == 403
