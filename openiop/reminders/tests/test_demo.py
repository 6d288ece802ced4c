"""The demo seeds reminder choices and plans reminders without sending any; a second run changes nothing."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from openiop.core.models import AuditEvent
from openiop.reminders.models import ChannelChange, Reminder, ReminderPreference


def _run() -> None:
    call_command("demo", "--skip-schedule", stdout=StringIO())


def test_demo_opts_patients_in_and_plans_without_sending_and_is_idempotent(demo_command, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _run()
    prefs = ReminderPreference.objects.count()
    assert prefs > 10
    assert ReminderPreference.objects.filter(sms_opt_in=True).exists()
    assert ChannelChange.objects.filter(source="staff", changed_by__role="front_desk").count() >= prefs
    assert not Reminder.objects.filter(status__in=["sent", "sending"]).exists()
    counts = (ReminderPreference.objects.count(), ChannelChange.objects.count(), Reminder.objects.count())
    audit_rows = AuditEvent.objects.count()
    _run()
    assert (ReminderPreference.objects.count(), ChannelChange.objects.count(), Reminder.objects.count()) == counts
    assert AuditEvent.objects.count() == audit_rows
