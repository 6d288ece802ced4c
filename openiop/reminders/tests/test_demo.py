"""The demo seeds reminder choices and plans reminders without sending any (a second run changing nothing is core's
demo test)."""

from __future__ import annotations

from openiop.reminders.models import ChannelChange, Reminder, ReminderPreference


def test_demo_opts_patients_in_and_plans_without_sending(seeded_demo):
    prefs = ReminderPreference.objects.count()
    assert prefs > 10
    assert ReminderPreference.objects.filter(sms_opt_in=True).exists()
    assert ChannelChange.objects.filter(source="staff", changed_by__role="front_desk").count() >= prefs
    assert not Reminder.objects.filter(status__in=["sent", "sending"]).exists()
