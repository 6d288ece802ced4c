"""Meetings are Part 2 records: a family login sees them only under a consent that allows it (``may_disclose`` on
every request: a Part 2 consent to that contact naming all records), never their notes, only the consenting
program's, and never through the release of schedule, attendance, or any other single data class."""

from __future__ import annotations

import pytest
from django.urls import reverse

from openiop.consents.actions import do_revoke_consent
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_add_support_contact
from openiop.portal.tests.care_support import patient_account
from openiop.recovery.tests.support import log_meetings
from openiop.testing.family import family_account, family_release, part2_to_contact

NOTE = "Shared about my brother."


@pytest.fixture
def family(clinic, su_patient):
    log_meetings(su_patient, patient_account(su_patient).user, days=(0, 3), kind="na", note=NOTE)
    contact = do_add_support_contact(su_patient, acting_user=None, name="Sam Rivera", relationship="sibling")
    return contact, family_account(su_patient, contact)


def _pages(client) -> list[str]:
    names = ["home", "schedule", "attendance", "education", "plan", "measures", "recovery"]
    return [client.get(reverse(f"family:{name}")).content.decode() for name in names]


@pytest.mark.parametrize(
    "consent",
    [None, "release all records", "part2 family set", "part2 attendance", "part2 measures and plan"],
)
def test_no_meeting_reaches_a_family_login_without_a_part2_consent_for_all_records(
    client, clinic, su_patient, family, consent
):
    contact, account = family
    if consent == "release all records":
        family_release(su_patient, clinic.director, contact, ["all_records"])  # a general release: not enough
    elif consent == "part2 family set":
        part2_to_contact(su_patient, clinic.director, contact)
    elif consent == "part2 attendance":
        part2_to_contact(su_patient, clinic.director, contact, ["attendance"])
    elif consent == "part2 measures and plan":
        part2_to_contact(su_patient, clinic.director, contact, ["measures", "treatment_plan"])
    client.force_login(account.user)
    response = client.get(reverse("family:recovery"))
    assert response.status_code == 403 and "not shared with you" in response.content.decode()
    for body in _pages(client):
        assert "Narcotics Anonymous" not in body and NOTE not in body and 'href="/family/recovery/"' not in body
    refused = AuditEvent.objects.filter(action=AuditAction.RECORD_VIEWED, object_type="family_page")
    assert ["not_shared", "recovery"] in [sorted(row.changed_fields) for row in refused]


def test_a_part2_consent_for_all_records_shows_dates_and_kinds_never_notes_until_revoked(
    client, clinic, su_patient, family
):
    contact, account = family
    consent = part2_to_contact(su_patient, clinic.director, contact, ["all_records"])
    client.force_login(account.user)
    assert 'href="/family/recovery/"' in client.get(reverse("family:home")).content.decode()
    response = client.get(reverse("family:recovery"))
    page = response.content.decode()
    assert response.status_code == 200 and "Narcotics Anonymous (NA)" in page and "<strong>2</strong>" in page
    assert NOTE not in page and "42 CFR part 2 prohibits" in page
    row = AuditEvent.objects.filter(action=AuditAction.RECORD_VIEWED, actor=account.user).latest("chain_index")
    assert row.changed_fields == ["recovery"] and row.object_type == "consent"
    do_revoke_consent(consent, acting_user=clinic.director, statement="I no longer want my brother told.")
    assert client.get(reverse("family:recovery")).status_code == 403
