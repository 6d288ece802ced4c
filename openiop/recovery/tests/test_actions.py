"""The recovery supports writes: a meeting's rules (kind, other named, date window, mode, the writer's edit window),
the capital check-in only where the program asks it, the sponsor as a support contact, the program's setting, and
their audit rows (field names only, never the patient's words)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_change_episode_status
from openiop.patients.models import EpisodeOfCare, SupportContact
from openiop.recovery import policy
from openiop.recovery.actions import (
    current_sponsor,
    do_check_in_capital,
    do_log_meeting,
    do_set_recovery_policy,
    do_set_sponsor,
    do_update_meeting,
    editable,
)
from openiop.recovery.models import CapitalCheckIn, MeetingAttendance
from openiop.testing.fixtures import make_patient

NY = ZoneInfo("America/New_York")
# 11 PM in New York is already the next day in UTC: "today" is the program's.
NOW = datetime(2026, 12, 7, 23, 0, tzinfo=NY)
TODAY = date(2026, 12, 7)


def _log(patient, user, **values):
    fields = {"met_on": TODAY, "kind": "aa", "mode": "in_person"} | values
    return do_log_meeting(patient, acting_user=user, episode=patient.episodes.get(), now=NOW, **fields)


def test_a_meeting_is_logged_with_its_audit_row_naming_fields_only(su_patient, account):
    meeting = _log(su_patient, account.user, kind="smart", mode="online", note="Worked on urges.")
    assert (meeting.kind_label, meeting.get_mode_display(), meeting.episode.program.is_substance_use) == (
        "SMART Recovery", "Online", True,
    )  # fmt: skip
    row = AuditEvent.objects.latest("chain_index")
    assert (row.action, row.actor_id, row.patient_id) == (AuditAction.CREATED, account.user.pk, su_patient.pk)
    assert set(row.changed_fields) == {"met_on", "kind", "mode", "note"}
    assert "urges" not in str(row.__dict__)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": ""}, "kind"),
        ({"kind": "cocaine_anonymous"}, "kind"),
        ({"kind": "other"}, "kind_other"),
        ({"kind": "other", "kind_other": "x" * 121}, "kind_other"),
        ({"met_on": TODAY + timedelta(days=1)}, "met_on"),
        ({"met_on": TODAY - timedelta(days=15)}, "met_on"),
        ({"met_on": "2026-12-07"}, "met_on"),
        ({"met_on": None}, "met_on"),
        ({"mode": "phone"}, "mode"),
        ({"note": "n" * 1001}, "note"),
    ],
)
def test_bad_meetings_are_refused_naming_the_field(su_patient, account, values, field):
    with pytest.raises(ValidationError) as caught:
        _log(su_patient, account.user, **values)
    assert field in caught.value.message_dict
    assert not MeetingAttendance.objects.exists()


def test_the_date_window_is_the_programs_today_and_the_backdate_limit(su_patient, account):
    assert _log(su_patient, account.user, met_on=TODAY).met_on == TODAY  # 11 PM local, already tomorrow in UTC
    oldest = TODAY - policy.backdate_limit()
    assert _log(su_patient, account.user, met_on=oldest).met_on == oldest
    other = _log(su_patient, account.user, kind="other", kind_other="  Recovery Dharma ", met_on=TODAY)
    assert (other.kind_other, other.kind_label) == ("Recovery Dharma", "Recovery Dharma")
    assert _log(su_patient, account.user, kind="aa", kind_other="ignored").kind_other == ""


def test_only_an_open_episode_of_the_patient_takes_a_meeting(clinic, su_patient, account):
    other = make_patient(clinic, clinic.su, legal_first_name="Blair")
    with pytest.raises(ValidationError) as caught:
        do_log_meeting(su_patient, acting_user=account.user, episode=other.episodes.get(), now=NOW, met_on=TODAY,
                       kind="aa", mode="online")  # fmt: skip
    assert "episode" in caught.value.message_dict
    episode = su_patient.episodes.get()
    do_change_episode_status(episode, acting_user=clinic.director, status=EpisodeOfCare.Status.DISCHARGED,
                             on_date=date(2026, 12, 1), discharge_reason="1")  # fmt: skip
    with pytest.raises(ValidationError):
        _log(su_patient, account.user)
    with pytest.raises(TypeError):
        do_log_meeting(su_patient, acting_user=account.user, episode=episode, entered_by=clinic.director)


def test_the_database_refuses_an_unnamed_other(su_patient, account):
    with pytest.raises(IntegrityError), transaction.atomic():
        MeetingAttendance.objects.create(patient=su_patient, episode=su_patient.episodes.get(), met_on=TODAY,
                                         kind="other", entered_by=account.user)  # fmt: skip


def test_only_the_writer_changes_a_meeting_within_the_edit_window(clinic, su_patient, account):
    meeting = _log(su_patient, account.user, note="First.")
    later = meeting.created_at + policy.edit_window() - timedelta(minutes=1)
    assert editable(meeting, account.user, later) and not editable(meeting, clinic.director, later)
    updated = do_update_meeting(meeting, acting_user=account.user, now=later, note="Changed.", mode="online")
    assert (updated.note, updated.mode) == ("Changed.", "online")
    row = AuditEvent.objects.latest("chain_index")
    assert (row.action, sorted(row.changed_fields)) == (AuditAction.UPDATED, ["mode", "note"])
    with pytest.raises(ValidationError) as caught:
        do_update_meeting(meeting, acting_user=account.user, now=meeting.created_at + policy.edit_window(), note="x")
    assert "meeting" in caught.value.message_dict
    with pytest.raises(ValidationError):
        do_update_meeting(meeting, acting_user=clinic.director, now=later, note="x")
    with pytest.raises(ValidationError) as caught:
        do_update_meeting(meeting, acting_user=account.user, now=later, kind="other")
    assert "kind_other" in caught.value.message_dict
    meeting.refresh_from_db()
    assert meeting.note == "Changed."


def test_capital_check_ins_only_where_the_program_turns_them_on(clinic, su_patient, account):
    episode = su_patient.episodes.get()
    ratings = {"social": 2, "physical": 3, "human": 4, "cultural": 5}
    assert not policy.asks_capital(clinic.su) and not policy.capital_due(clinic.su, None, TODAY)
    with pytest.raises(ValidationError) as caught:
        do_check_in_capital(su_patient, acting_user=account.user, episode=episode, now=NOW, **ratings)
    assert "episode" in caught.value.message_dict
    do_set_recovery_policy(clinic.su, acting_user=clinic.director, capital_check_ins=True, capital_every_days=14)
    row = do_check_in_capital(su_patient, acting_user=account.user, episode=episode, now=NOW, **ratings)
    assert row.taken_on == TODAY and row.ratings() == [("Social", 2), ("Physical", 3), ("Personal", 4),
                                                        ("Community", 5)]  # fmt: skip
    assert not policy.capital_due(clinic.su, TODAY - timedelta(days=13), TODAY)
    assert policy.capital_due(clinic.su, TODAY - timedelta(days=14), TODAY)
    for bad in (0, 6, "five", None, True):
        with pytest.raises(ValidationError) as caught:
            do_check_in_capital(
                su_patient, acting_user=account.user, episode=episode, now=NOW, **(ratings | {"human": bad})
            )
        assert list(caught.value.message_dict) == ["human"]
    assert CapitalCheckIn.objects.count() == 1


def test_the_database_keeps_ratings_1_to_5(su_patient, account):
    with pytest.raises(IntegrityError), transaction.atomic():
        CapitalCheckIn.objects.create(patient=su_patient, episode=su_patient.episodes.get(), taken_on=TODAY,
                                      social=6, physical=1, human=1, cultural=1, entered_by=account.user)  # fmt: skip


def test_the_sponsor_is_a_support_contact_named_renamed_and_removed(su_patient, account):
    assert current_sponsor(su_patient) is None
    sponsor = do_set_sponsor(su_patient, acting_user=account.user, name=" Dana W. ", phone="555-0177")
    assert sponsor is not None
    assert (sponsor.name, sponsor.relationship, sponsor.involved_in_treatment) == ("Dana W.", "sponsor", False)
    renamed = do_set_sponsor(su_patient, acting_user=account.user, name="Dana Whitfield")
    assert renamed is not None and renamed.pk == sponsor.pk
    assert getattr(current_sponsor(su_patient), "name", None) == "Dana Whitfield"
    with pytest.raises(ValidationError) as caught:
        do_set_sponsor(su_patient, acting_user=account.user, name="", phone="555-0100")
    assert "name" in caught.value.message_dict
    assert do_set_sponsor(su_patient, acting_user=account.user, name="") is None
    assert current_sponsor(su_patient) is None
    assert SupportContact.objects.get(pk=sponsor.pk).is_active is False
    assert AuditEvent.objects.filter(object_type="supportcontact", action=AuditAction.DEACTIVATED).exists()


def test_the_program_setting_is_checked_and_audited(clinic):
    with pytest.raises(ValidationError) as caught:
        do_set_recovery_policy(clinic.su, acting_user=clinic.director, capital_check_ins=True, capital_every_days=3)
    assert "capital_every_days" in caught.value.message_dict
    row = do_set_recovery_policy(clinic.su, acting_user=clinic.director, capital_check_ins=True, capital_every_days=7)
    assert policy.policy_for(clinic.su).pk == row.pk and policy.asks_capital(clinic.su)
    event = AuditEvent.objects.latest("chain_index")
    assert (event.action, sorted(event.changed_fields)) == (AuditAction.CONFIG_CHANGED,
                                                            ["capital_check_ins", "capital_every_days"])  # fmt: skip
    count = AuditEvent.objects.count()
    do_set_recovery_policy(clinic.su, acting_user=clinic.director, capital_check_ins=True, capital_every_days=7)
    assert AuditEvent.objects.count() == count  # nothing changed, nothing audited
