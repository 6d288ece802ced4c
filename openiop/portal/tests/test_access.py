"""Who reaches which portal page: anonymous visitors go to the portal login, staff get 404, a family login gets 403
on the patient's pages (and a patient on the family page), and one patient never reaches another's booking,
feed or sessions (404)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from openiop.conftest import login
from openiop.scheduling import feeds
from openiop.testing.scheduling import local_at, make_booking, make_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def targets(clinic, account, other_account):
    """Every portal page, with the account's own objects in the URLs."""
    session = make_session(clinic.mh, local_at(clinic.mh, 5, 9))
    booking = make_booking(session, account.patient)
    feed, _ = feeds.do_create_feed(acting_user=account.user, patient=account.patient)
    patient_pages = [
        ("get", reverse("portal:home")),
        ("get", reverse("portal:schedule")),
        ("post", reverse("portal:book", args=[session.public_id])),
        ("post", reverse("portal:cancel", args=[booking.public_id])),
        ("post", reverse("portal:feed_create")),
        ("post", reverse("portal:feed_revoke", args=[feed.public_id])),
    ]
    any_kind = [
        ("get", reverse("portal:security")),
        ("get", reverse("portal:mfa_enroll")),
        ("post", reverse("portal:mfa_remove")),
        ("get", reverse("portal:password_change")),
    ]
    family_pages = [("get", reverse("portal:family_home"))]
    return {"patient": patient_pages, "any": any_kind, "family": family_pages}


def _all(targets):
    return [t for group in targets.values() for t in group]


def test_anonymous_visitors_are_sent_to_the_portal_login(client, targets):
    for method, url in _all(targets):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('portal:login')}?{urlencode({'next': url})}", url


@pytest.mark.parametrize("who", ["clinician", "frontdesk", "sysadmin", "stranger"])
def test_staff_get_404_on_every_portal_page(client, clinic, targets, who):
    login(client, getattr(clinic, who))
    for method, url in _all(targets):
        assert getattr(client, method)(url).status_code == 404, url


def test_a_family_login_gets_403_on_the_patient_pages(client, family, targets):
    client.force_login(family.user)
    for method, url in targets["patient"]:
        assert getattr(client, method)(url).status_code == 403, url
    for method, url in targets["family"] + [("get", reverse("portal:security"))]:
        assert getattr(client, method)(url).status_code == 200, url


def test_a_patient_gets_403_on_the_family_page(client, account, targets):
    client.force_login(account.user)
    for method, url in targets["family"]:
        assert getattr(client, method)(url).status_code == 403, url


def test_one_patient_never_reaches_another_patients_booking_feed_or_sessions(client, clinic, account, other_account):
    theirs = make_session(clinic.mh, local_at(clinic.mh, 6, 9))
    their_booking = make_booking(theirs, other_account.patient)
    their_feed, _ = feeds.do_create_feed(acting_user=other_account.user, patient=other_account.patient)
    elsewhere = make_session(clinic.su, local_at(clinic.su, 6, 13))
    client.force_login(account.user)
    assert client.post(reverse("portal:cancel", args=[their_booking.public_id])).status_code == 404
    assert client.post(reverse("portal:feed_revoke", args=[their_feed.public_id])).status_code == 404
    # A session of a program the patient is not in does not exist for them.
    assert client.post(reverse("portal:book", args=[elsewhere.public_id])).status_code == 404
    their_booking.refresh_from_db()
    their_feed.refresh_from_db()
    assert their_booking.status == "booked" and their_feed.revoked_at is None
    # Neither page shows the other patient's sessions.
    for name in ("portal:home", "portal:schedule"):
        assert str(their_booking.public_id) not in client.get(reverse(name)).content.decode()


def test_get_is_refused_on_the_post_only_pages(client, account, targets):
    client.force_login(account.user)
    for method, url in targets["patient"] + targets["any"]:
        if method == "post":
            assert client.get(url).status_code == 405, url
