"""Corrections after the fact: a reason, an audit row, and every earlier version kept."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.attendance.actions import do_check_in, do_correct_attendance
from openiop.attendance.models import AttendanceCorrection, AttendanceRecord
from openiop.attendance.tests.rosters import book_people, session_at
from openiop.core.audit import verify_chain
from openiop.core.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(clinic):
    session = session_at(clinic.mh, timezone.now().replace(second=0, microsecond=0) - timedelta(days=3))
    [booking] = book_people(clinic, session, 1)
    record = do_check_in(
        session, booking.patient, acting_user=clinic.frontdesk, status="present", participation="engaged"
    )
    return record


def test_a_correction_needs_a_reason(clinic, recorded):
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as excinfo:
            do_correct_attendance(recorded, acting_user=clinic.clinician, reason=reason, status="absent_excused")
        assert "reason" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        do_correct_attendance(recorded, acting_user=clinic.clinician, reason="x" * 301, status="absent_excused")
    assert "reason" in excinfo.value.message_dict
    recorded.refresh_from_db()
    assert recorded.version == 1 and recorded.status == "present"
    assert not AttendanceCorrection.objects.exists()


def test_every_earlier_version_is_kept_in_order_and_each_change_is_audited(clinic, recorded):
    steps: list[tuple[dict[str, Any], str]] = [
        ({"status": "late", "late_minutes": 20}, "Arrived at 9:20 per sign-in sheet"),
        ({"status": "late", "late_minutes": 20, "remark": "Bus delay"}, "Added the remark"),
        ({"status": "absent_unexcused"}, "Was not in the room; mixed up with another person"),
    ]
    for changes, reason in steps:
        recorded = do_correct_attendance(recorded, acting_user=clinic.clinician, reason=reason, **changes)
    recorded.refresh_from_db()
    assert recorded.version == 4
    assert recorded.status == "absent_unexcused"
    assert recorded.minutes_attended == 0 and recorded.participation == "" and recorded.late_minutes == 0
    assert recorded.remark == "Bus delay"
    history = list(AttendanceCorrection.objects.filter(record=recorded).order_by("version"))
    assert [h.version for h in history] == [1, 2, 3]
    assert [h.previous["status"] for h in history] == ["present", "late", "late"]
    assert history[0].previous["participation"] == "engaged"
    assert history[0].previous["minutes_attended"] == 60
    assert history[1].previous["late_minutes"] == 20 and history[1].previous["remark"] == ""
    assert [h.reason for h in history] == [reason for _, reason in steps]
    assert {h.corrected_by_id for h in history} == {clinic.clinician.pk}
    updates = AuditEvent.objects.filter(object_id=str(recorded.public_id), action=AuditAction.UPDATED).order_by(
        "chain_index"
    )
    assert [sorted(e.changed_fields) for e in updates] == [
        ["late_minutes", "minutes_attended", "status", "version"],
        ["remark", "version"],
        ["late_minutes", "minutes_attended", "participation", "status", "version"],
    ]
    # Field names only: neither the reason nor the remark reaches the audit trail.
    for event in updates:
        assert not {"Bus delay", "absent_unexcused"} & set(event.changed_fields)
        assert event.patient_id == recorded.patient_id
    assert verify_chain() == []


def test_a_correction_that_changes_nothing_is_refused(clinic, recorded):
    with pytest.raises(ValidationError):
        do_correct_attendance(recorded, acting_user=clinic.clinician, reason="Checked", status="present")
    assert AttendanceCorrection.objects.count() == 0


def test_a_correction_over_a_newer_version_is_refused(clinic, recorded):
    do_correct_attendance(recorded, acting_user=clinic.director, reason="Sign-in sheet", remark="Left at break")
    stale = AttendanceRecord.objects.get(pk=recorded.pk)
    with pytest.raises(ValidationError) as excinfo:
        do_correct_attendance(
            stale, acting_user=clinic.clinician, reason="Mine", expected_version=1, status="absent_excused"
        )
    assert "version" in excinfo.value.message_dict
    assert AttendanceRecord.objects.get(pk=recorded.pk).status == "present"


def test_a_correction_is_validated_like_a_check_in(clinic, recorded):
    with pytest.raises(ValidationError) as excinfo:
        do_correct_attendance(recorded, acting_user=clinic.clinician, reason="Typo", status="late")
    assert "late_minutes" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        do_correct_attendance(recorded, acting_user=clinic.clinician, reason="Typo", status="cancelled")
    assert "status" in excinfo.value.message_dict
    assert AttendanceRecord.objects.get(pk=recorded.pk).version == 1
