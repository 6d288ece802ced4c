"""Admission: an assessed referral becomes an active episode with its due dates on the work queue."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from openiop.core.models import AuditAction, AuditEvent
from openiop.patients import events
from openiop.patients.actions import do_add_coverage, do_change_episode_status, do_open_episode
from openiop.patients.models import Coverage, EpisodeOfCare, SupportContact
from openiop.referrals.actions import do_change_stage, do_link_patient, do_mark_assessed
from openiop.referrals.admission import admission_message, admission_summary, do_admit
from openiop.referrals.models import Referral
from openiop.scheduling.models import Booking, Enrollment, Group, Session
from openiop.testing.fixtures import make_patient
from openiop.testing.referrals import make_referral
from openiop.testing.scheduling import make_group, make_group_sessions
from openiop.worklist.models import WorkTask

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def today(clinic) -> date:
    return clinic.mh.now().date()


@pytest.fixture
def day_group(clinic):
    """The Day track's one open group, with three upcoming sessions an admission can book."""
    group = make_group(clinic.day, "Day Group A", capacity=8)
    make_group_sessions(group)
    return group


@pytest.fixture
def assessed(clinic, day_group):
    """An assessed referral linked to a registered patient without an episode (the Day track has a group)."""
    patient = make_patient(clinic, admit=False, legal_first_name="Robin", legal_last_name="Example")
    referral = make_referral(clinic)
    do_link_patient(referral, acting_user=clinic.intake, patient=patient)
    do_mark_assessed(referral, acting_user=clinic.clinician)
    referral.refresh_from_db()
    return referral


def discharged_12_days_ago(clinic, patient):
    """An earlier episode in another program, discharged 12 days before today."""
    earlier = do_open_episode(
        patient, acting_user=None, program=clinic.su, admitted_on=today(clinic) - timedelta(days=60)
    )
    do_change_episode_status(
        earlier, acting_user=clinic.director, status="discharged", on_date=today(clinic) - timedelta(days=12),
        discharge_reason=EpisodeOfCare.DischargeReason.DROPPED_OUT,
    )  # fmt: skip
    return earlier


def admit(clinic, referral, **extra):
    values = {
        "acting_user": clinic.intake,
        "program": clinic.mh,
        "track": clinic.day,
        "primary_clinician": clinic.clinician,
        "admitted_on": today(clinic),
        "expected_discharge_on": None,
    }
    values.update(extra)
    return do_admit(referral, **values)


def test_admission_opens_the_episode_enrolls_the_track_and_raises_the_due_dates(clinic, assessed):
    episode = admit(clinic, assessed)
    assert episode.status == EpisodeOfCare.Status.ACTIVE
    assert episode.track == clinic.day and episode.primary_clinician == clinic.clinician
    assert episode.admitted_on == today(clinic)
    assert episode.expected_discharge_on == today(clinic) + timedelta(weeks=clinic.mh.max_length_weeks)
    assert Enrollment.objects.filter(episode=episode, track=clinic.day).exists()
    assessed.refresh_from_db()
    assert assessed.stage == Referral.Stage.ADMITTED and assessed.episode == episode
    assert assessed.admitted_at is not None and not assessed.is_readmission
    tasks = {t.kind: t for t in WorkTask.objects.filter(episode=episode)}
    assert set(tasks) == {WorkTask.Kind.PLAN_DUE, WorkTask.Kind.FIRST_MEASURES}
    assert tasks[WorkTask.Kind.PLAN_DUE].due_on == today(clinic) + timedelta(days=7)
    assert tasks[WorkTask.Kind.FIRST_MEASURES].due_on == today(clinic)
    assert tasks[WorkTask.Kind.PLAN_DUE].assigned_to == clinic.clinician
    event = AuditEvent.objects.filter(object_type="referral", action=AuditAction.STATUS_CHANGED).last()
    assert event is not None and "episode" in event.changed_fields


def test_the_plan_due_days_come_from_settings(clinic, assessed, settings):
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "treatment_plan_due_days": 5}
    episode = admit(clinic, assessed, track=None)
    task = WorkTask.objects.get(episode=episode, kind=WorkTask.Kind.PLAN_DUE)
    assert task.due_on == today(clinic) + timedelta(days=5)
    assert not Enrollment.objects.filter(episode=episode).exists()


def test_medicare_as_primary_payer_raises_the_certification(clinic, assessed):
    do_add_coverage(
        assessed.patient,
        acting_user=clinic.intake,
        payer_kind="medicare",
        payer_name="Medicare",
        member_id="1EG4TE5MK73",
    )
    episode = admit(clinic, assessed)
    task = WorkTask.objects.get(episode=episode, kind=WorkTask.Kind.CERTIFICATION_DUE)
    assert task.due_on == today(clinic)


def test_a_discharge_within_30_days_flags_a_readmission(clinic, assessed):
    discharged_12_days_ago(clinic, assessed.patient)
    episode = admit(clinic, assessed)
    assessed.refresh_from_db()
    assert assessed.is_readmission
    task = WorkTask.objects.get(episode=episode, kind=WorkTask.Kind.READMISSION_REVIEW)
    assert "12 days" in task.reason


def test_a_discharge_longer_ago_is_not_a_readmission(clinic, assessed, settings):
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "readmission_window_days": 10}
    discharged_12_days_ago(clinic, assessed.patient)
    admit(clinic, assessed)
    assessed.refresh_from_db()
    assert not assessed.is_readmission
    assert not WorkTask.objects.filter(kind=WorkTask.Kind.READMISSION_REVIEW).exists()


def test_a_waitlisted_episode_is_admitted_rather_than_a_second_one_opened(clinic, assessed):
    waiting = do_open_episode(assessed.patient, acting_user=None, program=clinic.mh, status="waitlist")
    do_change_stage(assessed, acting_user=clinic.intake, stage="waitlisted")
    episode = admit(clinic, assessed)
    assert episode.pk == waiting.pk
    waiting.refresh_from_db()
    assert waiting.status == "active" and waiting.track == clinic.day and waiting.primary_clinician == clinic.clinician


def test_only_an_assessed_linked_referral_can_be_admitted(clinic):
    unlinked = make_referral(clinic)
    with pytest.raises(ValidationError) as exc:
        admit(clinic, unlinked)
    assert "stage" in exc.value.message_dict
    do_mark_assessed(unlinked, acting_user=clinic.clinician)
    with pytest.raises(ValidationError) as exc:
        admit(clinic, unlinked)
    assert "patient" in exc.value.message_dict
    assert not EpisodeOfCare.objects.exists()


def test_a_failed_admission_changes_nothing(clinic, assessed):
    with pytest.raises(ValidationError) as exc:
        admit(clinic, assessed, track=clinic.evening, primary_clinician=clinic.outsider)
    assert "primary_clinician" in exc.value.message_dict
    assessed.refresh_from_db()
    assert assessed.stage == "assessed" and assessed.episode is None
    assert not EpisodeOfCare.objects.exists() and not WorkTask.objects.exists()


def test_admitting_twice_is_refused(clinic, assessed):
    admit(clinic, assessed)
    with pytest.raises(ValidationError):
        admit(clinic, assessed)
    assert EpisodeOfCare.objects.count() == 1
    assert WorkTask.objects.filter(kind=WorkTask.Kind.PLAN_DUE).count() == 1


def test_the_admit_page_admits_and_lands_on_the_chart(client, clinic, assessed):
    client.force_login(clinic.intake)
    url = f"/referrals/{assessed.public_id}/admit/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "program": clinic.mh.pk,
            "track": clinic.day.pk,
            "primary_clinician": clinic.clinician.pk,
            "admitted_on": today(clinic).isoformat(),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{assessed.patient.get_absolute_url()}?tab=episodes"
    assessed.refresh_from_db()
    assert assessed.stage == "admitted"


def test_the_admit_page_keeps_errors_on_the_fields(client, clinic, assessed):
    client.force_login(clinic.intake)
    response = client.post(
        f"/referrals/{assessed.public_id}/admit/",
        {"program": clinic.mh.pk, "primary_clinician": clinic.clinician.pk, "admitted_on": "2099-01-01"},
    )
    assert response.status_code == 200
    assert "Admit at most 30 days ahead" in response.content.decode()
    assessed.refresh_from_db()
    assert assessed.stage == "assessed"


def test_the_chart_tab_builder_lists_the_patients_referrals_with_the_readmission_flag(rf, clinic, assessed):
    from django.template.loader import render_to_string

    from openiop.referrals.views import referrals_tab

    Referral.objects.filter(pk=assessed.pk).update(is_readmission=True)
    request = rf.get("/")
    request.user = clinic.intake
    context = referrals_tab(request, assessed.patient, None)
    assert [r.pk for r in context["patient_referrals"]] == [assessed.pk]
    html = render_to_string("referrals/partials/tab_referrals.html", context)
    assert "Readmission: discharged within 30 days" in html
    request.user = clinic.outsider
    assert referrals_tab(request, assessed.patient, None)["patient_referrals"] == []


# --- Groups and sessions booked at admission ----------------------------------------------------------------


def _fill(clinic, group):
    """Another patient takes the group's only seat."""
    from openiop.scheduling.actions.enrollment import do_enroll
    from openiop.testing.scheduling import admit as admit_patient

    other = admit_patient(clinic, "Alex", admitted_days_ago=0)
    assert other.admitted_on is not None
    do_enroll(other, acting_user=clinic.intake, track=group.track, groups=[group], starts_on=other.admitted_on)


def test_admission_books_the_sessions_of_a_group_with_a_seat(clinic, assessed, day_group):
    full = make_group(clinic.day, "Day Group 0", capacity=1)  # first by name, but full
    make_group_sessions(full, hour=13)
    _fill(clinic, full)
    episode = admit(clinic, assessed)
    enrollment = Enrollment.objects.get(episode=episode, ends_on__isnull=True)
    assert list(enrollment.groups.all()) == [day_group]
    booked = Booking.objects.filter(episode=episode, status=Booking.Status.BOOKED)
    assert {b.session.group_id for b in booked} == {day_group.pk} and booked.count() == 3
    assert admission_summary(episode) == (3, ["Day Group A"])
    assert "Booked 3 sessions in Day Group A." in admission_message(episode)


def test_a_full_track_is_refused_with_the_reason_and_nothing_is_written(clinic, assessed, day_group):
    Group.objects.filter(pk=day_group.pk).update(capacity=1)
    _fill(clinic, day_group)
    audit_rows = AuditEvent.objects.filter(object_type="referral", action=AuditAction.STATUS_CHANGED).count()
    with pytest.raises(ValidationError) as exc:
        admit(clinic, assessed)
    assert exc.value.message_dict["track"] == [
        "No group in the Day track has a free seat: add the patient to the waitlist or open a group."
    ]
    assessed.refresh_from_db()
    assert assessed.stage == "assessed" and assessed.episode is None
    assert not EpisodeOfCare.objects.filter(patient=assessed.patient).exists()
    assert not Enrollment.objects.filter(episode__patient=assessed.patient).exists()
    assert not WorkTask.objects.filter(episode__patient=assessed.patient).exists()
    assert AuditEvent.objects.filter(object_type="referral", action=AuditAction.STATUS_CHANGED).count() == audit_rows


def test_a_track_without_sessions_is_refused(clinic, assessed):
    with pytest.raises(ValidationError) as exc:
        admit(clinic, assessed, track=clinic.evening)
    assert "has no sessions scheduled" in exc.value.message_dict["track"][0]
    assert not EpisodeOfCare.objects.filter(patient=assessed.patient).exists()


def test_the_admit_page_shows_the_refusal_on_the_track(client, clinic, assessed, day_group):
    Group.objects.filter(pk=day_group.pk).update(is_open=False)
    Session.objects.filter(group=day_group).update(group=None)  # whole-track sessions, but all of them full
    Session.objects.filter(track=clinic.day).update(capacity=1, booked_count=1)
    client.force_login(clinic.intake)
    response = client.post(
        f"/referrals/{assessed.public_id}/admit/",
        {"program": clinic.mh.pk, "track": clinic.day.pk, "primary_clinician": clinic.clinician.pk,
         "admitted_on": today(clinic).isoformat()},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Every upcoming session of the Day track is full" in response.content.decode()
    assessed.refresh_from_db()
    assert assessed.stage == "assessed"


def test_the_admit_page_confirms_what_was_booked(client, clinic, assessed):
    client.force_login(clinic.intake)
    response = client.post(
        f"/referrals/{assessed.public_id}/admit/",
        {"program": clinic.mh.pk, "track": clinic.day.pk, "primary_clinician": clinic.clinician.pk,
         "admitted_on": today(clinic).isoformat()},
        follow=True,
    )  # fmt: skip
    assert "Booked 3 sessions in Day Group A." in response.content.decode()


def test_the_api_says_what_was_booked(client, clinic, assessed):
    client.force_login(clinic.intake)
    response = client.post(
        f"/api/v1/referrals/{assessed.public_id}/admit",
        {"program": str(clinic.mh.public_id), "track": str(clinic.day.public_id),
         "primary_clinician": str(clinic.clinician.public_id), "admitted_on": today(clinic).isoformat()},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sessions_booked"] == 3 and body["groups"] == ["Day Group A"] and body["previous_episode"] is None


# --- What the referral told us lands on the record ----------------------------------------------------------


def test_book_now_insurance_becomes_a_coverage_once(client, clinic):
    from openiop.referrals.actions import do_create_patient_from_referral

    referral = make_referral(
        clinic, source="book_now", payer_kind="commercial", payer_name="Aetna", member_id="W123456"
    )
    patient = do_create_patient_from_referral(referral, acting_user=clinic.intake, home_program=clinic.mh)
    coverage = Coverage.objects.get(patient=patient)
    assert (coverage.payer_name, coverage.member_id, coverage.payer_kind) == ("Aetna", "W123456", "commercial")
    assert coverage.priority == Coverage.Priority.PRIMARY and coverage.is_active
    referral.refresh_from_db()
    do_link_patient(referral, acting_user=clinic.intake, patient=patient)  # again: nothing new
    do_mark_assessed(referral, acting_user=clinic.clinician)
    referral.refresh_from_db()
    make_group_sessions(make_group(clinic.day, "Day Group A"))
    admit(clinic, referral)
    assert Coverage.objects.filter(patient=patient).count() == 1
    client.force_login(clinic.intake)
    html = client.get(f"/patients/{patient.public_id}/tabs/insurance/", headers=HX).content.decode()
    assert "Aetna" in html and "W123456" in html


def test_insurance_already_on_the_record_is_not_added_twice(clinic, assessed):
    do_add_coverage(assessed.patient, acting_user=clinic.intake, payer_name="Aetna ", member_id="w123456")
    Referral.objects.filter(pk=assessed.pk).update(payer_name="aetna", member_id="W123456")
    assessed.refresh_from_db()
    admit(clinic, assessed)
    assert Coverage.objects.filter(patient=assessed.patient).count() == 1


def test_a_family_referrer_becomes_a_support_contact(clinic):
    from openiop.referrals.actions import do_create_patient_from_referral

    referral = make_referral(clinic, source="family", referrer_name="Sam Example", referrer_phone="555-0199")
    patient = do_create_patient_from_referral(referral, acting_user=clinic.intake, home_program=clinic.mh)
    contact = SupportContact.objects.get(patient=patient)
    assert (contact.name, contact.phone) == ("Sam Example", "555-0199")
    referral.refresh_from_db()
    do_link_patient(referral, acting_user=clinic.intake, patient=patient)
    assert SupportContact.objects.filter(patient=patient).count() == 1


# --- Readmission --------------------------------------------------------------------------------------------


def test_a_readmission_links_the_previous_episode_emits_and_is_flagged(client, clinic, assessed):
    earlier = discharged_12_days_ago(clinic, assessed.patient)
    with events.listening(events.EpisodeReadmitted) as seen:
        episode = admit(clinic, assessed)
    episode.refresh_from_db()
    assert episode.previous_episode == earlier
    assert [(e.episode.pk, e.previous.pk) for e in seen] == [(episode.pk, earlier.pk)]
    assert "Readmission within 30 days (12 days after the last discharge)." in admission_message(episode)
    client.force_login(clinic.director)
    html = client.get(f"/patients/{assessed.patient.public_id}/tabs/episodes/", headers=HX).content.decode()
    assert "Readmission within 30 days (12 days after discharge)" in html


def test_a_first_admission_is_not_flagged(client, clinic, assessed):
    with events.listening(events.EpisodeReadmitted) as seen:
        episode = admit(clinic, assessed)
    assert seen == [] and episode.previous_episode is None
    client.force_login(clinic.intake)
    html = client.get(f"/patients/{assessed.patient.public_id}/tabs/episodes/", headers=HX).content.decode()
    assert "Readmission within" not in html


@pytest.mark.parametrize("person", ["outsider", "stranger"])
def test_the_readmission_flag_is_not_shown_outside_ones_programs(client, clinic, assessed, person):
    discharged_12_days_ago(clinic, assessed.patient)
    admit(clinic, assessed)
    client.force_login(getattr(clinic, person))
    response = client.get(f"/patients/{assessed.patient.public_id}/tabs/episodes/", headers=HX)
    assert response.status_code == 404


def test_a_placement_request_picks_the_group_that_fits_the_persons_hours(clinic, assessed, day_group):
    from datetime import time

    from openiop.scheduling.models import SessionSeries
    from openiop.scheduling.placement import do_save_placement_request
    from openiop.testing.scheduling import make_session_type

    afternoon = make_group(clinic.day, "Day Group B", capacity=4)  # fewer seats than A, but in the person's hours
    make_group_sessions(afternoon, hour=13)
    SessionSeries.objects.create(
        program=clinic.mh, track=clinic.day, group=afternoon, session_type=make_session_type(clinic.mh),
        rrule="FREQ=WEEKLY;BYDAY=MO,WE", starts_on=today(clinic), start_time=time(13), duration_minutes=90, capacity=4,
    )  # fmt: skip
    waiting = do_open_episode(assessed.patient, acting_user=None, program=clinic.mh, status="waitlist")
    do_save_placement_request(
        waiting, acting_user=clinic.intake, availability=[(0, time(12), time(16)), (2, time(12), time(16))]
    )
    do_change_stage(assessed, acting_user=clinic.intake, stage="waitlisted")
    episode = admit(clinic, assessed)
    assert admission_summary(episode) == (3, ["Day Group B"])


def test_the_referral_action_refuses_an_emergency_contact_without_a_phone(clinic):
    with pytest.raises(ValidationError) as refused:
        make_referral(clinic, emergency_name="Robin Example")
    assert "emergency_phone" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        make_referral(clinic, emergency_phone="555-0162", emergency_relationship="partner")
    assert "emergency_name" in refused.value.message_dict
