"""The revenue report's other sections as CSV (denials, billed and paid, authorizations) and its "authorizations
expiring" section: per payer, today's approved authorizations ending soon, low on units, over or due for review,
with the names on the authorizations list and its own CSV (an audited export)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.testing.claims import billed_episode, set_up_billing
from openiop.utilization.models import Authorization
from openiop.utilization.queries import authorization_watch


def _csv(response):
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def authorizations(clinic):
    """Blue Harbor Health: one authorization ending in 3 days with 18 of 20 days left, one far off with 1 day left,
    one far off and comfortable, and one requested (not approved: never flagged)."""
    payer = set_up_billing(clinic)
    today = timezone.localdate()
    made = []
    for n, (ends_in, units, status) in enumerate(
        [(3, 18, "approved"), (60, 1, "approved"), (60, 40, "approved"), (2, 20, "requested")]
    ):
        episode = billed_episode(clinic, payer, f"Member{n}")
        made.append(
            Authorization.objects.create(
                episode=episode,
                coverage=episode.patient.coverages.get(),
                number=f"AUTH-{n}",
                level_of_care=episode.program.level_of_care,
                start_date=today - timedelta(days=10),
                end_date=today + timedelta(days=ends_in),
                units_authorized=units,
                status=status,
            )
        )
    return made


def test_the_watch_counts_each_flag_per_payer(clinic, authorizations):
    (row,) = authorization_watch(clinic.billing)
    # AUTH-0 ends in 3 days (so its concurrent review, before the end, is due too); AUTH-1 has 1 day left.
    assert (row.payer, row.expiring, row.units_low, row.over, row.review_due) == ("Blue Harbor Health", 1, 1, 0, 1)
    assert authorization_watch(clinic.stranger) == []  # another organization's are not counted


def test_the_report_page_shows_the_section_and_every_section_comes_as_csv(client, clinic, authorizations):
    login(client, clinic.billing)
    page = client.get(reverse("claims:reports")).content.decode()
    assert "Authorizations expiring or running low" in page and "data-authorization-watch" in page
    url = reverse("claims:reports")
    rows = _csv(client.get(url, {"format": "csv", "report": "authorizations"}))
    assert rows == [["payer", "ending soon", "few units left", "over", "review due"],
                    ["Blue Harbor Health", "1", "1", "0", "1"]]  # fmt: skip
    assert _csv(client.get(url, {"format": "csv", "report": "denials"}))[0][:2] == ["group", "reason"]
    assert _csv(client.get(url, {"format": "csv", "report": "programs"}))[0][0] == "program"
    assert _csv(client.get(url, {"format": "csv"}))[0][0] == "payer"  # the aging, as before
    assert client.get(url, {"format": "csv", "report": "nonsense"}).status_code == 400
    exported = AuditEvent.objects.filter(action=AuditAction.EXPORTED, actor=clinic.billing)
    assert {e.object_type for e in exported} >= {"report_authorizations", "report_denials", "report_programs"}


def test_the_api_gives_the_section_too(client, clinic, authorizations):
    login(client, clinic.billing)
    body = client.get("/api/v1/claims/reports").json()
    assert body["authorizations"] == [
        {"payer": "Blue Harbor Health", "expiring": 1, "units_low": 1, "over": 0, "review_due": 1}
    ]


def test_the_authorizations_list_downloads_as_an_audited_csv_of_its_filter(client, clinic, authorizations):
    login(client, clinic.billing)
    rows = _csv(client.get(reverse("utilization:list"), {"flag": "expiring", "format": "csv"}))
    assert rows[0][:5] == ["patient", "mrn", "program", "payer", "number"]
    assert [r[4] for r in rows[1:]] == ["AUTH-0"]
    assert rows[1][9:12] == ["18", "0", "18"] and rows[1][12] == "Ending soon; Review due"
    assert AuditEvent.objects.filter(
        action=AuditAction.EXPORTED, actor=clinic.billing, object_type="authorization"
    ).exists()
    everything = _csv(client.get(reverse("utilization:list"), {"format": "csv"}))
    assert sorted(r[4] for r in everything[1:]) == ["AUTH-0", "AUTH-1", "AUTH-2", "AUTH-3"]


@pytest.mark.parametrize(("who", "status"), [("billing", 200), ("clinician", 403), ("frontdesk", 403)])
def test_who_may_download_the_authorizations(client, clinic, authorizations, who, status):
    login(client, getattr(clinic, who))
    assert client.get(reverse("utilization:list"), {"format": "csv"}).status_code == status


def test_another_organization_downloads_none_of_them(client, clinic, authorizations):
    login(client, clinic.stranger)
    rows = _csv(client.get(reverse("utilization:list"), {"format": "csv"}))
    assert rows[1:] == []
