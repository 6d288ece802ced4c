"""The portal in a real headless Chromium on a phone-sized screen: staff invite a patient from the chart, the
invitation arrives through a real SMTP server, the patient makes a login, signs in, sees the week short of its
goal, books a make-up, sees it on My schedule, cancels another session, fills the PHQ-9 that is due and sees its
score on their page; and the optional second step."""

from __future__ import annotations

import re
from base64 import b32decode
from datetime import timedelta

import pytest
from django_otp.oath import totp

from openiop.measures.models import Administration
from openiop.scheduling.models import Booking
from openiop.testing.attendance import (
    PRESENT,
    UNEXCUSED,
    admit_to_track,
    book,
    check_in_all,
    today,
    track_day,
)
from openiop.testing.browser import screenshot
from openiop.testing.fixtures import PASSWORD, build_clinic
from openiop.testing.measures import start

from .conftest import PORTAL_PASSWORD, portal_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _short_week(clinic, settings):
    """Jordan's week: three hours attended, three missed, three booked in three days; an open evening in two."""
    mh = clinic.mh
    d0 = today(mh) - timedelta(days=2)
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "week_starts_on": d0.weekday()}
    day = lambda n: d0 + timedelta(days=n)  # noqa: E731
    ep = admit_to_track(clinic, "Jordan", track=clinic.day, last_name="Rivera", admitted_on=d0 - timedelta(days=14))
    attended = track_day(mh, day(0), track=clinic.day)
    missed = track_day(mh, day(1), track=clinic.day)
    ahead = track_day(mh, day(5), track=clinic.day)
    book([*attended, *missed, *ahead], ep)
    check_in_all(attended, ep, PRESENT, clinic.clinician)
    check_in_all(missed, ep, UNEXCUSED, clinic.clinician)
    evening = track_day(mh, day(4), hours=[18, 19, 20], track=clinic.evening)
    return ep, ahead, evening


def test_staff_invite_and_the_patient_signs_up_books_a_make_up_cancels_and_fills_the_phq9(
    page, live_server, settings, smtp_inbox
):
    inbox = smtp_inbox
    settings.SITE_URL = live_server.url
    clinic = build_clinic()
    ep, ahead, evening = _short_week(clinic, settings)
    administration = start(ep.patient, clinic.clinician)  # this week's PHQ-9, due

    # Staff: the chart's Portal access tab, Invite.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("frontdesk")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}{ep.patient.get_absolute_url()}?tab=portal")
    assert page.get_by_role("heading", name="Portal access").is_visible()
    screenshot(page, "portal-01-staff-tab")
    page.get_by_role("button", name="Invite to the portal").click()
    page.get_by_text("Invitation sent to jordan@example.org").wait_for()
    assert page.get_by_text("Invitation pending").is_visible()
    screenshot(page, "portal-02-staff-invited")
    page.context.clear_cookies()

    # The email: organization only, and the link.
    (message,) = inbox.wait_for(1)
    body = message.get_content()
    assert "Riverside Recovery" in body and "Mental Health" not in body
    link = re.search(r"http://\S+/portal/invite/\S+/", body)
    assert link is not None

    # The patient, on a phone: make the login.
    page.set_viewport_size(PHONE)
    page.goto(link.group(0))
    assert page.get_by_label("Username").input_value() == "jordan@example.org"
    page.get_by_label("Username").fill("jordan")
    page.locator("#id_password").fill(PORTAL_PASSWORD)
    page.get_by_label("Password again").fill(PORTAL_PASSWORD)
    screenshot(page, "portal-03-create-login")
    page.get_by_role("button", name="Create my login").click()

    page.wait_for_url("**/portal/login/")
    assert page.get_by_label("Username").input_value() == "jordan"
    page.get_by_label("Password").fill(PORTAL_PASSWORD)
    screenshot(page, "portal-04-login")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"{live_server.url}/portal/")
    assert page.get_by_role("heading", name="Hello, Jordan").is_visible()
    assert page.get_by_text("3 of 9 hours").is_visible()
    assert page.get_by_text("Call or text 988").is_visible()
    screenshot(page, "portal-05-home")
    page.get_by_role("link", name="Find a make-up session").click()

    page.wait_for_url("**/portal/schedule/#makeup")
    makeup = page.locator("#makeup")
    assert makeup.get_by_role("heading", name="Make-up sessions").is_visible()
    screenshot(page, "portal-06-schedule-offers")
    makeup.get_by_role("button", name="Book this session").first.click()
    page.locator("#schedule-message").get_by_text("Booked:").wait_for()
    assert page.locator("#upcoming-list [data-booking]").count() == 4
    screenshot(page, "portal-07-booked")
    booked = Booking.objects.get(patient=ep.patient, source=Booking.Source.MAKEUP)
    assert booked.session_id == evening[0].pk

    # Cancel one of the sessions three days out (outside the 24-hour notice).
    page.once("dialog", lambda dialog: dialog.accept())
    target = Booking.objects.get(patient=ep.patient, session=ahead[2])
    page.locator(f"[data-booking='{target.public_id}']").get_by_role("button", name="Cancel this session").click()
    page.locator("#schedule-message").get_by_text("Cancelled:").wait_for()
    assert page.locator("#upcoming-list [data-booking]").count() == 3
    screenshot(page, "portal-08-cancelled")
    target.refresh_from_db()
    assert target.status == Booking.Status.CANCELLED

    # The PHQ-9 due this week: filled in Check-ins, then seen on the patient's own page.
    page.goto(f"{live_server.url}/portal/check-ins/")
    page.get_by_role("link", name="Start").click()
    page.get_by_role("heading", name="PHQ-9").wait_for()
    for n in range(1, 10):  # items 1-4 "More than half the days" (2), 5-8 "Several days" (1), 9 "Not at all": 12
        value = 0 if n == 9 else (2 if n <= 4 else 1)
        page.locator(f'label[for="phq9_{n}-{value}"]').click()
    page.locator("#mq-progress").get_by_text("9 of 9 answered").wait_for()
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    page.get_by_role("link", name="See my check-ins").click()
    page.locator("#check-in-history").get_by_text("12 of 27 · Moderate").wait_for()
    screenshot(page, "portal-08b-phq9-on-my-page")
    administration.refresh_from_db()
    assert (administration.status, administration.total) == (Administration.Status.COMPLETED, 12)


def _code_from_setup_key(key: str) -> str:
    secret = key.replace(" ", "")
    secret += "=" * (-len(secret) % 8)
    return f"{totp(b32decode(secret)):06d}"


def test_a_patient_turns_on_two_step_sign_in_and_signs_in_with_a_backup_code(page, live_server):
    clinic = build_clinic()
    ep = admit_to_track(clinic, "Jordan", track=clinic.day, last_name="Rivera", admitted_on=today(clinic.mh))
    portal_login(ep.patient, by=clinic.frontdesk, username="jordan")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/portal/security/")
    page.wait_for_url("**/portal/login/?next=%2Fportal%2Fsecurity%2F")
    page.get_by_label("Username").fill("jordan")
    page.get_by_label("Password").fill(PORTAL_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/portal/security/")
    page.get_by_role("link", name="Turn on two-step sign-in").click()
    key = page.locator("#setup-key").inner_text()
    screenshot(page, "portal-09-mfa-enrol")
    page.get_by_label("6-digit code from the app").fill(_code_from_setup_key(key))
    page.get_by_role("button", name="Confirm and turn on").click()
    codes = page.get_by_role("list", name="Backup codes").get_by_role("listitem")
    codes.first.wait_for()
    backup = codes.nth(0).inner_text().strip()
    page.get_by_role("link", name="I have saved my codes, continue").click()
    page.wait_for_url("**/portal/security/")
    assert page.get_by_text("Backup codes left: 10").is_visible()
    page.get_by_role("button", name="Toggle navigation").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/portal/login/")

    page.get_by_label("Username").fill("jordan")
    page.get_by_label("Password").fill(PORTAL_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/portal/verify/")
    screenshot(page, "portal-10-mfa-verify")
    page.get_by_label("Code").fill(backup)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{live_server.url}/portal/")
    assert page.get_by_text("You signed in with a backup code; 9 left.").is_visible()
