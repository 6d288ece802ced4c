"""Admission: an assessed referral becomes an active episode with its due dates on the work queue."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_add_coverage, do_change_episode_status, do_open_episode
from openiop.patients.models import EpisodeOfCare
from openiop.referrals.actions import do_change_stage, do_link_patient, do_mark_assessed
from openiop.referrals.admission import do_admit
from openiop.referrals.models import Referral
from openiop.scheduling.models import Enrollment
from openiop.testing.fixtures import make_patient
from openiop.testing.referrals import make_referral
from openiop.worklist.models import WorkTask

pytestmark = pytest.mark.django_db


def today(clinic) -> date:
    return clinic.mh.now().date()


@pytest.fixture
def assessed(clinic):
    """An assessed referral linked to a registered patient without an episode."""
    patient = make_patient(clinic, admit=False, legal_first_name="Robin", legal_last_name="Example")
    referral = make_referral(clinic)
    do_link_patient(referral, acting_user=clinic.intake, patient=patient)
    do_mark_assessed(referral, acting_user=clinic.clinician)
    referral.refresh_from_db()
    return referral


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
    patient = assessed.patient
    earlier = do_open_episode(
        patient, acting_user=None, program=clinic.su, admitted_on=today(clinic) - timedelta(days=60)
    )
    do_change_episode_status(
        earlier, acting_user=clinic.director, status="discharged", on_date=today(clinic) - timedelta(days=12),
        discharge_reason=EpisodeOfCare.DischargeReason.DROPPED_OUT,
    )  # fmt: skip
    episode = admit(clinic, assessed)
    assessed.refresh_from_db()
    assert assessed.is_readmission
    task = WorkTask.objects.get(episode=episode, kind=WorkTask.Kind.READMISSION_REVIEW)
    assert "12 days" in task.reason


def test_a_discharge_longer_ago_is_not_a_readmission(clinic, assessed, settings):
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "readmission_window_days": 10}
    earlier = do_open_episode(
        assessed.patient, acting_user=None, program=clinic.su, admitted_on=today(clinic) - timedelta(days=60)
    )
    do_change_episode_status(
        earlier, acting_user=clinic.director, status="discharged", on_date=today(clinic) - timedelta(days=12),
        discharge_reason=EpisodeOfCare.DischargeReason.COMPLETED,
    )  # fmt: skip
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
