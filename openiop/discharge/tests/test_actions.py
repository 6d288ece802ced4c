"""Discharge actions: drafting, signing (with the episode, follow-ups and tasks in one go), unplanned discharge,
recording follow-ups, and everything that must be refused."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from openiop.core.models import AuditAction, AuditEvent
from openiop.discharge import actions
from openiop.discharge.actions import (
    FollowUpResult,
    do_record_follow_up,
    do_sign_discharge,
    do_start_discharge,
    do_update_aftercare,
    do_update_summary,
)
from openiop.discharge.models import AftercarePlan, DischargeSummary, FollowUp
from openiop.patients.actions import do_change_episode_status, do_open_episode
from openiop.patients.models import EpisodeOfCare
from openiop.testing.discharge import attend, drafted, signed, today
from openiop.testing.fixtures import make_patient
from openiop.testing.scheduling import admit
from openiop.worklist.models import WorkTask


@pytest.fixture
def episode(clinic) -> EpisodeOfCare:
    return admit(clinic, "Jordan", admitted_days_ago=30)


def test_signing_discharges_the_episode_and_schedules_7_30_90_day_follow_ups(clinic, episode):
    summary = drafted(episode, clinic.clinician)
    episode.refresh_from_db()
    assert episode.status == EpisodeOfCare.Status.ACTIVE  # planned: still in care until signed
    summary = do_sign_discharge(summary, acting_user=clinic.clinician)
    episode.refresh_from_db()
    assert summary.is_signed and summary.signed_by == clinic.clinician and summary.signed_at
    assert episode.status == EpisodeOfCare.Status.DISCHARGED
    assert episode.discharge_reason == EpisodeOfCare.DischargeReason.COMPLETED
    assert episode.discharged_on == today(episode)
    ups = list(FollowUp.objects.filter(episode=episode))
    assert [(f.days_after, f.due_on) for f in ups] == [(d, today(episode) + timedelta(days=d)) for d in (7, 30, 90)]
    tasks = WorkTask.objects.filter(episode=episode, kind=WorkTask.Kind.FOLLOW_UP).order_by("due_on")
    assert [t.due_on for t in tasks] == [f.due_on for f in ups]
    # No primary clinician on this episode: the work queue gives check-ins to the program's director.
    assert {t.assigned_to for t in tasks} == {clinic.director}
    assert [f.task_id for f in ups] == [t.pk for t in tasks]
    assert "Jordan" not in tasks[0].reason and "7 days after discharge" in tasks[0].reason
    assert AftercarePlan.objects.get(episode=episode).locked_at is not None
    status_rows = AuditEvent.objects.filter(action=AuditAction.STATUS_CHANGED, object_id=str(summary.public_id))
    assert "status" in status_rows.get().changed_fields


def test_follow_up_days_come_from_configuration(clinic, episode, settings):
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "follow_up_days": [14, 3]}
    signed(episode, clinic.clinician)
    assert list(FollowUp.objects.filter(episode=episode).values_list("days_after", flat=True)) == [3, 14]


def test_the_summary_due_date_follows_program_policy(clinic, episode, settings):
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "discharge_summary_due_days": 3}
    summary = do_start_discharge(episode, acting_user=clinic.clinician, reason="1", discharge_on=today(episode))
    assert summary.due_on == today(episode) + timedelta(days=3)


def test_a_patient_who_left_is_discharged_at_once_and_the_summary_waits(clinic, episode):
    left_on = today(episode) - timedelta(days=2)
    summary = do_start_discharge(
        episode, acting_user=clinic.clinician, reason="2", discharge_on=left_on, discharge_now=True
    )
    episode.refresh_from_db()
    assert episode.status == EpisodeOfCare.Status.DISCHARGED and episode.discharge_reason == "2"
    assert episode.discharged_on == left_on
    assert not summary.is_signed and summary.due_on == left_on + timedelta(days=7)
    # Follow-ups run from the day they left, not from when the summary is signed.
    assert FollowUp.objects.filter(episode=episode).first().due_on == left_on + timedelta(days=7)  # type: ignore[union-attr]
    with pytest.raises(ValidationError) as err:
        do_update_summary(summary, acting_user=clinic.clinician, reason="1")
    assert "reason" in err.value.message_dict
    do_update_summary(summary, acting_user=clinic.clinician, course_of_treatment="Left after week 3.")
    do_update_aftercare(
        AftercarePlan.objects.get(episode=episode), acting_user=clinic.clinician, step_down_level="none"
    )
    summary = do_sign_discharge(summary, acting_user=clinic.clinician)
    assert summary.is_signed
    assert FollowUp.objects.filter(episode=episode).count() == 3  # signing schedules nothing twice
    assert WorkTask.objects.filter(episode=episode, kind="follow_up").count() == 3


def test_an_episode_discharged_from_the_episodes_tab_gets_its_summary_with_the_episodes_reason(clinic, episode):
    do_change_episode_status(
        episode, acting_user=clinic.clinician, status="discharged", on_date=today(episode), discharge_reason="4"
    )
    summary = do_start_discharge(episode, acting_user=clinic.clinician, reason="1", discharge_on=None)
    assert summary.reason == "4" and summary.discharge_on == today(episode)
    assert FollowUp.objects.filter(episode=episode).count() == 3


def test_after_a_death_no_follow_ups_are_scheduled(clinic, episode):
    summary = drafted(episode, clinic.clinician, reason="6")
    do_sign_discharge(summary, acting_user=clinic.clinician)
    assert not FollowUp.objects.filter(episode=episode).exists()


def test_signing_needs_the_course_step_down_appointment_and_a_crisis_line(clinic, episode):
    summary = do_start_discharge(episode, acting_user=clinic.clinician, reason="1", discharge_on=today(episode))
    plan = AftercarePlan.objects.get(episode=episode)
    assert plan.safety_plan["professionals"][0].startswith("988")  # prefilled
    do_update_aftercare(plan, acting_user=clinic.clinician, safety_plan={}, step_down_level="outpatient_therapy")
    with pytest.raises(ValidationError) as err:
        do_sign_discharge(summary, acting_user=clinic.clinician)
    assert set(err.value.message_dict) == {"course_of_treatment", "appointment_provider", "safety_plan"}
    episode.refresh_from_db()
    assert episode.status == EpisodeOfCare.Status.ACTIVE
    assert not FollowUp.objects.exists()


def test_a_planned_discharge_cannot_be_signed_before_its_date(clinic, episode):
    summary = drafted(episode, clinic.clinician, days_ago=-3)
    with pytest.raises(ValidationError) as err:
        do_sign_discharge(summary, acting_user=clinic.clinician)
    assert "discharge_on" in err.value.message_dict


def test_a_failure_after_the_episode_is_discharged_leaves_nothing_half_done(clinic, episode):
    summary = drafted(episode, clinic.clinician)
    with (
        mock.patch.object(actions, "do_raise_task", side_effect=RuntimeError("queue down")),
        pytest.raises(RuntimeError),
    ):
        do_sign_discharge(summary, acting_user=clinic.clinician)
    episode.refresh_from_db()
    summary.refresh_from_db()
    assert episode.status == EpisodeOfCare.Status.ACTIVE and not episode.discharge_reason
    assert not summary.is_signed
    assert not FollowUp.objects.exists() and not WorkTask.objects.filter(kind="follow_up").exists()


def test_a_signed_summary_and_its_plan_never_change(clinic, episode):
    summary = signed(episode, clinic.clinician)
    with pytest.raises(ValidationError):
        do_update_summary(summary, acting_user=clinic.clinician, course_of_treatment="Rewritten.")
    with pytest.raises(ValidationError):
        do_update_aftercare(AftercarePlan.objects.get(episode=episode), acting_user=clinic.clinician, medications=[])
    with pytest.raises(ValidationError):
        do_sign_discharge(summary, acting_user=clinic.clinician)


def test_one_summary_per_episode_and_none_for_the_waitlist(clinic, episode):
    do_start_discharge(episode, acting_user=clinic.clinician, reason="1", discharge_on=today(episode))
    with pytest.raises(ValidationError):
        do_start_discharge(episode, acting_user=clinic.clinician, reason="1", discharge_on=today(episode))
    waiting = make_patient(clinic, admit=False, legal_first_name="Wren")
    waitlisted = do_open_episode(waiting, acting_user=None, program=clinic.mh, status="waitlist")
    with pytest.raises(ValidationError):
        do_start_discharge(waitlisted, acting_user=clinic.clinician, reason="1", discharge_on=today(waitlisted))


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"reason": "9"}, "reason"),
        ({"discharge_on": None}, "discharge_on"),
    ],
)
def test_bad_start_input_is_refused_by_field(clinic, episode, fields, error):
    values = {"reason": "1", "discharge_on": today(episode), **fields}
    with pytest.raises(ValidationError) as err:
        do_start_discharge(episode, acting_user=clinic.clinician, **values)
    assert error in err.value.message_dict
    assert not DischargeSummary.objects.exists()


def test_a_discharge_before_admission_is_refused(clinic, episode):
    with pytest.raises(ValidationError) as err:
        do_start_discharge(
            episode, acting_user=clinic.clinician, reason="1", discharge_on=episode.admitted_on - timedelta(days=1)
        )
    assert "discharge_on" in err.value.message_dict


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"support_groups": [{"schedule": "Mondays"}]}, "support_groups"),
        ({"safety_plan": {"unknown_heading": ["x"]}}, "safety_plan"),
        ({"relapse_prevention": {"triggers": "not a list"}}, "relapse_prevention"),
        ({"step_down_level": "other"}, "step_down_other"),
        ({"step_down_level": "hospital"}, "step_down_level"),
    ],
)
def test_bad_aftercare_input_is_refused_by_field(clinic, episode, fields, error):
    do_start_discharge(episode, acting_user=clinic.clinician, reason="1", discharge_on=today(episode))
    with pytest.raises(ValidationError) as err:
        do_update_aftercare(AftercarePlan.objects.get(episode=episode), acting_user=clinic.clinician, **fields)
    assert error in err.value.message_dict


def test_aftercare_lists_are_trimmed_and_blank_lines_dropped(clinic, episode):
    do_start_discharge(episode, acting_user=clinic.clinician, reason="1", discharge_on=today(episode))
    plan = AftercarePlan.objects.get(episode=episode)
    do_update_aftercare(
        plan,
        acting_user=clinic.clinician,
        medications=["  Naltrexone 50 mg ", ""],
        support_groups=[{"name": " AA ", "schedule": "Daily noon"}, {"name": "", "schedule": ""}],
        safety_plan={"warning_signs": [" Isolating ", " "], "coping_strategies": []},
    )
    plan.refresh_from_db()
    assert plan.medications == ["Naltrexone 50 mg"]
    assert plan.support_groups == [{"name": "AA", "schedule": "Daily noon"}]
    assert plan.safety_plan == {"warning_signs": ["Isolating"]}


def test_recording_a_follow_up_closes_its_task(clinic, episode):
    signed(episode, clinic.clinician)
    first = FollowUp.objects.filter(episode=episode).first()
    assert first is not None
    result = FollowUpResult(outcome="reached_aftercare", attending_aftercare=True, readmitted=False, note="Went.")
    follow_up = do_record_follow_up(first, acting_user=clinic.intern, result=result)
    assert follow_up.status == FollowUp.Status.DONE and follow_up.done_by == clinic.intern
    task = first.task
    assert task is not None
    assert task.status == WorkTask.Status.DONE and task.outcome == WorkTask.Outcome.REACHED
    assert task.closed_by == clinic.intern
    with pytest.raises(ValidationError) as err:
        do_record_follow_up(first, acting_user=clinic.intern, result=result)
    assert "outcome" in err.value.message_dict


def test_unable_to_reach_marks_the_follow_up_missed(clinic, episode):
    signed(episode, clinic.clinician)
    first = FollowUp.objects.filter(episode=episode).first()
    assert first is not None
    follow_up = do_record_follow_up(first, acting_user=clinic.clinician, result=FollowUpResult("unable_to_reach"))
    assert follow_up.status == FollowUp.Status.MISSED
    assert follow_up.attending_aftercare is None and follow_up.readmitted is None
    assert first.task is not None and first.task.outcome == WorkTask.Outcome.NO_ANSWER


def test_a_death_closes_the_remaining_follow_ups(clinic, episode):
    signed(episode, clinic.clinician)
    first, *rest = FollowUp.objects.filter(episode=episode)
    do_record_follow_up(first, acting_user=clinic.clinician, result=FollowUpResult("deceased"))
    for other in rest:
        other.refresh_from_db()
        assert other.status == FollowUp.Status.MISSED
        assert other.task is not None and other.task.outcome == WorkTask.Outcome.NOT_NEEDED


def test_readmitted_outcome_records_the_readmission(clinic, episode):
    signed(episode, clinic.clinician)
    first = FollowUp.objects.filter(episode=episode).first()
    assert first is not None
    result = FollowUpResult("readmitted", attending_aftercare=False)
    assert do_record_follow_up(first, acting_user=clinic.clinician, result=result).readmitted is True


@pytest.mark.parametrize(
    ("result", "error"),
    [
        (FollowUpResult(""), "outcome"),
        (FollowUpResult("reached_well"), "attending_aftercare"),
        (FollowUpResult("reached_well", attending_aftercare=True), "readmitted"),
        (FollowUpResult("declined", note="x" * 2001), "note"),
    ],
)
def test_bad_follow_up_input_is_refused_by_field(clinic, episode, result, error):
    signed(episode, clinic.clinician)
    first = FollowUp.objects.filter(episode=episode).first()
    assert first is not None
    with pytest.raises(ValidationError) as err:
        do_record_follow_up(first, acting_user=clinic.clinician, result=result)
    assert error in err.value.message_dict
    first.refresh_from_db()
    assert first.is_open


def test_the_summary_snapshots_attendance_and_dose_at_signing(clinic, episode):
    attend(episode, clinic.clinician, ["present", "present", "absent_unexcused", "late"])
    summary = signed(episode, clinic.clinician)
    snap = summary.attendance
    assert snap["sessions_held"] == 4 and snap["sessions_attended"] == 3
    assert snap["absences_unexcused"] == 1
    assert snap["attendance_rate"] == "75.0"
    assert snap["clinical_hours"] == "9.0"  # 175 minutes late-arrived still credit 3 clinical hours
    assert snap["weekly_minimum_hours"] == "9.0"
    assert snap["weeks"] >= 2 and snap["weeks_met"] <= snap["weeks"]
    # Attendance corrected after signing does not change the signed summary.
    attend(episode, clinic.clinician, ["present"], start_days_ago=12)
    summary.refresh_from_db()
    assert summary.attendance == snap
