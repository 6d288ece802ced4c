"""Reads for the chart's Reminders tab and the portal page; callers have checked access to the patient."""

from __future__ import annotations

from dataclasses import dataclass

from openiop.accounts.models import User
from openiop.core.permissions import program_ids_for
from openiop.patients.models import Patient
from openiop.programs.models import Program
from openiop.reminders import policy
from openiop.reminders.models import ChannelChange, Reminder, ReminderPreference

RECENT_REMINDERS = 25
RECENT_CHANGES = 10


@dataclass(frozen=True)
class Preferences:
    preference: ReminderPreference | None
    default_quiet: policy.QuietHours

    @property
    def email_opt_in(self) -> bool:
        return bool(self.preference and self.preference.email_opt_in)

    @property
    def sms_opt_in(self) -> bool:
        return bool(self.preference and self.preference.sms_opt_in)

    @property
    def quiet_label(self) -> str:
        p = self.preference
        quiet = policy.QuietHours(p.quiet_start, p.quiet_end) if p and p.quiet_start and p.quiet_end else None
        shown = quiet or self.default_quiet
        if shown.is_none:
            return "None"
        label = f"{shown.start:%H:%M}-{shown.end:%H:%M}"
        return label if quiet else f"{label} (the program's)"

    @property
    def own_quiet(self) -> bool:
        p = self.preference
        return p is not None and p.quiet_start is not None


def preferences_of(patient: Patient) -> Preferences:
    pref = ReminderPreference.objects.filter(patient=patient).first()
    home = Program.objects.select_related("site").get(pk=patient.home_program_id)
    p = policy.policy_for(home)
    return Preferences(preference=pref, default_quiet=policy.QuietHours(p.quiet_start, p.quiet_end))


def channel_changes(patient: Patient) -> list[ChannelChange]:
    return list(ChannelChange.objects.filter(patient=patient).select_related("changed_by")[:RECENT_CHANGES])


def recent_reminders(user: User, patient: Patient) -> list[Reminder]:
    """The patient's latest reminders in the user's programs only: a reminder names no program, but its time
    and kind would say the patient has appointments in a program the user may not know about."""
    return list(
        Reminder.objects.filter(patient=patient, program_id__in=program_ids_for(user)).order_by("-send_after", "-pk")[
            :RECENT_REMINDERS
        ]
    )
