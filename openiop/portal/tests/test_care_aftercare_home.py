"""The aftercare page (only signed discharges, the patient copy as PDF) and the home page's care cards (what is
waiting, in a fixed number of queries)."""

from __future__ import annotations

from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.portal.care import home_cards
from openiop.portal.tests.care_support import family_account, patient_account
from openiop.skills.actions import do_log_practice
from openiop.testing.discharge import drafted, signed
from openiop.testing.measures import start
from openiop.testing.pdftext import plain_text
from openiop.testing.plans import signed_by_clinician
from openiop.testing.scheduling import admit


def test_a_draft_discharge_shows_nothing(client, clinic):
    episode = admit(clinic, "Avery", admitted_days_ago=30)
    drafted(episode, clinic.clinician)
    client.force_login(patient_account(episode.patient).user)
    page = client.get(reverse("portal:aftercare")).content.decode()
    assert "Lakeside Counseling" not in page and "will show here when you finish the program" in page


def test_the_signed_aftercare_and_safety_plan_and_the_pdf(client, clinic):
    episode = admit(clinic, "Casey", admitted_days_ago=40)
    summary = signed(episode, clinic.clinician)
    account = patient_account(episode.patient)
    client.force_login(account.user)
    page = client.get(reverse("portal:aftercare")).content.decode()
    assert "Dr. Ana Lee, Lakeside Counseling" in page and "SMART Recovery: Tuesdays 7 pm" in page
    assert "My safety plan" in page and "Walk the dog" in page and "Payday Fridays" in page
    assert "Attended groups; learned DBT skills." not in page  # the summary's clinical text stays with staff
    response = client.get(reverse("portal:aftercare_pdf", args=[summary.public_id]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = plain_text(response.content)
    assert "My aftercare plan" in text and "Walk the dog" in text
    row = AuditEvent.objects.latest("chain_index")
    assert (row.action, row.actor_id, row.changed_fields) == (AuditAction.EXPORTED, account.user.pk, ["pdf"])


def test_home_cards_say_what_is_waiting_in_four_queries(clinic, patient):
    account = patient_account(patient)
    empty = home_cards(account)["care"]
    assert (empty.questionnaires_due, empty.plans_to_sign, empty.last_practice) == ([], [], None)
    assert empty.can_practice and not empty.has_aftercare
    start(patient, clinic.clinician)
    start(patient, clinic.clinician, "gad7")
    signed_by_clinician(patient, clinic.clinician)
    do_log_practice(patient, acting_user=account.user, episode=patient.episodes.get(), skill="Box breathing",
                    practiced_at=timezone.now())  # fmt: skip
    with CaptureQueriesContext(connection) as ctx:
        context = home_cards(account)
        html = render_to_string("portal/partials/care_cards.html", context)
    assert len(ctx.captured_queries) == 4
    assert "2 short questionnaires to fill in." in html
    assert "Read and sign my plan" in html and "Last logged: <strong>Box breathing</strong>" in html
    assert reverse("portal:aftercare") not in html


def test_home_cards_link_the_aftercare_once_discharged(clinic):
    episode = admit(clinic, "Casey", admitted_days_ago=40)
    signed(episode, clinic.clinician)
    care = home_cards(patient_account(episode.patient))["care"]
    assert care.has_aftercare and not care.can_practice
    html = render_to_string("portal/partials/care_cards.html", {"care": care})
    assert reverse("portal:aftercare") in html and "Log practice" not in html


def test_family_accounts_get_no_care_cards(clinic, patient):
    assert home_cards(family_account(patient)) == {}


def test_after_a_discharge_signed_during_a_session_home_says_the_program_ended(client, clinic):
    """The discharge cancels what has not started; the session under way when it was signed is not a "next
    session" for someone whose program has ended."""
    from datetime import timedelta

    from openiop.scheduling.models import Booking
    from openiop.testing.scheduling import make_booking, make_session

    episode = admit(clinic, "Casey", admitted_days_ago=40)
    under_way = make_session(clinic.mh, timezone.now() - timedelta(minutes=20), minutes=55)
    make_booking(under_way, episode.patient, episode=episode)
    client.force_login(patient_account(episode.patient).user)
    assert "Your next sessions" in client.get(reverse("portal:home")).content.decode()
    signed(episode, clinic.clinician)
    assert Booking.objects.get(session=under_way).status == Booking.Status.BOOKED  # it had started: kept
    page = client.get(reverse("portal:home")).content.decode()
    assert "Your program has ended" in page and "Your next sessions" not in page
