"""Practice-log writes: validation keyed by field, craving only where asked, the edit window and its writer, the
program's skills list; audit rows with field names only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.portal.tests.care_support import patient_account
from openiop.skills import policy
from openiop.skills.actions import do_log_practice, do_set_practice_policy, do_update_practice, editable
from openiop.skills.models import PracticePolicy


@pytest.fixture
def writer(patient):
    return patient_account(patient).user


def _log(patient, writer, **values):
    values.setdefault("skill", "Box breathing")
    values.setdefault("practiced_at", timezone.now())
    return do_log_practice(patient, acting_user=writer, episode=patient.episodes.get(), **values)


def test_an_entry_is_audited_with_field_names_only(patient, writer):
    entry = _log(patient, writer, how_it_went="Private words.", mood=5)
    row = AuditEvent.objects.latest("chain_index")
    assert (row.action, row.actor_id, row.object_type) == (AuditAction.CREATED, writer.pk, "practiceentry")
    assert row.changed_fields == ["how_it_went", "mood", "practiced_at", "skill"]
    assert entry.skill_label == "Box breathing"


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"skill": ""}, {"skill"}),
        ({"skill": "Juggling"}, {"skill"}),
        ({"skill": "other"}, {"skill_other"}),
        ({"mood": 11, "craving": -1}, {"mood", "craving"}),
        ({"practiced_at": None}, {"practiced_at"}),
        ({"practiced_at": timezone.now() + timedelta(hours=2)}, {"practiced_at"}),
        ({"how_it_went": "x" * 2001}, {"how_it_went"}),
    ],
)
def test_bad_values_name_their_fields(patient, writer, values, errors):
    with pytest.raises(ValidationError) as exc:
        _log(patient, writer, **values)
    assert set(exc.value.message_dict) == errors


def test_craving_is_dropped_where_the_program_does_not_ask(patient, writer, clinic):
    assert _log(patient, writer, craving=6).craving is None
    do_set_practice_policy(clinic.mh, acting_user=clinic.director, skills=[], craving="ask")
    assert _log(patient, writer, craving=6).craving == 6


def test_a_discharged_or_foreign_episode_is_refused(clinic, patient, writer):
    from openiop.testing.scheduling import admit

    other = admit(clinic, "Other")
    with pytest.raises(ValidationError) as exc:
        do_log_practice(patient, acting_user=writer, episode=other, skill="Box breathing", practiced_at=timezone.now())
    assert set(exc.value.message_dict) == {"episode"}


def test_edits_only_by_the_writer_within_the_window(patient, writer, clinic):
    entry = _log(patient, writer, mood=3)
    entry = do_update_practice(entry, acting_user=writer, mood=8)
    assert entry.mood == 8
    row = AuditEvent.objects.latest("chain_index")
    assert (row.action, row.changed_fields) == (AuditAction.UPDATED, ["mood"])
    assert not editable(entry, clinic.clinician)
    later = entry.created_at + policy.edit_window() + timedelta(minutes=1)
    with pytest.raises(ValidationError) as exc:
        do_update_practice(entry, acting_user=writer, mood=1, now=later)
    assert set(exc.value.message_dict) == {"entry"}


def test_the_program_list_replaces_the_defaults_and_is_audited(clinic, settings):
    assert policy.skills_for(clinic.mh)[0] == "Box breathing"
    skills = [" Wise mind ", "", "Wise mind", "DEAR MAN"]
    row = do_set_practice_policy(clinic.mh, acting_user=clinic.director, skills=skills, craving="never")
    assert row.skills == ["Wise mind", "DEAR MAN"]
    clinic.mh.refresh_from_db()
    assert policy.skills_for(clinic.mh) == ["Wise mind", "DEAR MAN"] and not policy.asks_craving(clinic.mh)
    audit_row = AuditEvent.objects.latest("chain_index")
    assert (audit_row.action, audit_row.changed_fields) == (AuditAction.CONFIG_CHANGED, ["craving", "skills"])
    with pytest.raises(ValidationError) as exc:
        do_set_practice_policy(clinic.mh, acting_user=clinic.director, skills=["Other"], craving="sometimes")
    assert set(exc.value.message_dict) == {"skills", "craving"}
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "skills_practice_skills": ["Only one"]}
    assert policy.skills_for(clinic.su) == ["Only one"]  # read at call time
    assert policy.asks_craving(clinic.su) and PracticePolicy.objects.count() == 1
