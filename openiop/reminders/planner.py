"""The planner: creates the reminders that are due soon, once each, and drops those no longer wanted.

Idempotent: every reminder has a unique ``dedupe_key`` (kind, what it reminds about, channel, offset), so a second
run, or two runs at once, create nothing new (``bulk_create(ignore_conflicts=True)`` lets the database decide).
Pending reminders follow their target: a moved session moves its reminders, and a cancelled booking, a completed
questionnaire, a signed plan, a recorded check-in or an opt-out drops them with the reason recorded. A reminder
whose quiet-hours deferral would land after what it reminds about is created already dropped, so the chart shows
why nothing was sent.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from openiop.patients.models import Patient
from openiop.reminders import policy, targets
from openiop.reminders.models import Channel, Reminder, ReminderPreference

R = Reminder.DropReason
S = Reminder.Status
_CHUNK = 500


def _channels(pref: ReminderPreference, patient: Patient) -> list[str]:
    out: list[str] = []
    if pref.email_opt_in and patient.email:
        out.append(Channel.EMAIL)
    if pref.sms_opt_in and patient.phone_mobile:
        out.append(Channel.SMS)
    return out


def schedule(candidate: targets.Candidate, pref: ReminderPreference | None) -> tuple[datetime, str]:
    """(send_after, drop reason or ""): the candidate's time moved out of the quiet hours."""
    program = candidate.program
    quiet = policy.quiet_hours_for(pref, policy.policy_for(program))
    send_after = policy.deferred(candidate.send_at, quiet, program.tz())
    if candidate.event_at is not None and send_after >= candidate.event_at:
        return send_after, R.QUIET_HOURS
    return send_after, ""


def plan_reminders(now: datetime | None = None) -> dict[str, int]:
    """Create due reminders and drop unwanted ones; returns {"planned", "rescheduled", "dropped"}."""
    now = now or timezone.now()
    prefs = {
        p.patient_id: p
        for p in ReminderPreference.objects.filter(Q(email_opt_in=True) | Q(sms_opt_in=True)).select_related("patient")
    }
    counts = {"planned": 0, "rescheduled": 0, "dropped": 0}
    wanted: dict[str, Reminder] = {}
    for candidate in targets.all_candidates(now, prefs):
        pref = prefs[candidate.patient_id]
        if candidate.limited_catch_up and candidate.send_at < now - policy.catch_up():
            continue
        send_after, reason = schedule(candidate, pref)
        for channel in _channels(pref, pref.patient):
            key = candidate.key(channel)
            wanted[key] = Reminder(
                patient_id=candidate.patient_id,
                program=candidate.program,
                kind=candidate.kind,
                channel=channel,
                object_type=candidate.object_type,
                object_id=candidate.object_id,
                object_date=candidate.object_date,
                offset_minutes=candidate.offset_minutes,
                dedupe_key=key,
                event_at=candidate.event_at,
                send_after=send_after,
                status=S.DROPPED if reason else S.PENDING,
                drop_reason=reason,
            )
    keys = list(wanted)
    existing: dict[str, Reminder] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        existing.update({r.dedupe_key: r for r in Reminder.objects.filter(dedupe_key__in=chunk)})
    new = [row for key, row in wanted.items() if key not in existing]
    # ignore_conflicts: a concurrent planner may have inserted the same key since the read above.
    Reminder.objects.bulk_create(new, ignore_conflicts=True, batch_size=_CHUNK)
    counts["planned"] = sum(1 for r in new if r.status == S.PENDING)
    counts["dropped"] = sum(1 for r in new if r.status == S.DROPPED)
    for key, row in existing.items():
        if row.status != S.PENDING:
            continue
        target = wanted[key]
        if target.status == S.DROPPED:
            counts["dropped"] += Reminder.objects.filter(pk=row.pk, status=S.PENDING).update(
                status=S.DROPPED, drop_reason=target.drop_reason, updated_at=now
            )
        elif (row.send_after, row.event_at) != (target.send_after, target.event_at):
            counts["rescheduled"] += Reminder.objects.filter(pk=row.pk, status=S.PENDING).update(
                send_after=target.send_after, event_at=target.event_at, updated_at=now
            )
    counts["dropped"] += sweep(now)
    return counts


def sweep(now: datetime) -> int:
    """Drop pending reminders whose target is gone (cancelled, done, past) or whose channel was opted out."""
    pending = list(Reminder.objects.filter(status=S.PENDING).select_related("patient", "patient__reminder_preference"))
    if not pending:
        return 0
    reasons = targets.drop_reasons(pending, now)
    for row in pending:
        if row.pk in reasons:
            continue
        reason = channel_problem(row)
        if reason:
            reasons[row.pk] = reason
    dropped = 0
    for pk, reason in reasons.items():
        dropped += Reminder.objects.filter(pk=pk, status=S.PENDING).update(
            status=S.DROPPED, drop_reason=reason, updated_at=now
        )
    return dropped


def channel_problem(row: Reminder) -> str:
    """Why this channel may not be used for this patient now ("" when it may)."""
    patient = row.patient
    if not patient.is_active:
        return R.INACTIVE
    pref = getattr(patient, "reminder_preference", None)
    if pref is None or not pref.opted_in(row.channel):
        return R.OPTED_OUT
    address = patient.email if row.channel == Channel.EMAIL else patient.phone_mobile
    if not address:
        return R.NO_ADDRESS
    return ""
