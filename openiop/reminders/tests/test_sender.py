"""The sender against a real SMTP server and a stub SMS API: once each, deterministic ids, retries, no PHI in logs."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

import pytest

from openiop.reminders import sms
from openiop.reminders.models import Channel, Reminder
from openiop.reminders.planner import plan_reminders
from openiop.reminders.sender import send_due
from openiop.reminders.tests.conftest import opt_in
from openiop.testing.scheduling import make_booking, make_session

S = Reminder.Status


@pytest.fixture
def due_session(clinic, patient):
    """A session in 90 minutes (program time 12:00 tomorrow, sent at 10:30): its 2-hour reminder is due."""
    tz = clinic.mh.tz()
    day = clinic.mh.now().date() + timedelta(days=1)
    starts = datetime.combine(day, time(12), tzinfo=tz)
    booking = make_booking(make_session(clinic.mh, starts), patient)
    return booking, datetime.combine(day, time(10, 30), tzinfo=tz)


def test_email_is_received_once_with_a_message_id_from_the_reminders_public_id(clinic, patient, due_session,
                                                                              smtp_inbox, caplog):  # fmt: skip
    _booking, now = due_session
    opt_in(patient, clinic.clinician, email=True)
    caplog.set_level(logging.DEBUG, logger="openiop")
    plan_reminders(now)
    assert send_due(now)["sent"] == 1
    assert send_due(now)["sent"] == 0
    [message] = smtp_inbox.messages
    row = Reminder.objects.get(status=S.SENT)
    assert message["Message-ID"] == f"<reminder.{row.public_id}@localhost>"
    assert message["To"] == "jordan@example.org"
    assert message["Subject"] == "Appointment reminder: Riverside"
    assert "today at 12:00 PM" in message.get_content()
    assert row.provider_message_id == row.message_id and row.sent_at is not None and row.attempts == 1
    assert row.claim_token is None and row.lease_until is None
    # Nothing identifying reaches our logs (the test SMTP server's own log is not ours).
    ours = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("openiop"))
    assert "jordan" not in ours.lower() and "555-0142" not in ours


def test_sms_posts_json_with_the_api_key_and_an_idempotency_key(clinic, patient, due_session, sms_stub):
    _booking, now = due_session
    opt_in(patient, clinic.clinician, email=False, sms=True)
    plan_reminders(now)
    assert send_due(now)["sent"] == 1
    [request] = sms_stub.requests
    row = Reminder.objects.get(status=S.SENT, channel=Channel.SMS)
    assert request["path"] == "/v1/messages"
    assert request["headers"]["x-api-key"] == "test-key-123"
    assert request["headers"]["content-type"] == "application/json"
    assert request["headers"]["idempotency-key"] == str(row.public_id)
    assert request["json"] == {
        "to": "555-0142",
        "from": "+15550100",
        "body": "You have an appointment at Riverside today at 12:00 PM. Details: http://127.0.0.1:8000/portal/",
        "reference": str(row.public_id),
    }
    assert row.provider_message_id == "msg-1"


def test_a_refused_sms_is_retried_later_then_marked_failed(clinic, patient, due_session, sms_stub, settings):
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "reminder_max_attempts": 2}
    _booking, now = due_session
    opt_in(patient, clinic.clinician, email=False, sms=True)
    plan_reminders(now)
    sms_stub.status = 503
    assert send_due(now)["retry"] == 1
    row = Reminder.objects.get(offset_minutes=120)
    assert (row.status, row.attempts, row.last_error) == (S.PENDING, 1, "SmsError")
    assert row.send_after == now + timedelta(minutes=10)
    assert send_due(now)["sent"] == 0  # not due again yet
    assert send_due(row.send_after)["failed"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (S.FAILED, 2)


def test_an_unreachable_smtp_server_is_retried(clinic, patient, due_session, settings):
    from openiop.testing.smtp import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    _booking, now = due_session
    opt_in(patient, clinic.clinician, email=True)
    plan_reminders(now)
    assert send_due(now)["retry"] == 1
    assert Reminder.objects.get(offset_minutes=120).status == S.PENDING


def test_with_sms_disabled_sms_reminders_are_dropped_with_the_reason(clinic, patient, due_session, settings):
    settings.SMS_PROVIDER = "disabled"
    _booking, now = due_session
    opt_in(patient, clinic.clinician, email=False, sms=True)
    plan_reminders(now)
    assert send_due(now)["dropped"] == 1
    assert Reminder.objects.get(offset_minutes=120).drop_reason == Reminder.DropReason.SMS_DISABLED


def test_disabled_provider_refuses_and_unknown_provider_is_an_error(settings):
    settings.SMS_PROVIDER = "disabled"
    provider = sms.get_provider()
    assert provider.enabled is False
    with pytest.raises(sms.SmsDisabled):
        provider.send(to="1", body="x", reference="r")
    settings.SMS_PROVIDER = "carrier-pigeon"
    with pytest.raises(sms.SmsError):
        sms.get_provider()


def test_an_expired_lease_makes_a_reminder_claimable_again_and_a_live_one_does_not(clinic, patient, due_session,
                                                                                  smtp_inbox):  # fmt: skip
    from openiop.reminders.sender import claim_next

    _booking, now = due_session
    opt_in(patient, clinic.clinician, email=True)
    plan_reminders(now)
    claim = claim_next(now)
    assert claim  # a sender took it and then died
    assert send_due(now)["sent"] == 0  # the lease still holds
    assert send_due(now + timedelta(minutes=6))["sent"] == 1  # lease (5 minutes) expired: sent by the next run
    assert len(smtp_inbox.messages) == 1
    assert Reminder.objects.get(offset_minutes=120).attempts == 2
