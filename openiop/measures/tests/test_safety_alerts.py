"""Safety alerts: raised iff a critical answer was given, in the same transaction; acknowledged, escalated exactly
once (a real SMTP server receives one message), resolved only with a documented action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openiop.core.models import AuditAction, AuditEvent
from openiop.measures import actions
from openiop.measures.alerts import escalate_overdue_alerts
from openiop.measures.models import Administration, SafetyAlert
from openiop.measures.schedules import CSSRS
from openiop.testing.measures import completed, phq9, start

LINK = Administration.Channel.LINK

# --- alert iff critical (property) ---------------------------------------------------------------------------

PHQ9_ITEMS = [f"phq9_{n}" for n in range(1, 10)]
answer = st.one_of(st.none(), st.integers(0, 3))
phq9_save = st.dictionaries(st.sampled_from(PHQ9_ITEMS), answer, max_size=9)

CSSRS_ITEMS = [f"{CSSRS}_{n}" for n in (1, 2, 3, 4, 5, 6)] + [f"{CSSRS}_6b"]
cssrs_save = st.dictionaries(st.sampled_from(CSSRS_ITEMS), st.one_of(st.none(), st.integers(0, 1)), max_size=7)


def _merge(state: dict, save: dict, hidden) -> dict:
    merged = {k: v for k, v in {**state, **save}.items() if v is not None}
    return {k: v for k, v in merged.items() if k not in hidden(merged)}


def _phq9_hidden(_: dict) -> set:
    return set()


def _phq9_critical(state: dict) -> bool:
    # The clinical rule itself, written out independently of the registry: item 9 above 0.
    return state.get("phq9_9", 0) > 0


def _cssrs_hidden(state: dict) -> set:
    hidden = set() if state.get(f"{CSSRS}_2") == 1 else {f"{CSSRS}_3", f"{CSSRS}_4", f"{CSSRS}_5"}
    if state.get(f"{CSSRS}_6") != 1:
        hidden.add(f"{CSSRS}_6b")
    return hidden


def _cssrs_critical(state: dict) -> bool:
    # Moderate or high risk: yes to 3, 4 or 5 (asked only after yes to 2), or any suicidal behaviour (6).
    asked_3_to_5 = state.get(f"{CSSRS}_2") == 1
    return state.get(f"{CSSRS}_6") == 1 or (asked_3_to_5 and any(state.get(f"{CSSRS}_{n}") == 1 for n in (3, 4, 5)))


def _run(clinic, patient, code, saves, complete, hidden, critical) -> None:
    administration = start(patient, clinic.clinician, code)
    state: dict = {}
    ever = False
    for save in saves:
        state = _merge(state, save, hidden)
        ever = ever or critical(state)
        actions.do_save_answers(administration, save, acting_user=None, channel=LINK)
    if complete:
        actions.do_complete(administration, acting_user=None, channel=LINK)
    administration.refresh_from_db()
    assert administration.answers == state
    alerts = SafetyAlert.objects.filter(administration=administration)
    assert alerts.exists() == ever, (saves, state)
    if ever:
        assert alerts.count() == 1


PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@PROPERTY
@given(saves=st.lists(phq9_save, min_size=1, max_size=4), complete=st.booleans())
def test_a_phq9_alert_exists_if_and_only_if_item_9_was_answered_above_0(clinic, patient, saves, complete):
    _run(clinic, patient, "phq9", saves, complete, _phq9_hidden, _phq9_critical)


@PROPERTY
@given(saves=st.lists(cssrs_save, min_size=1, max_size=4), complete=st.booleans())
def test_a_cssrs_alert_exists_if_and_only_if_the_screen_reached_moderate_or_high_risk(clinic, patient, saves, complete):
    # A fresh patient each time, so every example gets the "recent" version.
    from openiop.testing.fixtures import make_patient

    person = make_patient(clinic, legal_first_name="Prop", legal_last_name=f"Case{AuditEvent.objects.count()}")
    _run(clinic, person, CSSRS, saves, complete, _cssrs_hidden, _cssrs_critical)


def test_the_alert_names_items_and_risk_only_and_is_audited_with_the_answers(clinic, patient):
    a = completed(patient, clinic.clinician, "phq9", phq9(10, item9=2))
    alert = a.safety_alert
    assert (alert.reason, alert.items, alert.risk, alert.status) == ("critical_item", ["phq9_9"], "", "open")
    assert alert.patient == patient and alert.episode == a.episode
    row = AuditEvent.objects.get(object_type="safetyalert", action=AuditAction.CREATED)
    assert row.patient == patient and row.changed_fields == ["items", "reason", "risk"]


def test_an_error_after_the_answers_are_stored_rolls_the_alert_back_too(clinic, patient):
    a = start(patient, clinic.clinician)
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.do_save_answers(a, {"phq9_9": 3}, acting_user=None, channel=LINK)
        assert SafetyAlert.objects.filter(administration=a).exists()  # inside: both written together
        raise RuntimeError("the request failed after the save")
    a.refresh_from_db()
    assert a.answers == {} and not SafetyAlert.objects.filter(administration=a).exists()


def test_a_later_critical_answer_extends_the_one_alert(clinic, patient):
    a = start(patient, clinic.clinician, CSSRS)
    actions.do_save_answers(a, {f"{CSSRS}_1": 1, f"{CSSRS}_2": 1, f"{CSSRS}_3": 1}, acting_user=None, channel=LINK)
    actions.do_save_answers(a, {f"{CSSRS}_4": 1}, acting_user=None, channel=LINK)
    alert = SafetyAlert.objects.get(administration=a)
    assert alert.items == [f"{CSSRS}_3", f"{CSSRS}_4"]
    actions.do_save_answers(a, {f"{CSSRS}_5": 0, f"{CSSRS}_6": 0}, acting_user=None, channel=LINK)
    actions.do_complete(a, acting_user=None, channel=LINK)
    alert.refresh_from_db()
    assert alert.risk == "high"


# --- acknowledgement and resolution ------------------------------------------------------------------------


@pytest.fixture
def alert(clinic, patient) -> SafetyAlert:
    return completed(patient, clinic.clinician, "phq9", phq9(4, item9=1)).safety_alert


def test_acknowledgement_is_recorded_once(clinic, alert):
    actions.do_acknowledge_alert(alert, acting_user=clinic.clinician)
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == clinic.clinician
    assert alert.acknowledged_at is not None
    with pytest.raises(ValidationError) as exc:
        actions.do_acknowledge_alert(alert, acting_user=clinic.director)
    assert "alert" in exc.value.message_dict
    alert.refresh_from_db()
    assert alert.acknowledged_by == clinic.clinician
    row = AuditEvent.objects.get(object_type="safetyalert", action=AuditAction.STATUS_CHANGED)
    assert row.changed_fields == ["acknowledged_at", "acknowledged_by", "status"]


@pytest.mark.parametrize(
    ("action", "note", "fields"),
    [("", "Called the patient.", ["action"]), ("safety_plan", "  ", ["note"]), ("made_up", "", ["action", "note"])],
)
def test_resolution_requires_a_documented_action_and_a_note(clinic, alert, action, note, fields):
    with pytest.raises(ValidationError) as exc:
        actions.do_resolve_alert(alert, acting_user=clinic.clinician, action=action, note=note)
    assert sorted(exc.value.message_dict) == fields
    alert.refresh_from_db()
    assert alert.status == "open"


def test_resolving_an_open_alert_acknowledges_it_and_keeps_the_note_out_of_the_audit(clinic, alert):
    actions.do_resolve_alert(alert, acting_user=clinic.clinician, action="cssrs_done", note="C-SSRS low; plan made.")
    alert.refresh_from_db()
    assert (alert.status, alert.resolution_action, alert.resolution_note) == ("resolved", "cssrs_done",
                                                                              "C-SSRS low; plan made.")  # fmt: skip
    assert alert.acknowledged_by == clinic.clinician and alert.resolved_by == clinic.clinician
    row = AuditEvent.objects.filter(object_type="safetyalert", action=AuditAction.STATUS_CHANGED).get()
    assert "resolution_note" in row.changed_fields and "C-SSRS" not in str(row.changed_fields)
    with pytest.raises(ValidationError):
        actions.do_resolve_alert(alert, acting_user=clinic.director, action="other", note="again")


# --- escalation ---------------------------------------------------------------------------------------------


def test_escalation_emails_the_program_director_exactly_once(
    clinic, alert, smtp_inbox, django_capture_on_commit_callbacks
):
    later = alert.created_at + timedelta(minutes=61)
    assert escalate_overdue_alerts(alert.created_at + timedelta(minutes=59)) == 0  # default 60 minutes
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_overdue_alerts(later) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_overdue_alerts(later + timedelta(minutes=30)) == 0
    assert len(smtp_inbox.messages) == 1
    message = smtp_inbox.messages[0]
    assert smtp_inbox.envelopes[0]["to"] == ["director@example.org"]
    body = message.get_payload(decode=True).decode()
    assert body.startswith(f"A safety alert needs acknowledgement in {clinic.mh.name}: open OpenIOP")
    assert str(alert.public_id) in body
    for secret in ("Jordan", "Rivera", alert.patient.mrn, "PHQ", "item", str(alert.patient.public_id)):
        assert secret not in body and secret not in message["Subject"]
    alert.refresh_from_db()
    assert alert.escalated_at == later and alert.escalated_to == [clinic.director.public_id.hex]


def test_escalation_goes_to_the_configured_on_call_clinician_after_the_program_time(
    clinic, alert, smtp_inbox, django_capture_on_commit_callbacks
):
    actions.do_update_measures_config(
        clinic.mh, acting_user=clinic.director, on_call=clinic.clinician, escalation_minutes=15, email_label="Site A"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_overdue_alerts(alert.created_at + timedelta(minutes=16)) == 1
    assert smtp_inbox.envelopes[0]["to"] == ["clinician@example.org"]
    assert "in Site A: open OpenIOP" in smtp_inbox.messages[0].get_payload(decode=True).decode()


def test_an_acknowledged_alert_never_escalates(clinic, alert, smtp_inbox, django_capture_on_commit_callbacks):
    actions.do_acknowledge_alert(alert, acting_user=clinic.clinician)
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_overdue_alerts(timezone.now() + timedelta(days=1)) == 0
    assert smtp_inbox.messages == []


def test_a_failed_email_releases_the_claim_so_the_next_run_retries(
    clinic, alert, settings, smtp_inbox, django_capture_on_commit_callbacks
):
    settings.EMAIL_PORT = 1  # nothing listens there
    later = timezone.now() + timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        escalate_overdue_alerts(later)
    alert.refresh_from_db()
    assert alert.escalated_at is None
    settings.EMAIL_PORT = smtp_inbox.port
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_overdue_alerts(later) == 1
    assert len(smtp_inbox.messages) == 1


def test_the_escalate_command_reports_what_it_did(clinic, alert, smtp_inbox, capsys, settings):
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "safety_alert_escalation_minutes": 0}
    call_command("escalate_alerts")
    assert "1 safety alerts escalated" in capsys.readouterr().out


def test_a_substance_use_programs_email_names_the_site_not_the_program(
    clinic, su_patient, smtp_inbox, django_capture_on_commit_callbacks
):
    alert = completed(su_patient, clinic.director, "phq9", phq9(2, item9=3)).safety_alert
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_overdue_alerts(alert.created_at + timedelta(hours=1, minutes=1)) == 1
    body = smtp_inbox.messages[0].get_payload(decode=True).decode()
    assert f"in {clinic.site.name}: open OpenIOP" in body
    assert "Substance" not in body and "substance" not in body.lower()
