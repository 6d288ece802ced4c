"""Book Now in a real headless Chromium, with the confirmation going through a real SMTP server on localhost."""

from __future__ import annotations

import re
from datetime import date

import pytest

from openiop.referrals.models import CrisisStopCount, IntakeSlot, Referral
from openiop.testing.browser import screenshot
from openiop.testing.fixtures import build_clinic
from openiop.testing.referrals import make_slot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 414, "height": 896}


@pytest.fixture
def inbox(smtp_inbox, settings, live_server):
    settings.SITE_URL = live_server.url  # the confirmation email links back to the live server
    return smtp_inbox


def _answer(page, question: str, answer: str) -> None:
    page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()


def _prescreen(page, danger: str = "No") -> None:
    _answer(page, "Are you thinking about harming yourself or someone else right now?", danger)
    if danger == "No":
        _answer(page, "Have you recently finished a stay in a hospital or a residential program?", "No")
        _answer(page, "Are mental health or substance use concerns making daily life hard", "Yes")
        _answer(page, "Do you have a stable place to live?", "Yes")
        _answer(page, "Is there at least one person (family, a friend, a sponsor) who supports you?", "Yes")
        _answer(page, "Can you attend regular sessions every week for several weeks?", "Yes")
        _answer(page, "Which times would suit you?", "Evenings")
    page.get_by_role("button", name="Continue").click()


def test_a_prospective_patient_books_an_intake_slot_and_receives_the_email(page, live_server, inbox):
    clinic = build_clinic()
    slot = make_slot(clinic.mh, 3, 10)
    make_slot(clinic.mh, 4, 15)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/book/{clinic.org.public_id}/")
    screenshot(page, "booknow-01-programs")
    page.locator(".card", has_text=clinic.mh.name).get_by_role("link", name="Learn more and book").click()
    page.get_by_role("heading", name="Day and evening options").wait_for()
    screenshot(page, "booknow-02-program")
    page.get_by_role("link", name="Book Now").click()
    page.get_by_role("heading", name="A few questions").wait_for()
    screenshot(page, "booknow-03-prescreen")
    _prescreen(page)

    page.get_by_role("heading", name="Pick a time for your first appointment").wait_for()
    page.get_by_label(re.compile(re.escape(slot.label))).check()
    screenshot(page, "booknow-04-times")
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("heading", name="Your details").wait_for()
    page.get_by_label("First name").fill("Avery")
    page.get_by_label("Last name").fill("Madeup")
    page.get_by_label("Date of birth").fill("1993-07-08")
    page.get_by_label("Phone").fill("555-0123")
    page.get_by_label("Email").fill("avery@example.org")
    page.get_by_label("How should we contact you?").select_option(label="Email")
    page.get_by_label("Insurance", exact=True).select_option(label="Commercial")
    page.get_by_label("Insurance company").fill("Example Health Plan")
    page.get_by_label("Member ID").fill("EX998877")
    assert not page.get_by_label("Leave this empty").is_visible()  # the honeypot stays out of sight
    screenshot(page, "booknow-05-details")
    page.get_by_role("button", name="Book this appointment").click()

    page.get_by_role("heading", name="You're booked").wait_for()
    assert slot.label in page.content()
    assert "/book/done/" in page.url
    screenshot(page, "booknow-06-done")

    message = inbox.wait_for(1)[0]
    assert message["To"] == "avery@example.org"
    assert message["Subject"] == f"Your appointment with {clinic.org.name}"
    body = message.get_content()
    assert slot.label in body
    assert clinic.mh.name not in body and "EX998877" not in body
    found = re.search(r"(http://\S+/book/manage/\S+/)", body)
    assert found is not None
    link = found.group(1)

    referral = Referral.objects.get(last_name="Madeup")
    assert referral.stage == Referral.Stage.SCHEDULED and referral.member_id == "EX998877"
    assert referral.prescreen["track"] == "evening"

    page.goto(link)
    page.get_by_role("heading", name="Your appointment").wait_for()
    screenshot(page, "booknow-07-manage")
    assert slot.label in page.content()


def test_the_danger_path_shows_crisis_resources_and_books_nothing(page, live_server, inbox):
    clinic = build_clinic()
    slot = make_slot(clinic.mh, 3, 10)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/book/programs/{clinic.mh.public_id}/check/")
    _prescreen(page, danger="Yes")
    page.get_by_role("heading", name="Please reach out for help now").wait_for()
    main = page.locator("main")
    assert main.get_by_role("link", name="988").first.is_visible()
    assert main.get_by_role("link", name="911").first.is_visible()
    assert main.get_by_role("link", name=clinic.org.phone).first.is_visible()
    screenshot(page, "booknow-08-crisis")
    assert not Referral.objects.exists()
    assert IntakeSlot.objects.get(pk=slot.pk).booked_count == 0
    assert CrisisStopCount.objects.get().count == 1
    assert inbox.messages == []


def test_staff_see_the_booked_referral_on_the_board_and_admit_it(page, live_server, inbox):
    from openiop.patients.models import Coverage
    from openiop.referrals.booking import do_book_now
    from openiop.testing.fixtures import PASSWORD
    from openiop.testing.scheduling import make_group, make_group_sessions
    from openiop.worklist.models import WorkTask

    clinic = build_clinic()
    slot = make_slot(clinic.mh, 2, 10)
    make_group_sessions(make_group(clinic.evening, "Evening Group A"), hour=18)  # what the admission books
    do_book_now(
        slot,
        details={"first_name": "Avery", "last_name": "Madeup", "date_of_birth": date(1993, 7, 8),
                 "phone": "555-0123", "email": "avery@example.org", "preferred_contact": "email",
                 "payer_kind": "commercial", "payer_name": "Aetna", "member_id": "W987"},
        prescreen={"danger": "no", "moderate_symptoms": "yes"},
        prescreen_result="likely_fit",
    )  # fmt: skip
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("intake")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("link", name="Referrals").click()
    column = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Assessment scheduled"))
    column.get_by_role("link", name=re.compile("Avery Madeup")).wait_for()
    screenshot(page, "referrals-01-board")
    column.get_by_role("link", name=re.compile("Avery Madeup")).click()
    page.get_by_role("heading", name="Avery Madeup").wait_for()
    assert "Likely fit" in page.content()
    screenshot(page, "referrals-02-detail")

    page.get_by_role("link", name="Start intake").click()
    page.get_by_role("button", name="Register and link").click()
    page.get_by_text("Patient registered and linked.").wait_for()
    page.get_by_label("Move to").select_option(label="Assessed")
    page.get_by_role("button", name="Change stage").click()
    page.get_by_text("Stage changed.").wait_for()
    page.get_by_role("link", name="Admit").click()
    page.get_by_label("Track").select_option(label=str(clinic.evening))
    page.get_by_label("Primary clinician").select_option(label=clinic.clinician.display_name)
    screenshot(page, "referrals-03-admit")
    page.get_by_role("button", name="Admit").click()
    page.wait_for_url("**?tab=episodes")
    page.get_by_text("Booked 3 sessions in Evening Group A.").wait_for()
    screenshot(page, "referrals-04-chart")

    referral = Referral.objects.get(last_name="Madeup")
    assert referral.stage == "admitted" and referral.episode is not None
    assert referral.episode.track == clinic.evening
    kinds = set(WorkTask.objects.filter(episode=referral.episode).values_list("kind", flat=True))
    assert kinds == {"plan_due", "first_measures"}
    coverages = Coverage.objects.filter(patient=referral.patient)
    assert [(c.payer_name, c.member_id) for c in coverages] == [("Aetna", "W987")]
