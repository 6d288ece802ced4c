"""Who handles ``attendance_recorded``, in which order, and that a failing handler fails the check-in."""

from __future__ import annotations

import pytest

from openiop.attendance.actions import do_check_in
from openiop.attendance.hooks import AttendanceRecorded, attendance_recorded
from openiop.attendance.models import AttendanceRecord
from openiop.attendance.tests.rosters import book_people, running_session
from openiop.billing.days import on_attendance_recorded as billing_days
from openiop.core.models import AuditEvent
from openiop.notes.group_actions import on_attendance_recorded as notes_parts
from openiop.worklist.absence import on_attendance_recorded as absence_policy
from openiop.worklist.models import WorkTask


def test_the_apps_above_attendance_handle_it_in_their_documented_order():
    assert [(r.order, r.app, r.handler) for r in attendance_recorded.registrations] == [
        (10, "worklist", absence_policy),
        (20, "billing", billing_days),
        (30, "notes", notes_parts),
    ]


def test_ready_run_again_adds_no_second_handler():
    from django.apps import apps

    before = attendance_recorded.registrations
    for label in ("worklist", "billing", "notes"):
        apps.get_app_config(label).ready()
    assert attendance_recorded.registrations == before


def test_a_failing_handler_fails_the_check_in_and_keeps_nothing(clinic):
    session = running_session(clinic.mh)
    [booking] = book_people(clinic, session, 1)
    audit_rows = AuditEvent.objects.count()

    def boom(event: AttendanceRecorded) -> None:
        raise RuntimeError("handler failed")

    with attendance_recorded.registered(boom, order=15, app="test"), pytest.raises(RuntimeError, match="handler"):
        do_check_in(session, booking.patient, acting_user=clinic.frontdesk, status="absent_unexcused")
    assert not AttendanceRecord.objects.exists()
    assert not WorkTask.objects.filter(episode_id=booking.episode_id, kind__startswith="absence").exists()
    assert AuditEvent.objects.count() == audit_rows
