"""The demo clinic's reminder choices: about half of the admitted patients take email reminders, a third texts
(opted in by the front desk, as at registration), one keeps later quiet hours; then the planner runs, so the chart's
Reminders tab shows pending (and any quiet-hours-dropped) reminders. Nothing is sent: sending is the worker's
``send_reminders``, and the demo's email backend is the console anyway. Idempotent: a patient who already has a
preference row is left alone, and the planner's unique keys make a second run create nothing it made before."""

from __future__ import annotations

from datetime import date, time

from openiop.accounts.models import User
from openiop.core.roles import Role
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.programs.models import Organization
from openiop.reminders.actions import do_set_reminder_preferences
from openiop.reminders.models import ChangeSource, ReminderPreference
from openiop.reminders.planner import plan_reminders


def ensure_demo_reminders(org: Organization, today: date) -> int:
    """The patients whose reminder choices this run set (none on a second run)."""
    desk = User.objects.filter(organization=org, role=Role.FRONT_DESK, is_active=True).order_by("pk").first()
    if desk is None:
        return 0
    patients = list(
        Patient.objects.filter(organization=org, is_active=True, episodes__status=EpisodeOfCare.Status.ACTIVE)
        .distinct()
        .order_by("pk")
    )
    have = set(ReminderPreference.objects.filter(patient__in=patients).values_list("patient_id", flat=True))
    made = 0
    for index, patient in enumerate(patients):
        if patient.pk in have:
            continue
        email = bool(patient.email) and index % 2 == 0
        sms = bool(patient.phone_mobile) and index % 3 == 0
        if not (email or sms):
            continue
        quiet = {"quiet_start": time(22), "quiet_end": time(9)} if index == 0 else {}
        do_set_reminder_preferences(
            patient, acting_user=desk, email_opt_in=email, sms_opt_in=sms, source=ChangeSource.STAFF, **quiet
        )
        made += 1
    plan_reminders()
    return made
