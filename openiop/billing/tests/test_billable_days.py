"""Billable days on hand-worked days, decided after every check-in and correction through the real actions (each
committed: see ``conftest.committed``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.core.management import call_command

from openiop.attendance.actions import do_check_in
from openiop.billing.days import day_bounds, evaluate_day
from openiop.billing.models import BillableDay
from openiop.billing.tests.conftest import LATE, UNEXCUSED, add_coverage, committed, local_day, make_day, rule
from openiop.core.models import AuditAction, AuditEvent
from openiop.testing.scheduling import make_booking, make_session

Tier = BillableDay.Tier


def test_two_services_are_not_a_medicare_day(clinic, rules):
    day = make_day(clinic)
    add_coverage(day.patient, "medicare")
    day.attend(2)
    decided = day.billable()
    assert (decided.is_billable, decided.tier, decided.service_count, decided.minutes_attended) == (
        False,
        Tier.NONE,
        2,
        110,
    )
    assert decided.rule == rules["medicare"]
    assert decided.payer_kind == "medicare"
    assert decided.reason == "2 services, 110 min: Medicare IOP (CMHC) needs 3 services"


def test_three_services_are_a_standard_medicare_day(clinic, rules):
    day = make_day(clinic)
    add_coverage(day.patient, "medicare")
    day.attend(3)
    decided = day.billable()
    assert (decided.is_billable, decided.tier, decided.service_count, decided.minutes_attended) == (
        True,
        Tier.STANDARD,
        3,
        165,
    )
    assert decided.reason == "3 services, 165 min: meets Medicare IOP (CMHC) (3 services); 4+ tier needs 4"


def test_four_services_are_the_higher_medicare_tier(clinic, rules):
    day = make_day(clinic)
    add_coverage(day.patient, "medicare")
    day.attend(4)
    decided = day.billable()
    assert (decided.is_billable, decided.tier, decided.service_count) == (True, Tier.HIGH, 4)
    assert decided.reason == "4 services, 220 min: meets Medicare IOP (CMHC) (3 services); 4+ service tier"


def test_without_coverage_the_organization_default_rule_decides(clinic, rules):
    day = make_day(clinic)
    day.attend(3)
    decided = day.billable()
    assert decided.rule == rules["default"]
    assert decided.payer_kind == ""
    assert not decided.is_billable
    assert decided.reason == "3 services, 165 min: Commercial psychiatric IOP needs 180 min"
    with committed():
        do_check_in(day.sessions[3], day.patient, acting_user=clinic.clinician, status="present")
    decided.refresh_from_db()
    assert (decided.is_billable, decided.tier, decided.minutes_attended) == (True, Tier.STANDARD, 220)
    assert decided.reason == "4 services, 220 min: meets Commercial psychiatric IOP (3 services, 180 min)"


def test_three_services_under_180_minutes_are_no_h0015_day(clinic, rules):
    day = make_day(clinic, clinic.su)
    add_coverage(day.patient, "commercial")
    day.attend(3)
    decided = day.billable()
    assert decided.rule == rules["sud"]
    assert not decided.is_billable
    assert decided.reason == "3 services, 165 min: SUD IOP needs 180 min"


def test_a_session_under_the_per_service_minimum_is_no_service(clinic):
    rule(clinic, name="Medicare IOP", payer_kind="medicare", min_services_per_day=3, min_minutes_per_service=30)
    day = make_day(clinic)
    add_coverage(day.patient, "medicare")
    day.attend(2)
    with committed():
        do_check_in(day.sessions[2], day.patient, acting_user=clinic.clinician, status=LATE, late_minutes=30)
    decided = day.billable()
    assert (decided.is_billable, decided.service_count, decided.minutes_attended) == (False, 2, 110)
    assert decided.reason == "2 services, 110 min: Medicare IOP needs 3 services (1 session under 30 min not counted)"


def test_no_rule_at_all_is_not_billable(clinic):
    day = make_day(clinic)
    day.attend(3)
    decided = day.billable()
    assert decided.rule is None and not decided.is_billable
    assert decided.reason == "3 services, 165 min: no payer rule"


def test_a_correction_that_drops_the_day_below_the_threshold_flips_it(clinic, rules):
    day = make_day(clinic)
    add_coverage(day.patient, "medicare")
    day.attend(3)
    decided = day.billable()
    assert decided.is_billable
    day.correct(1, UNEXCUSED)
    decided.refresh_from_db()
    assert (decided.is_billable, decided.tier, decided.service_count) == (False, Tier.NONE, 2)
    assert BillableDay.objects.filter(episode=day.episode).count() == 1
    updated = AuditEvent.objects.filter(
        action=AuditAction.UPDATED, object_type="billableday", object_id=str(decided.public_id)
    ).last()
    assert updated is not None
    assert set(updated.changed_fields) == {"is_billable", "tier", "service_count", "minutes_attended", "reason"}
    assert updated.patient_id == day.patient.pk


def test_sessions_that_do_not_count_toward_the_dose_are_not_services(clinic, rules):
    day = make_day(clinic, sessions=2)
    add_coverage(day.patient, "medicare")
    day.add_session(13, type_name="Lunch social", counts_toward_dose=False)
    day.attend(3)
    assert day.billable().service_count == 2


def test_the_day_is_the_programs_local_day(clinic, rules):
    """A 22:00 New York session is the next day in UTC; it still belongs to its local day."""
    day = make_day(clinic, sessions=2)
    add_coverage(day.patient, "medicare")
    late = make_session(clinic.mh, datetime.combine(day.date, time(22), tzinfo=clinic.mh.tz()), minutes=55)
    make_booking(late, day.patient, episode=day.episode)
    day.sessions.append(late)
    day.attend(3)
    assert day.billable().service_count == 3
    assert not BillableDay.objects.filter(episode=day.episode, date=day.date + timedelta(days=1)).exists()
    start, end = day_bounds(clinic.mh, day.date)
    assert start <= late.starts_at < end


def test_evaluating_again_writes_nothing(clinic, rules):
    day = make_day(clinic)
    day.attend(3)
    before = (AuditEvent.objects.count(), day.billable().evaluated_at)
    evaluate_day(day.episode, day.date)
    assert (AuditEvent.objects.count(), day.billable().evaluated_at) == before


def test_the_command_re_evaluates_a_program_since_a_date_and_is_idempotent(clinic, rules, capsys):
    day = make_day(clinic)
    day.attend(3)
    assert not day.billable().is_billable
    add_coverage(day.patient, "medicare")  # coverage entered late: the stored day is stale until re-evaluated
    args = ["--program", str(clinic.mh.public_id), "--since", str(day.date - timedelta(days=1))]
    call_command("evaluate_billable_days", *args)
    assert day.billable().is_billable
    assert "1 patient-day evaluated, 1 changed" in capsys.readouterr().out
    audit_rows = AuditEvent.objects.count()
    call_command("evaluate_billable_days", *args)
    assert "1 patient-day evaluated, 0 changed" in capsys.readouterr().out
    assert AuditEvent.objects.count() == audit_rows


def _hours(program, day) -> timedelta:
    # In UTC: Python subtracts two datetimes sharing one tzinfo as wall-clock times, which hides the DST hour.
    start, end = day_bounds(program, day)
    return end.astimezone(UTC) - start.astimezone(UTC)


def _latest_dst_change(program) -> date:
    today = local_day(program, 0)
    for back in range(1, 400):
        day = today - timedelta(days=back)
        if _hours(program, day) != timedelta(hours=24):
            return day
    raise AssertionError("no DST change in the last year")


def test_a_daylight_saving_day_keeps_its_first_and_last_sessions(clinic, rules):
    dst_day = _latest_dst_change(clinic.mh)
    assert _hours(clinic.mh, dst_day) in (timedelta(hours=23), timedelta(hours=25))
    day = make_day(clinic, sessions=0, days_ago=(local_day(clinic.mh, 0) - dst_day).days)
    add_coverage(day.patient, "medicare")
    for hour in (0, 12, 23):
        day.add_session(hour)
    day.attend(3)
    decided = day.billable()
    assert decided.date == dst_day
    assert decided.service_count == 3 and decided.is_billable
    assert BillableDay.objects.filter(episode=day.episode).count() == 1


def test_a_medicare_patient_in_the_sud_program_is_billed_under_the_medicare_rule(clinic, rules):
    # The SUD program has its own catch-all rule (H0015), but the payer decides what a billable day is.
    day = make_day(clinic, clinic.su)
    add_coverage(day.patient, "medicare")
    day.attend(3)
    decided = day.billable()
    assert decided.rule == rules["medicare"]
    assert decided.is_billable and decided.tier == Tier.STANDARD
