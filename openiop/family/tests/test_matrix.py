"""What a release names x which family page opens: a page answers 200 with its content exactly when an active
release to the contact names its data class, and 403 with the "not shared" page otherwise. Records outside what
the release names never appear on any family page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.consents.actions import do_record_expiry_event, do_revoke_consent
from openiop.consents.models import Consent
from openiop.family.actions import do_create_material
from openiop.family.tests.conftest import PLAN_TEXT, SCORE_TEXT, SECRETS_NEVER
from openiop.testing.family import family_release

# page -> (data class, a string the page shows from the record when it is shared)
PAGES = {
    "schedule": ("schedule", "5:30 PM"),  # the booked family session, at its program-local time
    "attendance": ("attendance", "attended <strong>1 of 2</strong>"),
    "education": ("education", "Living with depression"),
    "plan": ("treatment_plan", PLAN_TEXT),
    "measures": ("measures", SCORE_TEXT),
}
RELEASES = {
    "nothing": None,
    "schedule": ["schedule"],
    "attendance": ["attendance"],
    "education": ["education"],
    "plan": ["treatment_plan"],
    "measures": ["measures"],
    "family set": ["schedule", "attendance", "education"],
    "notes and diagnoses only": ["progress_notes", "diagnoses"],
    "all records": ["all_records"],
}


def _page_strings(client) -> dict[str, str]:
    return {name: client.get(reverse(f"family:{name}")).content.decode() for name in ["home", *PAGES]}


@pytest.mark.parametrize("release", list(RELEASES))
def test_each_page_opens_exactly_when_its_data_class_is_named(
    client, clinic, patient, contact, account, record, release
):
    do_create_material(clinic.mh, acting_user=clinic.clinician, title="Living with depression", summary="For families.")
    classes = RELEASES[release]
    if classes is not None:
        family_release(patient, clinic.clinician, contact, classes)
    named = set(classes or [])
    login(client, account.user)
    home = client.get(reverse("family:home"))
    assert home.status_code == 200
    for page, (data_class, shown) in PAGES.items():
        response = client.get(reverse(f"family:{page}"))
        body = response.content.decode()
        allowed = data_class in named or "all_records" in named
        assert response.status_code == (200 if allowed else 403), (release, page)
        assert (shown in body) is allowed, (release, page)
        assert ("not shared with you" in body) is not allowed
        # The sub-navigation links only the pages that open.
        assert (f'href="{reverse(f"family:{page}")}"' in home.content.decode()) is allowed
    for page, body in _page_strings(client).items():
        for secret in SECRETS_NEVER:
            assert secret not in body, (release, page, secret)
        if not ({"treatment_plan", "all_records"} & named):
            assert PLAN_TEXT not in body
        if not ({"measures", "all_records"} & named):
            assert SCORE_TEXT not in body
    if release == "nothing":
        assert "Nothing is shared with you right now" in home.content.decode()
        assert "555-0100" in home.content.decode()  # the clinic's phone
    if release == "notes and diagnoses only":
        # Named, but never shown here: the home page says the clinic shares them directly.
        text = home.content.decode()
        assert "Progress notes" in text and "the clinic shares this with you directly" in text


def test_counseling_notes_are_never_a_family_page(client, clinic, patient, contact, account, record):
    family_release(patient, clinic.clinician, contact, ["counseling_notes"])
    login(client, account.user)
    assert "Nothing is shared with you right now" in client.get(reverse("family:home")).content.decode()


def test_the_home_page_says_under_which_release_and_until_when(client, clinic, patient, contact, account):
    expires = timezone.localdate() + timedelta(days=30)
    family_release(patient, clinic.clinician, contact, expires_on=expires)
    login(client, account.user)
    body = client.get(reverse("family:home")).content.decode()
    assert "Release of information" in body
    assert f"Expires after {expires:%b} {expires.day}, {expires:%Y}" in body
    assert "Adult Mental Health IOP" in body


def test_a_purpose_no_release_names_opens_nothing(client, clinic, patient, contact, account, settings):
    family_release(patient, clinic.clinician, contact, purposes=["payment"])
    login(client, account.user)
    assert client.get(reverse("family:schedule")).status_code == 403
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "family_portal_purposes": ["payment"]}
    assert client.get(reverse("family:schedule")).status_code == 200


@pytest.mark.parametrize("state", ["revoked", "expired date", "expiry event"])
def test_a_release_that_no_longer_stands_opens_nothing(client, clinic, patient, contact, account, record, state):
    expires = timezone.localdate() + timedelta(days=5)
    release = family_release(
        patient, clinic.clinician, contact, expires_on=expires if state == "expired date" else None
    )
    login(client, account.user)
    assert client.get(reverse("family:schedule")).status_code == 200
    if state == "revoked":
        do_revoke_consent(release, acting_user=clinic.frontdesk, statement="Stop sharing with my brother.")
    elif state == "expiry event":
        do_record_expiry_event(release, acting_user=clinic.clinician, occurred_on=timezone.localdate())
    if state == "expired date":
        # The days pass: the date the patient chose is now behind us (no action moves a date into the past, and a
        # shifted clock would end the login session too).
        Consent.objects.filter(pk=release.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    home = client.get(reverse("family:home")).content.decode()
    assert "Nothing is shared with you right now" in home
    # The contact is not told why (a patient may not want them to learn of a revocation).
    assert "revoked" not in home.lower() and "expired" not in home.lower()
    for page in PAGES:
        response = client.get(reverse(f"family:{page}"))
        assert response.status_code == 403
        assert "5:30 PM" not in response.content.decode()
