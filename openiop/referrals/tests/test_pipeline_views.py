"""Staff pipeline pages: access for every view, the board and its figures, stage changes, scheduling, matching."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.core.models import AuditAction, AuditEvent
from openiop.referrals.actions import do_change_stage, do_mark_assessed
from openiop.referrals.booking import do_book_intake
from openiop.referrals.models import IntakeAppointment, IntakeSlot, Referral
from openiop.testing.fixtures import make_patient
from openiop.testing.referrals import make_referral, make_slot

pytestmark = pytest.mark.django_db
ROBIN = {"legal_first_name": "Robin", "legal_last_name": "Example", "date_of_birth": date(1988, 6, 1)}


@pytest.fixture
def referral(clinic):
    return make_referral(clinic)


@pytest.fixture
def slot(clinic):
    return make_slot(clinic.mh, 2, 10)


def _urls(referral, slot, appointment, document):
    rid = referral.public_id
    return {
        "board": ("get", "/referrals/", None),
        "create": ("get", "/referrals/new/", None),
        "detail": ("get", f"/referrals/{rid}/", None),
        "edit": ("get", f"/referrals/{rid}/edit/", None),
        "stage": ("post", f"/referrals/{rid}/stage/", {"stage": "screening"}),
        "schedule": ("get", f"/referrals/{rid}/schedule/", None),
        "match": ("get", f"/referrals/{rid}/match/", None),
        "admit": ("get", f"/referrals/{rid}/admit/", None),
        "documents": ("post", f"/referrals/{rid}/documents/", {}),
        "document": ("get", f"/referrals/documents/{document.public_id}/", None),
        "appointment": ("post", f"/referrals/appointments/{appointment.public_id}/", {"action": "x"}),
        "slots": ("get", "/referrals/slots/", None),
        "unpublish": ("post", f"/referrals/slots/{slot.public_id}/unpublish/", {}),
    }


# Which named person gets what: members 200 (or a redirect after a write), insufficient role 403, outside 404.
WRITE = {"director", "clinician", "intern", "intake"}
SCHEDULE = WRITE | {"frontdesk"}
READ = SCHEDULE | {"billing", "auditor"}
NEEDS = {
    "board": READ,
    "detail": READ,
    "document": READ,
    "create": WRITE,
    "edit": WRITE,
    "stage": WRITE,
    "match": WRITE,
    "admit": WRITE,
    "documents": WRITE,
    "unpublish": WRITE,
    "schedule": SCHEDULE,
    "appointment": SCHEDULE,
    "slots": SCHEDULE,
}
# Pages with no record in the URL: people outside see an empty board, not a 404.
LISTS = {"board", "create", "slots"}
PEOPLE = [
    "director",
    "clinician",
    "intern",
    "intake",
    "frontdesk",
    "billing",
    "auditor",
    "sysadmin",
    "outsider",
    "stranger",
]


@pytest.fixture
def objects(clinic, referral, slot):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from openiop.referrals.actions import do_add_document

    appointment, _ = do_book_intake(slot, referral=referral, acting_user=clinic.intake, send_email=False)
    upload = SimpleUploadedFile("letter.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    document = do_add_document(referral, acting_user=clinic.intake, upload=upload)
    return referral, slot, appointment, document


@pytest.mark.parametrize("name", list(NEEDS))
@pytest.mark.parametrize("person", PEOPLE)
def test_access_matrix(client, clinic, objects, name, person):
    method, url, data = _urls(*objects)[name]
    client.force_login(getattr(clinic, person))
    response = getattr(client, method)(url, data or {})
    user = getattr(clinic, person)
    if person in NEEDS[name]:
        assert response.status_code in (200, 302, 400), (name, person, response.status_code)
    elif not user.can(_cap_for(name)):
        assert response.status_code == 403, (name, person, response.status_code)
    elif name in LISTS:
        assert response.status_code == 200
    else:
        assert response.status_code == 404, (name, person, response.status_code)


def _cap_for(name: str):
    from openiop.core.roles import Cap

    if NEEDS[name] is WRITE:
        return Cap.EDIT_CLINICAL
    if NEEDS[name] is SCHEDULE:
        return Cap.BOOK_SESSIONS
    return Cap.VIEW_PATIENTS


def test_outsiders_see_none_of_the_programs_referrals_on_the_board(client, clinic, referral):
    for person in ("outsider", "stranger"):
        client.force_login(getattr(clinic, person))
        assert referral.display_name not in client.get("/referrals/").content.decode()


def test_a_referral_without_a_program_is_seen_by_intake_and_directors_only(client, clinic):
    pooled = make_referral(clinic, program=None, first_name="Pooled")
    assert pooled.program is None
    for person, status in (("intake", 200), ("director", 200), ("clinician", 404), ("frontdesk", 404)):
        client.force_login(getattr(clinic, person))
        assert client.get(pooled.get_absolute_url()).status_code == status, person


def test_the_board_is_audited_as_a_patient_list_and_the_page_as_a_record_view(client, clinic, referral):
    client.force_login(clinic.intake)
    client.get("/referrals/")
    assert AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED, object_type="referral").count() == 1
    client.get(referral.get_absolute_url())
    event = AuditEvent.objects.filter(action=AuditAction.RECORD_VIEWED, object_type="referral").get()
    assert event.object_id == str(referral.public_id) and event.actor == clinic.intake


def test_the_board_query_count_does_not_grow_with_referrals(client, clinic):
    client.force_login(clinic.intake)
    make_referral(clinic, first_name="One")
    client.get("/referrals/")
    with CaptureQueriesContext(connection) as few:
        client.get("/referrals/")
    for i in range(15):
        r = make_referral(clinic, first_name=f"Many{i}", source=Referral.Source.PHYSICIAN)
        if i % 3 == 0:
            do_change_stage(r, acting_user=clinic.intake, stage="screening")
    with CaptureQueriesContext(connection) as many:
        response = client.get("/referrals/")
    assert "Many14" in response.content.decode()
    assert len(many) == len(few)


def test_the_board_filters_by_program_and_source_and_marks_overdue(client, clinic, settings):
    from datetime import timedelta

    from django.utils import timezone

    mh = make_referral(clinic, first_name="Mhperson")
    make_referral(clinic, program=clinic.su, first_name="Superson", source=Referral.Source.COURT)
    Referral.objects.filter(pk=mh.pk).update(stage_changed_at=timezone.now() - timedelta(days=5))
    client.force_login(clinic.intake)
    text = client.get(f"/referrals/?program={clinic.mh.public_id}").content.decode()
    assert "Mhperson" in text and "Superson" not in text
    assert "overdue" in text
    text = client.get("/referrals/?source=court").content.decode()
    assert "Superson" in text and "Mhperson" not in text


def test_a_stage_change_needs_a_reason_to_decline_and_records_history(client, clinic, referral):
    client.force_login(clinic.intake)
    response = client.post(f"/referrals/{referral.public_id}/stage/", {"stage": "declined", "reason": ""})
    assert response.status_code == 400
    assert "Say why" in response.content.decode()
    response = client.post(f"/referrals/{referral.public_id}/stage/", {"stage": "declined", "reason": "Needs PHP"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.stage == "declined" and referral.outcome_reason == "Needs PHP"
    assert list(referral.stage_changes.values_list("to_stage", flat=True)) == ["inquiry", "declined"]
    event = AuditEvent.objects.filter(action=AuditAction.STATUS_CHANGED, object_type="referral").get()
    assert event.changed_fields == ["outcome_reason", "stage"]


def test_stages_cannot_jump_to_admitted_or_scheduled_by_hand(clinic, referral):
    for stage in ("admitted", "scheduled", "assessed_typo"):
        with pytest.raises(ValidationError) as exc:
            do_change_stage(referral, acting_user=clinic.intake, stage=stage)
        assert "stage" in exc.value.message_dict


def test_staff_schedule_a_phone_referral_into_a_slot(
    client, clinic, referral, slot, django_capture_on_commit_callbacks
):
    from django.core import mail

    client.force_login(clinic.frontdesk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/referrals/{referral.public_id}/schedule/", {"slot": str(slot.public_id)})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.stage == "scheduled"
    assert IntakeAppointment.objects.get(referral=referral).booked_by == clinic.frontdesk
    assert len(mail.outbox) == 1 and "/book/manage/" in str(mail.outbox[0].body)


def test_scheduling_a_full_slot_shows_the_next_ones(client, clinic, referral, slot):
    later = make_slot(clinic.mh, 3, 10)
    IntakeSlot.objects.filter(pk=slot.pk).update(booked_count=1)
    client.force_login(clinic.intake)
    response = client.post(f"/referrals/{referral.public_id}/schedule/", {"slot": str(slot.public_id)})
    text = response.content.decode()
    assert response.status_code == 200
    assert "no longer free" in text and str(later.public_id) in text


def test_attended_no_show_and_cancel_on_the_referral_page(client, clinic, referral, slot):
    appointment, _ = do_book_intake(slot, referral=referral, acting_user=clinic.intake, send_email=False)
    client.force_login(clinic.frontdesk)
    client.post(f"/referrals/appointments/{appointment.public_id}/", {"action": "no_show"})
    appointment.refresh_from_db()
    referral.refresh_from_db()
    assert appointment.status == "no_show" and referral.stage == "screening"
    slot.refresh_from_db()
    assert slot.booked_count == 1  # a no-show used the time


def test_mark_assessed_attends_the_booked_appointment(clinic, referral, slot):
    appointment, _ = do_book_intake(slot, referral=referral, acting_user=clinic.intake, send_email=False)
    do_mark_assessed(referral, acting_user=clinic.clinician)
    referral.refresh_from_db()
    appointment.refresh_from_db()
    assert referral.stage == "assessed" and appointment.status == "attended"
    do_mark_assessed(referral, acting_user=clinic.clinician)  # idempotent
    assert referral.stage_changes.filter(to_stage="assessed").count() == 1


def test_metrics_give_the_median_days_to_admission_and_first_service(clinic):
    from datetime import timedelta

    from django.utils import timezone

    from openiop.referrals.models import ReferralStageChange
    from openiop.referrals.queries import metrics

    now = timezone.now()
    for days in (2, 4, 9):
        r = make_referral(clinic, first_name=f"Adm{days}")
        Referral.objects.filter(pk=r.pk).update(received_at=now - timedelta(days=days + 1))
        ReferralStageChange.objects.create(
            referral=r, from_stage="assessed", to_stage="admitted", changed_at=now - timedelta(days=1)
        )
    figures = metrics(clinic.intake, now=now)
    assert figures.admitted == 3 and figures.median_to_admission_days == 4.0
    assert figures.median_to_first_service_days is None


def test_start_intake_offers_the_existing_record_and_links_it(client, clinic):
    existing = make_patient(
        clinic, admit=False, legal_first_name="Robin", legal_last_name="Example", date_of_birth=date(1988, 6, 1)
    )
    referral = make_referral(clinic, stage="screening")
    client.force_login(clinic.intake)
    text = client.get(f"/referrals/{referral.public_id}/match/").content.decode()
    assert "Possible existing records" in text and existing.mrn in text
    response = client.post(f"/referrals/{referral.public_id}/match/", {"patient": str(existing.public_id)})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.patient == existing


def test_start_intake_hides_matches_outside_the_users_programs(client, clinic):
    make_patient(
        clinic,
        clinic.teen,
        admit=False,
        legal_first_name="Robin",
        legal_last_name="Example",
        date_of_birth=date(1988, 6, 1),
    )
    referral = make_referral(clinic, stage="screening")
    client.force_login(clinic.clinician)
    text = client.get(f"/referrals/{referral.public_id}/match/").content.decode()
    assert "1 more matching record" in text
    assert "Adolescent" not in text


def test_start_intake_registers_a_new_patient_when_none_matches(client, clinic):
    referral = make_referral(clinic, stage="screening")
    client.force_login(clinic.intake)
    response = client.post(f"/referrals/{referral.public_id}/match/", {"create": "1", "home_program": clinic.mh.pk})
    assert response.status_code == 302
    referral.refresh_from_db()
    patient = referral.patient
    assert patient is not None and patient.legal_last_name == "Example" and patient.date_of_birth == date(1988, 6, 1)


def test_publishing_a_range_of_slots_skips_what_exists(client, clinic):
    from datetime import timedelta

    from django.utils import timezone

    client.force_login(clinic.intake)
    first = timezone.localdate() + timedelta(days=1)
    data = {
        "kind": "batch",
        "batch-program": clinic.mh.pk,
        "batch-first_day": first.isoformat(),
        "batch-last_day": (first + timedelta(days=6)).isoformat(),
        "batch-weekdays": ["0", "2"],
        "batch-times": "09:00, 13:30",
        "batch-minutes": "60",
        "batch-capacity": "1",
    }
    assert client.post("/referrals/slots/", data).status_code == 302
    assert IntakeSlot.objects.count() == 4
    client.post("/referrals/slots/", data)
    assert IntakeSlot.objects.count() == 4
    starts = sorted(s.local_start().strftime("%a %H:%M") for s in IntakeSlot.objects.all())
    assert starts == ["Mon 09:00", "Mon 13:30", "Wed 09:00", "Wed 13:30"]


def test_publishing_with_bad_times_keeps_the_form(client, clinic):
    client.force_login(clinic.intake)
    response = client.post("/referrals/slots/", {"kind": "batch", "batch-program": clinic.mh.pk, "batch-times": "nine"})
    text = response.content.decode()
    assert response.status_code == 200 and "is not a time like 09:30" in text and 'value="nine"' in text


def test_the_slot_list_query_count_does_not_grow(client, clinic):
    client.force_login(clinic.frontdesk)
    make_slot(clinic.mh, 1, 9)
    with CaptureQueriesContext(connection) as few:
        client.get("/referrals/slots/")
    for hour in range(8, 18):
        make_slot(clinic.mh, 3, hour, assessor=clinic.clinician)
    with CaptureQueriesContext(connection) as many:
        client.get("/referrals/slots/")
    assert len(many) == len(few)


def test_front_desk_sees_slots_but_cannot_publish(client, clinic):
    client.force_login(clinic.frontdesk)
    assert client.get("/referrals/slots/").status_code == 200
    assert client.post("/referrals/slots/", {"kind": "single"}).status_code == 403


def test_slots_published_across_the_spring_change_keep_their_wall_clock_time(clinic):
    from datetime import timedelta

    from django.utils import timezone

    from openiop.referrals.booking import do_publish_slots

    year = timezone.localdate().year + 1
    second_sunday = next(date(year, 3, d) for d in range(8, 15) if date(year, 3, d).weekday() == 6)
    batch = do_publish_slots(
        acting_user=clinic.intake,
        program=clinic.mh,
        first_day=second_sunday - timedelta(days=6),
        last_day=second_sunday + timedelta(days=5),
        weekdays=range(5),
        times=[time(10)],
        minutes=60,
    )
    assert len(batch.created) == 10
    assert {s.local_start().strftime("%H:%M") for s in batch.created} == {"10:00"}
    offsets = sorted({s.local_start().utcoffset() or timedelta(0) for s in batch.created})
    assert offsets == [timedelta(hours=-5), timedelta(hours=-4)]
