"""The public Book Now pages: pre-screen, crisis stop, slot, details, confirmation email, manage link, abuse guards."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache

from openiop.core.models import AuditAction, AuditEvent
from openiop.referrals.models import CrisisStopCount, IntakeAppointment, IntakeSlot, Referral
from openiop.testing.referrals import DETAILS, make_slot

pytestmark = pytest.mark.django_db

ANSWERS = {
    "danger": "no",
    "after_inpatient": "yes",
    "moderate_symptoms": "no",
    "stable_home": "yes",
    "support": "yes",
    "can_commit": "yes",
    "track": "evening",
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def base(program) -> str:
    return f"/book/programs/{program.public_id}"


def details_data(slot: IntakeSlot, **extra) -> dict:
    return {**DETAILS, "date_of_birth": "1992-05-06", "slot": str(slot.public_id), "website": "", **extra}


def start(client, program, slot, answers=None):
    response = client.post(f"{base(program)}/check/", answers or ANSWERS)
    assert response.status_code == 302, response.content.decode()[:500]
    response = client.post(f"{base(program)}/times/", {"slot": str(slot.public_id)})
    assert response.status_code == 302
    return response


def test_the_index_lists_the_programs_of_the_only_organization_with_programs(client, clinic):
    clinic.stranger  # noqa: B018 (the other organization has a program too)
    response = client.get("/book/")
    # Two organizations have programs in the fixture, so the index asks which one.
    assert response.status_code == 200
    assert "Riverside Recovery" in response.content.decode()
    response = client.get(f"/book/{clinic.org.public_id}/")
    text = response.content.decode()
    assert clinic.mh.name in text and clinic.su.name in text


def test_the_program_page_shows_description_tracks_and_who_it_is_for(client, clinic):
    make_slot(clinic.mh)
    text = client.get(f"{base(clinic.mh)}/").content.decode()
    assert "Day and evening options" in text
    assert clinic.day.schedule_label in text and clinic.evening.schedule_label in text
    assert "stable place to live" in text
    assert "Book Now" in text


@pytest.mark.parametrize(
    "path",
    ["/book/", "/book/{org}/", "/book/programs/{program}/", "/book/programs/{program}/check/", "/book/crisis/"],
)
def test_every_public_page_shows_crisis_resources(client, clinic, path):
    response = client.get(path.format(org=clinic.org.public_id, program=clinic.mh.public_id))
    text = response.content.decode()
    assert response.status_code == 200
    assert 'href="tel:988"' in text and 'href="tel:911"' in text


def test_a_yes_to_the_danger_question_stops_the_flow_and_stores_nothing(client, clinic):
    slot = make_slot(clinic.mh)
    referrals_before = Referral.objects.count()
    response = client.post(f"{base(clinic.mh)}/check/", {"danger": "yes"})
    assert response.status_code == 302 and response["Location"] == "/book/crisis/"
    page = client.get("/book/crisis/").content.decode()
    assert "988" in page and "911" in page and clinic.org.phone in page
    assert Referral.objects.count() == referrals_before
    assert CrisisStopCount.objects.get(organization=clinic.org).count == 1
    event = AuditEvent.objects.filter(object_type="booknow_crisis_stop").get()
    assert event.actor is None and event.patient is None and event.changed_fields == ["count"]
    # The flow is gone: the slot page sends the visitor back to the questions.
    response = client.get(f"{base(clinic.mh)}/times/")
    assert response.status_code == 302 and response["Location"].endswith("/check/")
    slot.refresh_from_db()
    assert slot.booked_count == 0


def test_the_prescreen_needs_every_answer(client, clinic):
    response = client.post(f"{base(clinic.mh)}/check/", {"danger": "no"})
    assert response.status_code == 200
    assert response.content.decode().count("field-error") >= 5


def test_booking_creates_the_referral_and_emails_a_link_without_clinical_details(
    client, clinic, django_capture_on_commit_callbacks
):
    slot = make_slot(clinic.mh, 3, 10)
    start(client, clinic.mh, slot)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{base(clinic.mh)}/details/", details_data(slot))
    assert response.status_code == 302 and response["Location"] == "/book/done/"
    done = client.get("/book/done/").content.decode()
    assert slot.label in done

    referral = Referral.objects.get(source=Referral.Source.BOOK_NOW)
    assert referral.stage == Referral.Stage.SCHEDULED
    assert referral.program == clinic.mh
    assert referral.prescreen["after_inpatient"] == "yes"
    assert referral.prescreen_result == Referral.ScreenResult.LIKELY_FIT
    assert list(referral.stage_changes.values_list("to_stage", flat=True)) == ["screening", "scheduled"]
    appointment = IntakeAppointment.objects.get(referral=referral)
    assert appointment.status == "booked" and appointment.source == "book_now"
    slot.refresh_from_db()
    assert slot.booked_count == 1

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [DETAILS["email"]]
    body = str(message.body)
    link = re.search(r"http://\S+/book/manage/(\S+)/", body)
    assert link is not None
    assert appointment.manage_token_hash != link.group(1)  # only the hash is stored
    assert slot.label in body
    for clinical in (clinic.mh.name, "Mental Health", "IOP", "depression", "inpatient", DETAILS["member_id"]):
        assert clinical not in body
        assert clinical not in message.subject


def test_no_url_of_the_flow_carries_the_person(client, clinic):
    slot = make_slot(clinic.mh)
    locations = [start(client, clinic.mh, slot)["Location"]]
    response = client.post(f"{base(clinic.mh)}/details/", details_data(slot))
    locations.append(response["Location"])
    for location in locations:
        for value in ("Casey", "Fictional", "1992", "555", "example.org", "EX123456"):
            assert value not in location


def test_a_filled_honeypot_pretends_success_and_stores_nothing(client, clinic):
    slot = make_slot(clinic.mh)
    start(client, clinic.mh, slot)
    response = client.post(f"{base(clinic.mh)}/details/", details_data(slot, website="http://spam.example"))
    assert response.status_code == 302 and response["Location"] == "/book/done/"
    assert "booked" in client.get("/book/done/").content.decode()
    assert not Referral.objects.exists()
    assert not mail.outbox
    slot.refresh_from_db()
    assert slot.booked_count == 0


def book_again(client, program, hour: int, **extra):
    """Walk the flow from the start to a fresh slot and submit valid details (the flow ends at each booking)."""
    slot = make_slot(program, 3, hour)
    start(client, program, slot)
    return client.post(f"{base(program)}/details/", details_data(slot, **extra))


def test_typos_sent_back_with_errors_do_not_count_towards_the_limit(client, clinic, settings):
    settings.OPENIOP_BOOKNOW_MAX_PER_HOUR = 2
    slot = make_slot(clinic.mh)
    start(client, clinic.mh, slot)
    bad = details_data(slot, first_name="")
    for _ in range(5):  # the trial's lock-out: five typos used to cost the person an hour
        assert client.post(f"{base(clinic.mh)}/details/", bad).status_code == 200
    response = client.post(f"{base(clinic.mh)}/details/", details_data(slot))
    assert response.status_code == 302 and response["Location"] == "/book/done/"
    assert Referral.objects.count() == 1


def test_too_many_valid_submissions_from_one_address_get_a_friendly_429(client, clinic, settings):
    settings.OPENIOP_BOOKNOW_MAX_PER_HOUR = 2
    for hour, name in ((9, "Ines"), (11, "Jonah")):
        assert book_again(client, clinic.mh, hour, first_name=name).status_code == 302
    response = book_again(client, clinic.mh, 13, first_name="Kofi")
    assert response.status_code == 429
    assert "Please wait a little" in response.content.decode()
    assert "tel:988" in response.content.decode()
    assert not Referral.objects.filter(first_name="Kofi").exists()
    # Another address is not affected.
    other = client.__class__(REMOTE_ADDR="203.0.113.9")
    assert book_again(other, clinic.mh, 14, first_name="Lena").status_code == 302


def test_the_count_is_kept_in_the_shared_cache_not_in_process_memory(client, clinic, settings):
    """Two clients (two browsers, or two worker processes' requests) from one address share one count, and the count
    is a row of the database cache, which every process reads."""
    from django.core.cache import caches
    from django.core.cache.backends.db import DatabaseCache
    from django.db import connection

    assert isinstance(caches["default"], DatabaseCache)
    settings.OPENIOP_BOOKNOW_MAX_PER_HOUR = 1
    assert book_again(client, clinic.mh, 9, first_name="Ines").status_code == 302
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {settings.CACHE_TABLE} WHERE cache_key LIKE %s", ["%openiop:booknow:%"])
        assert cursor.fetchone()[0] == 1
    second = client.__class__()  # same address, new session
    assert book_again(second, clinic.mh, 11, first_name="Jonah").status_code == 429


def test_bad_details_re_render_with_field_errors_and_keep_what_was_typed(client, clinic):
    slot = make_slot(clinic.mh)
    start(client, clinic.mh, slot)
    response = client.post(
        f"{base(clinic.mh)}/details/", details_data(slot, phone="", email="", date_of_birth="2999-01-01")
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "Give a phone number or an email address" in text
    assert "cannot be in the future" in text
    assert 'value="Casey"' in text
    assert not Referral.objects.exists()


def test_a_slot_taken_meanwhile_is_named_and_the_next_free_slots_offered(client, clinic):
    slot = make_slot(clinic.mh, 2, 9)
    later = make_slot(clinic.mh, 2, 11)
    start(client, clinic.mh, slot)
    IntakeSlot.objects.filter(pk=slot.pk).update(booked_count=1)  # someone else was faster
    response = client.post(f"{base(clinic.mh)}/details/", details_data(slot))
    text = response.content.decode()
    assert response.status_code == 200
    assert "just taken" in text
    assert str(later.public_id) in text
    assert 'value="Casey"' in text
    assert not Referral.objects.exists()


def test_the_details_page_needs_the_earlier_steps(client, clinic):
    response = client.get(f"{base(clinic.mh)}/details/")
    assert response.status_code == 302 and response["Location"].endswith("/check/")
    client.post(f"{base(clinic.mh)}/check/", ANSWERS)
    response = client.get(f"{base(clinic.mh)}/details/")
    assert response.status_code == 302 and response["Location"].endswith("/times/")


def test_unpublished_past_and_full_slots_are_not_offered(client, clinic):
    free = make_slot(clinic.mh, 2, 9)
    full = make_slot(clinic.mh, 2, 10)
    hidden = make_slot(clinic.mh, 2, 11)
    IntakeSlot.objects.filter(pk=full.pk).update(booked_count=1)
    IntakeSlot.objects.filter(pk=hidden.pk).update(is_published=False)
    client.post(f"{base(clinic.mh)}/check/", ANSWERS)
    text = client.get(f"{base(clinic.mh)}/times/").content.decode()
    assert str(free.public_id) in text
    assert str(full.public_id) not in text and str(hidden.public_id) not in text


@pytest.fixture
def book(client, clinic, django_capture_on_commit_callbacks):
    def _book(slot) -> str:
        start(client, clinic.mh, slot)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"{base(clinic.mh)}/details/", details_data(slot))
        found = re.search(r"/book/manage/(\S+)/", str(mail.outbox[-1].body))
        assert found is not None
        return found.group(1)

    return _book


def test_the_manage_link_cancels_and_frees_the_slot(client, clinic, book):
    slot = make_slot(clinic.mh)
    token = book(slot)
    page = client.get(f"/book/manage/{token}/")
    assert page.status_code == 200 and slot.label in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0")
    response = client.post(f"/book/manage/{token}/", {"action": "cancel", "confirm": "on"})
    assert response.status_code == 302
    slot.refresh_from_db()
    assert slot.booked_count == 0
    referral = Referral.objects.get()
    assert referral.stage == Referral.Stage.SCREENING
    assert referral.appointments.get().status == "cancelled"
    assert client.get(f"/book/manage/{token}/").status_code == 404  # the link is used up


def test_the_manage_link_reschedules_and_keeps_working(client, clinic, book, django_capture_on_commit_callbacks):
    slot = make_slot(clinic.mh, 2, 9)
    other = make_slot(clinic.mh, 4, 14)
    token = book(slot)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/book/manage/{token}/", {"action": "reschedule", "slot": str(other.public_id)})
    assert response.status_code == 302
    slot.refresh_from_db()
    other.refresh_from_db()
    assert (slot.booked_count, other.booked_count) == (0, 1)
    assert len(mail.outbox) == 2 and "has moved" in mail.outbox[1].subject
    assert other.label in client.get(f"/book/manage/{token}/").content.decode()
    old = IntakeAppointment.objects.get(slot=slot)
    assert old.status == "rescheduled"
    assert old.rescheduled_to is not None and old.rescheduled_to.slot == other


def test_unknown_manage_tokens_are_404_without_detail(client, clinic):
    response = client.get("/book/manage/not-a-real-token/")
    assert response.status_code == 404
    assert "no longer works" in response.content.decode()


def test_the_manage_page_view_is_audited_without_a_user(client, clinic, book):
    slot = make_slot(clinic.mh)
    token = book(slot)
    client.get(f"/book/manage/{token}/")
    event = AuditEvent.objects.filter(action=AuditAction.RECORD_VIEWED, object_type="intakeappointment").get()
    assert event.actor is None and event.organization_id_ref == clinic.org.pk


def test_an_emergency_contact_given_on_book_now_is_kept_and_carried_to_the_record(client, clinic):
    from openiop.patients.models import SupportContact
    from openiop.referrals.actions import do_create_patient_from_referral, do_link_patient

    slot = make_slot(clinic.mh, 3, 10)
    start(client, clinic.mh, slot)
    emergency = {"emergency_name": "Robin Example", "emergency_relationship": "partner", "emergency_phone": "555-0162"}
    response = client.post(f"{base(clinic.mh)}/details/", details_data(slot, **emergency))
    assert response.status_code == 302
    referral = Referral.objects.get(source=Referral.Source.BOOK_NOW)
    assert (referral.emergency_name, referral.emergency_relationship, referral.emergency_phone) == (
        "Robin Example", "partner", "555-0162",
    )  # fmt: skip
    client.force_login(clinic.intake)
    assert "Robin Example (Spouse / partner) · 555-0162" in client.get(referral.get_absolute_url()).content.decode()

    patient = do_create_patient_from_referral(referral, acting_user=clinic.intake, home_program=clinic.mh)
    contact = SupportContact.objects.get(patient=patient)
    assert (contact.name, contact.relationship, contact.phone, contact.notes) == (
        "Robin Example", "partner", "555-0162", "Emergency contact",
    )  # fmt: skip
    referral.refresh_from_db()
    do_link_patient(referral, acting_user=clinic.intake, patient=patient)  # again: nothing new
    assert SupportContact.objects.filter(patient=patient).count() == 1


def test_an_emergency_contact_needs_a_name_and_a_phone_and_keeps_what_was_typed(client, clinic):
    slot = make_slot(clinic.mh, 3, 10)
    start(client, clinic.mh, slot)
    response = client.post(f"{base(clinic.mh)}/details/", details_data(slot, emergency_name="Robin Example"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Give your emergency contact&#x27;s phone number." in html and 'value="Robin Example"' in html
    response = client.post(f"{base(clinic.mh)}/details/", details_data(slot, emergency_phone="555-0162"))
    assert "Give your emergency contact&#x27;s name." in response.content.decode()
    assert not Referral.objects.exists()
