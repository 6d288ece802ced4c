"""Scheduling, partial answers, completion and scoring, links: through the real actions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.measures import actions
from openiop.measures.models import Administration, AdministrationLink, MeasureSchedule, Occasion
from openiop.measures.schedules import CSSRS, CSSRS_SLV, due_dates, schedules_for
from openiop.patients.actions import do_change_episode_status
from openiop.testing.measures import all_items, completed, phq9, start

STAFF = Administration.Channel.STAFF
LINK = Administration.Channel.LINK
ADMITTED = date(2026, 11, 2)  # a Monday (make_patient admits on it)


def _codes(administrations):
    return sorted((a.instrument_code, a.occasion, a.due_on.isoformat()) for a in administrations)


def test_defaults_schedule_the_weekly_measures_and_leave_non_commercial_ones_off(clinic):
    mh = {s.instrument_code: s for s in schedules_for(clinic.mh)}
    assert {"phq9", "gad7", CSSRS, "pcl5"} <= set(mh)
    assert "audit" not in mh and "dast10" not in mh and "auditc" not in mh  # substance-use only, or licensed
    assert mh["phq9"].weekly and mh["phq9"].follow_up_days == [7, 30, 90]
    assert not mh["pcl5"].weekly
    su = {s.instrument_code for s in schedules_for(clinic.su)}
    assert {"auditc", "bam"} <= su and "audit" not in su and "dast10" not in su


def test_intake_and_weekly_occasions_fall_on_the_configured_weekday(clinic, episode, settings):
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "measures_weekly_weekday": 2}  # Wednesday
    schedule = next(s for s in schedules_for(clinic.mh) if s.instrument_code == "phq9")
    dues = list(due_dates(schedule, episode, until=ADMITTED + timedelta(days=16)))
    assert [(d.occasion, d.due_on) for d in dues] == [
        (Occasion.INTAKE, ADMITTED),
        (Occasion.WEEKLY, date(2026, 11, 4)),
        (Occasion.WEEKLY, date(2026, 11, 11)),
        (Occasion.WEEKLY, date(2026, 11, 18)),
    ]


def test_scheduling_is_idempotent_and_skips_occasions_older_than_the_window(clinic, episode):
    today = ADMITTED + timedelta(days=21)  # Monday three weeks in; window 7 days
    first = actions.do_schedule_due(episode, today=today)
    again = actions.do_schedule_due(episode, today=today)
    assert again == []
    phq = [a for a in first if a.instrument_code == "phq9"]
    # Intake (21 days ago) and week 1 (14 days ago) are past the window; week 2 and week 3 are due.
    assert _codes(phq) == [("phq9", "weekly", "2026-11-16"), ("phq9", "weekly", "2026-11-23")]
    assert Administration.objects.filter(episode=episode, instrument_code="phq9").count() == 2
    row = AuditEvent.objects.filter(object_id=str(phq[0].public_id)).get()
    assert row.action == AuditAction.CREATED and row.changed_fields == ["due_on", "instrument_code", "occasion"]


def test_discharge_and_follow_ups_are_scheduled_after_discharge(clinic, episode):
    do_change_episode_status(episode, acting_user=clinic.clinician, status="discharged", on_date=date(2026, 12, 1),
                             discharge_reason="1")  # fmt: skip
    episode.refresh_from_db()
    made = actions.do_schedule_due(episode, today=date(2026, 12, 8))
    phq = _codes(a for a in made if a.instrument_code == "phq9")
    assert ("phq9", "discharge", "2026-12-01") in phq
    assert ("phq9", "follow_up_7", "2026-12-08") in phq
    assert not any(o == "weekly" and d >= "2026-12-01" for _, o, d in phq)  # no weekly on or after discharge


def test_nobody_is_asked_after_a_death(clinic, episode):
    do_change_episode_status(episode, acting_user=clinic.clinician, status="discharged", on_date=date(2026, 12, 1),
                             discharge_reason="6")  # fmt: skip
    episode.refresh_from_db()
    made = actions.do_schedule_due(episode, today=date(2026, 12, 8))
    assert not [a for a in made if a.occasion in ("discharge", "follow_up_7")]


def test_the_cssrs_is_the_recent_version_first_and_since_last_visit_afterwards(clinic, patient, episode):
    first = start(patient, clinic.clinician, CSSRS)
    assert first.instrument_code == CSSRS
    second = start(patient, clinic.clinician, CSSRS)
    assert second.instrument_code == CSSRS_SLV


def test_a_program_schedule_enables_audit_only_where_switched_on(clinic, su_patient):
    episode = su_patient.episodes.get()
    with pytest.raises(ValidationError) as exc:
        start(su_patient, clinic.director, "audit")
    assert "instrument_code" in exc.value.message_dict
    actions.do_set_schedules(
        clinic.su,
        acting_user=clinic.director,
        rows=[{"instrument_code": "audit", "is_active": True, "at_intake": True, "weekly": False,
               "weekly_weekday": 0, "at_discharge": True, "follow_up_days": [30]}],
    )  # fmt: skip
    assert [s.instrument_code for s in schedules_for(clinic.su)] == ["audit"]
    assert start(su_patient, clinic.director, "audit").episode == episode
    assert MeasureSchedule.objects.get(program=clinic.su).follow_up_days == [30]


def test_partial_answers_persist_and_survive_a_reload(clinic, patient):
    a = start(patient, clinic.clinician)
    actions.do_save_answers(a, {"phq9_1": "2", "phq9_2": 1}, acting_user=None, channel=LINK)
    actions.do_save_answers(a, {"phq9_3": 3}, acting_user=None, channel=LINK)
    a.refresh_from_db()
    assert a.answers == {"phq9_1": 2, "phq9_2": 1, "phq9_3": 3}
    assert a.status == Administration.Status.IN_PROGRESS and a.started_at is not None
    actions.do_save_answers(a, {"phq9_2": ""}, acting_user=None, channel=LINK)  # clearing an answer
    a.refresh_from_db()
    assert a.answers == {"phq9_1": 2, "phq9_3": 3}
    row = AuditEvent.objects.filter(object_id=str(a.public_id), action=AuditAction.UPDATED).first()
    assert row is not None and "answers" in row.changed_fields
    assert all(str(v) not in "".join(row.changed_fields) for v in (2, 3)) and row.actor is None


def test_a_bad_answer_is_refused_with_the_item_named_and_nothing_saved(clinic, patient):
    a = start(patient, clinic.clinician)
    with pytest.raises(ValidationError) as exc:
        actions.do_save_answers(a, {"phq9_1": 1, "phq9_2": 7}, acting_user=None, channel=LINK)
    assert list(exc.value.message_dict) == ["phq9_2"]
    a.refresh_from_db()
    assert a.answers == {} and a.status == Administration.Status.DUE


def test_completion_stores_the_score_and_a_single_missing_item_is_prorated(clinic, patient):
    answers = phq9(12)
    del answers["phq9_8"]
    a = completed(patient, clinic.clinician, "phq9", answers)
    assert a.status == Administration.Status.COMPLETED
    assert (a.total, a.prorated, a.band_key, a.missing_reason) == (14, True, "moderate", "")
    assert a.channel == STAFF and a.entered_by == clinic.clinician
    assert a.subscores == {"phq2": 6}


def test_too_many_missing_items_give_no_total_and_a_clear_reason(clinic, patient):
    a = completed(patient, clinic.clinician, "gad7", {"gad7_1": 1, "gad7_2": 2})
    assert a.total is None and a.band_key == ""
    assert a.missing_reason.startswith("5 of 7 items unanswered")


def test_a_completed_questionnaire_takes_no_more_answers(clinic, patient):
    a = completed(patient, clinic.clinician, "gad7", all_items("gad7", 1))
    with pytest.raises(ValidationError) as exc:
        actions.do_save_answers(a, {"gad7_1": 0}, acting_user=clinic.clinician, channel=STAFF)
    assert "administration" in exc.value.message_dict


def test_a_new_link_replaces_the_old_and_completion_uses_it_up(clinic, patient):
    a = start(patient, clinic.clinician)
    _old, old_token = actions.do_create_link(a, acting_user=clinic.clinician)
    new, token = actions.do_create_link(a, acting_user=clinic.clinician)
    assert actions.find_link(old_token) is None
    assert actions.find_link(token) == new
    assert new.token_hash != token and len(token) >= 40  # only the hash is stored
    actions.do_complete(a, acting_user=None, channel=LINK, answers=phq9(3))
    assert actions.find_link(token) is None
    new.refresh_from_db()
    assert new.used_at is not None


def test_expired_links_and_overdue_questionnaires(clinic, patient):
    a = start(patient, clinic.clinician)
    _, token = actions.do_create_link(a, acting_user=clinic.clinician, hours=1)
    assert actions.find_link(token, now=timezone.now() + timedelta(hours=2)) is None
    actions.do_save_answers(a, {"phq9_1": 1}, acting_user=None, channel=LINK)
    expired = actions.do_expire_overdue(today=a.due_on + timedelta(days=8))
    a.refresh_from_db()
    assert expired == 1 and a.status == Administration.Status.EXPIRED and a.answers == {"phq9_1": 1}
    assert AdministrationLink.objects.filter(administration=a).count() == 1


def test_the_daily_command_schedules_and_is_idempotent(clinic, patient, capsys):
    call_command("schedule_measures")
    first = Administration.objects.count()
    call_command("schedule_measures")
    assert Administration.objects.count() == first
    assert "questionnaires due" in capsys.readouterr().out


def test_a_score_belongs_to_the_programs_local_date_across_the_dst_change(clinic):
    """Adolescent IOP is in Chicago: 23:30 there on Sunday Nov 1, 2026 (the night clocks fall back) is already
    Monday in New York and in UTC; the score is Sunday's."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from openiop.testing.fixtures import make_patient

    teen = make_patient(clinic, clinic.teen, legal_first_name="Tee", legal_last_name="Nager")
    episode = teen.episodes.get()
    a = start(teen, clinic.outsider, "phq9", today=date(2026, 11, 1), episode=episode)
    late = datetime(2026, 11, 1, 23, 30, tzinfo=ZoneInfo("America/Chicago"))
    actions.do_complete(a, acting_user=clinic.outsider, channel=STAFF, answers=phq9(4), completed_at=late)
    a = Administration.objects.select_related("episode__program").get(pk=a.pk)
    assert a.when == date(2026, 11, 1)
    assert late.astimezone(ZoneInfo("America/New_York")).date() == date(2026, 11, 2)
    with pytest.raises(ValidationError) as exc:
        actions.do_complete(start(teen, clinic.outsider, "gad7", episode=episode), acting_user=None, channel=LINK,
                            completed_at=late)  # fmt: skip
    assert "completed_at" in exc.value.message_dict
