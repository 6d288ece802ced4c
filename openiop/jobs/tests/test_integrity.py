"""The episode invariant checks: a state made by the actions has no violation; each one broken in the database
(bypassing the actions) shows under its code; a fixed number of queries; the command, the daily job and the page."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.jobs import integrity
from openiop.jobs.models import IntegrityReport
from openiop.jobs.periodic import DEFAULT_JOBS
from openiop.patients.actions import do_change_episode_status, do_update_episode
from openiop.patients.models import EpisodeOfCare
from openiop.reminders.models import Kind, Reminder
from openiop.reminders.targets import BOOKING, EPISODE_DAY, FOLLOW_UP
from openiop.scheduling.actions.booking import do_cancel_booking
from openiop.scheduling.models import Booking, Enrollment, Session, WaitlistEntry
from openiop.testing import snapshot
from openiop.testing.scheduling import (
    admit,
    admit_enrolled,
    local_at,
    make_booking,
    make_group,
    make_group_sessions,
    make_session,
)

pytestmark = pytest.mark.django_db
URL = reverse("jobs:status")


class World:
    """One program's Day track with a group and three sessions ahead; an active, an on-hold and a discharged
    episode, all admitted and enrolled through the actions."""

    def __init__(self, clinic) -> None:
        self.clinic = clinic
        self.group = make_group(clinic.day, "Day Group A", capacity=4)
        self.sessions = make_group_sessions(self.group)
        self.active = admit_enrolled(clinic, "Avery", self.group)
        self.held = admit_enrolled(clinic, "Blake", self.group)
        self.gone = admit_enrolled(clinic, "Casey", self.group)
        today = clinic.mh.now().date()
        do_change_episode_status(self.held, acting_user=clinic.director, status="on_hold", on_date=today)
        do_change_episode_status(
            self.gone, acting_user=clinic.director, status="discharged", on_date=today,
            discharge_reason=EpisodeOfCare.DischargeReason.COMPLETED,
        )  # fmt: skip
        for episode in (self.held, self.gone):
            episode.refresh_from_db()

    def reminder(self, episode, kind: str, object_type: str, object_id: int) -> Reminder:
        return Reminder.objects.create(
            patient=episode.patient, program=episode.program, kind=kind, channel="email", object_type=object_type,
            object_id=object_id, dedupe_key=f"{kind}:{object_type}:{object_id}", send_after=timezone.now(),
        )  # fmt: skip


@pytest.fixture
def world(clinic) -> World:
    # Every test starts from the same records: built once (a minute at most) per test process, restored for each.
    return snapshot.restored(__name__, lambda: World(clinic))


def codes(report: integrity.Report) -> dict[str, int]:
    return {code: n for code, n in report.counts.items() if n}


def test_a_state_made_by_the_actions_has_no_violation(world):
    assert Booking.objects.filter(episode=world.active, status="booked").count() == 3
    assert Booking.objects.filter(episode=world.gone, status="cancelled").count() == 3
    assert integrity.run_checks().violations == []


def test_every_check_is_documented_and_has_a_severity():
    docs = (Path(settings.PROJECT_DIR) / "docs" / "operations.md").read_text(encoding="utf-8")
    for code, check in integrity.CHECKS.items():
        assert f"`{code}`" in docs, code
        assert check.severity in (integrity.Severity.ERROR, integrity.Severity.WARNING)


# --- Each invariant broken, bypassing the actions ----------------------------------------------------------------


def test_a_discharged_episode_holding_a_seat_ahead(world):
    booking = make_booking(world.sessions[0], world.gone.patient, episode=world.gone)
    report = integrity.run_checks()
    assert codes(report) == {"booking_after_close": 1}
    (violation,) = report.violations
    assert violation.object_id == str(booking.public_id) and violation.episode_id == str(world.gone.public_id)
    assert violation.patient_id == str(world.gone.patient.public_id)
    assert violation.program_id == str(world.clinic.mh.public_id)
    assert "Casey" not in violation.line() and "discharged" in violation.message


def test_an_on_hold_episode_holding_a_seat_ahead(world):
    make_booking(world.sessions[1], world.held.patient, episode=world.held)
    assert codes(integrity.run_checks()) == {"booking_after_close": 1}


def test_a_hold_dated_ahead_keeps_the_seats_before_its_first_day(world):
    """As scheduling's handler does: a seat before the hold's first day stays, one from that day is flagged."""
    first, _, third = world.sessions
    day = timezone.localtime(third.starts_at, world.clinic.mh.tz()).date()
    EpisodeOfCare.objects.filter(pk=world.held.pk).update(holds=[[day.isoformat(), None]])
    make_booking(first, world.held.patient, episode=world.held)
    assert integrity.run_checks().violations == []
    make_booking(third, world.held.patient, episode=world.held)
    assert codes(integrity.run_checks()) == {"booking_after_close": 1}


def test_a_started_session_keeps_its_seat(world):
    started = make_session(world.clinic.mh, timezone.now() - timedelta(minutes=10), track=world.clinic.day)
    make_booking(started, world.gone.patient, episode=world.gone)
    assert integrity.run_checks().violations == []


def test_a_waitlisted_episode_holding_a_seat(world, clinic):
    EpisodeOfCare.objects.filter(pk=world.active.pk).update(status="waitlist", admitted_on=None)
    report = codes(integrity.run_checks())
    assert report["booking_after_close"] == 3 and report["enrollment_after_close"] == 1


def test_reminders_a_closed_episode_may_not_keep(world):
    released = Booking.objects.filter(episode=world.gone).earliest("pk")
    world.reminder(world.gone, Kind.SESSION, BOOKING, released.pk)
    world.reminder(world.gone, Kind.QUESTIONNAIRE, EPISODE_DAY, world.gone.pk)
    world.reminder(world.held, Kind.SESSION, BOOKING, Booking.objects.filter(episode=world.held).earliest("pk").pk)
    report = integrity.run_checks()
    assert codes(report) == {"reminder_after_close": 3}
    assert {v.episode_id for v in report.violations} == {str(world.gone.public_id), str(world.held.public_id)}


def test_reminders_a_closed_episode_may_keep(world):
    world.reminder(world.gone, Kind.FOLLOW_UP, FOLLOW_UP, 1)  # aftercare check-ins continue after discharge
    world.reminder(world.held, Kind.QUESTIONNAIRE, EPISODE_DAY, world.held.pk)  # a hold keeps questionnaires
    world.reminder(world.active, Kind.SESSION, BOOKING, Booking.objects.filter(episode=world.active).earliest("pk").pk)
    sent = world.reminder(world.gone, Kind.QUESTIONNAIRE, EPISODE_DAY, world.gone.pk)
    Reminder.objects.filter(pk=sent.pk).update(status=Reminder.Status.SENT)
    assert integrity.run_checks().violations == []


def test_waitlist_entries_and_offers_of_closed_episodes(world):
    WaitlistEntry.objects.create(episode=world.gone, group=world.group)
    WaitlistEntry.objects.create(episode=world.held, group=world.group)  # a hold keeps its place in line
    WaitlistEntry.objects.create(
        episode=world.held, session=world.sessions[0], status=WaitlistEntry.Status.OFFERED, offered_at=timezone.now()
    )
    report = integrity.run_checks()
    assert codes(report) == {"waitlist_after_close": 2}
    assert sorted(v.message for v in report.violations) == [
        "seat offer for a on hold episode",
        "waiting entry for a discharged episode",
    ]


def test_an_enrollment_left_open_by_a_discharge(world):
    Enrollment.objects.filter(episode=world.gone).update(ends_on=None)
    assert codes(integrity.run_checks()) == {"enrollment_after_close": 1}


def test_a_seat_counter_out_of_step(world):
    Session.objects.filter(pk=world.sessions[0].pk).update(booked_count=F("booked_count") + 1)
    report = integrity.run_checks()
    assert codes(report) == {"seat_count_mismatch": 1}
    assert report.violations[0].object_id == str(world.sessions[0].public_id)
    assert report.violations[0].message == "counter says 2 seats booked, bookings say 1"


def test_a_session_over_capacity(world, clinic):
    session = world.sessions[2]
    Session.objects.filter(pk=session.pk).update(capacity=1, booked_count=1)
    Booking.objects.create(session=session, episode=world.gone, patient=world.gone.patient, status="cancelled")
    other = admit(clinic, "Drew")
    Booking.objects.create(session=session, episode=other, patient=other.patient)
    found = codes(integrity.run_checks())
    assert found["session_over_capacity"] == 1 and found["seat_count_mismatch"] == 1


def test_a_seat_in_a_cancelled_session(world):
    Session.objects.filter(pk=world.sessions[0].pk).update(status=Session.Status.CANCELLED)
    assert codes(integrity.run_checks()) == {"booked_in_cancelled_session": 1}


def test_a_seat_in_another_programs_session(world, clinic):
    elsewhere = make_session(clinic.su, local_at(clinic.su, 2, 15))
    make_booking(elsewhere, world.active.patient, episode=world.active)
    report = integrity.run_checks()
    assert codes(report) == {"booking_mismatch": 1}
    assert report.violations[0].message == "the session belongs to another program than the episode"


def test_an_enrollment_in_another_tracks_group(world, clinic):
    evening_group = make_group(clinic.evening, "Evening Group")
    Enrollment.objects.get(episode=world.active, ends_on__isnull=True).groups.add(evening_group)
    report = integrity.run_checks()
    assert codes(report) == {"enrollment_mismatch": 1}
    assert str(evening_group.public_id) in report.violations[0].message


# --- Warnings: states the actions allow, worth a look ---------------------------------------------------------------


def test_an_active_episode_not_enrolled(world, clinic):
    waiting = admit(clinic, "Emery")
    report = integrity.run_checks()
    assert codes(report) == {"active_not_enrolled": 1}
    assert report.violations[0].object_id == str(waiting.public_id) and report.errors == []


def test_an_enrolled_episode_with_nothing_ahead(world, clinic):
    for booking in Booking.objects.filter(episode=world.active, status="booked"):
        do_cancel_booking(booking, acting_user=clinic.clinician)
    assert codes(integrity.run_checks()) == {"enrolled_nothing_ahead": 1}


def test_a_track_changed_on_the_episode_but_not_the_enrollment(world, clinic):
    do_update_episode(world.active, acting_user=clinic.director, track=clinic.evening)
    report = integrity.run_checks()
    assert codes(report) == {"track_mismatch": 1} and len(report.warnings) == 1


# --- Set-based -------------------------------------------------------------------------------------------------


def queries_for_checks() -> int:
    with CaptureQueriesContext(connection) as ctx:
        integrity.run_checks()
    return len(ctx.captured_queries)


def test_the_query_count_does_not_grow_with_the_data(world, clinic):
    make_booking(world.sessions[0], world.gone.patient, episode=world.gone)
    few = queries_for_checks()
    assert few == 15  # one per check, four for the reminders (released seats, their reminders, two kinds)
    for n in range(2):
        group = make_group(clinic.day, f"Day Group {n}")
        sessions = make_group_sessions(group, hour=13 + n)
        episode = admit_enrolled(clinic, f"Extra{n}", group)
        do_change_episode_status(
            episode, acting_user=clinic.director, status="discharged", on_date=clinic.mh.now().date(),
            discharge_reason=EpisodeOfCare.DischargeReason.COMPLETED,
        )  # fmt: skip
        make_booking(sessions[1], episode.patient, episode=episode)
        world.reminder(episode, Kind.QUESTIONNAIRE, EPISODE_DAY, episode.pk)
    Session.objects.update(booked_count=F("booked_count") + 0)
    assert queries_for_checks() == few
    assert codes(integrity.run_checks()) == {"booking_after_close": 3, "reminder_after_close": 2}


# --- The command ---------------------------------------------------------------------------------------------------


def run_command(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("check_integrity", *args, stdout=out)
    return out.getvalue()


def test_the_command_says_no_violations(world):
    assert run_command().strip() == "No violations."
    assert not IntegrityReport.objects.exists()


def test_the_command_prints_errors_and_fails(world):
    make_booking(world.sessions[0], world.gone.patient, episode=world.gone)
    with pytest.raises(CommandError) as caught:
        run_command()
    assert caught.value.returncode == 1


def test_the_command_lines_name_code_and_ids_only(world, capsys):
    from io import StringIO

    booking = make_booking(world.sessions[0], world.gone.patient, episode=world.gone)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_integrity", stdout=out)
    text = out.getvalue()
    assert f"ERROR booking_after_close: booking {booking.public_id} (episode {world.gone.public_id})" in text
    assert "1 error(s), 0 warning(s): booking_after_close 1" in text
    assert "Casey" not in text and world.gone.patient.mrn not in text


def test_warnings_pass_unless_strict(world, clinic):
    admit(clinic, "Emery")
    assert "WARNING active_not_enrolled: episode" in run_command()
    with pytest.raises(CommandError):
        run_command("--strict")


def test_the_command_as_json_and_recorded(world):
    make_booking(world.sessions[0], world.gone.patient, episode=world.gone)
    from io import StringIO

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_integrity", "--json", "--record", stdout=out)
    data = json.loads(out.getvalue())
    assert data["counts"]["booking_after_close"] == 1 and data["counts"]["seat_count_mismatch"] == 0
    assert data["violations"][0]["severity"] == "error"
    assert IntegrityReport.objects.get().errors == 1


def test_the_command_runs_one_check(world):
    make_booking(world.sessions[0], world.gone.patient, episode=world.gone)
    assert run_command("--check", "seat_count_mismatch").strip() == "No violations."


# --- The daily job and the page ------------------------------------------------------------------------------------


def test_the_worker_runs_it_daily():
    (job,) = [j for j in DEFAULT_JOBS if j.name == "check_integrity"]
    assert job.daily and job.path == "openiop.jobs.integrity.run_daily"


def test_the_daily_job_keeps_the_report(world):
    make_booking(world.sessions[0], world.gone.patient, episode=world.gone)
    assert integrity.run_daily() == {"errors": 1, "warnings": 0}
    report = IntegrityReport.objects.get()
    assert report.counts["booking_after_close"] == 1 and report.violations[0]["code"] == "booking_after_close"


def test_only_the_newest_reports_are_kept(world):
    for _ in range(integrity.REPORTS_KEPT + 2):
        integrity.save_report(integrity.run_checks(codes=["seat_count_mismatch"]))
    assert IntegrityReport.objects.count() == integrity.REPORTS_KEPT


def test_a_long_list_is_cut_but_counted(world, monkeypatch):
    monkeypatch.setattr(integrity, "LIST_MAX", 1)
    make_booking(world.sessions[0], world.gone.patient, episode=world.gone)
    make_booking(world.sessions[1], world.gone.patient, episode=world.gone)
    row = integrity.save_report(integrity.run_checks())
    assert row.counts["booking_after_close"] == 2 and len(row.violations) == 1 and row.left_out == 1


def test_the_page_before_any_check(client, clinic):
    page = login(client, clinic.director).get(URL).content.decode()
    assert "data-never" in page and 'data-check="booking_after_close"' in page


def test_the_page_shows_the_last_run_with_chart_links(client, world, clinic):
    booking = make_booking(world.sessions[0], world.gone.patient, episode=world.gone)
    integrity.run_daily()
    response = login(client, clinic.director).get(URL)
    page = response.content.decode()
    assert 'data-errors="1"' in page
    assert 'data-check="booking_after_close"' in page and 'data-count="1"' in page
    assert str(booking.public_id) in page
    assert reverse("patients:chart", args=[world.gone.patient.public_id]) in page
    assert "Casey" not in page


def test_sysadmins_see_the_list_without_chart_links(client, world, clinic):
    """Sysadmins manage every program of the organization but read no chart."""
    booking = make_booking(world.sessions[0], world.gone.patient, episode=world.gone)
    integrity.run_daily()
    page = login(client, clinic.sysadmin).get(URL).content.decode()
    assert str(booking.public_id) in page
    assert reverse("patients:chart", args=[world.gone.patient.public_id]) not in page


def test_another_organizations_director_sees_counts_but_not_the_list(client, world, clinic):
    booking = make_booking(world.sessions[0], world.gone.patient, episode=world.gone)
    integrity.run_daily()
    page = login(client, clinic.stranger).get(URL).content.decode()
    assert 'data-errors="1"' in page and "data-elsewhere" in page
    assert str(booking.public_id) not in page


@pytest.mark.parametrize("who", ["clinician", "outsider", "auditor", "frontdesk"])
def test_roles_without_program_management_are_refused(client, clinic, who):
    assert login(client, getattr(clinic, who)).get(URL).status_code == 403


def test_the_page_query_count_does_not_grow_with_the_report(client, world, clinic):
    login(client, clinic.director)
    make_booking(world.sessions[0], world.gone.patient, episode=world.gone)
    integrity.run_daily()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    make_booking(world.sessions[1], world.gone.patient, episode=world.gone)
    make_booking(world.sessions[2], world.held.patient, episode=world.held)
    integrity.run_daily()
    assert count() == few
