"""The absence policy: outreach after consecutive missed sessions, discharge review after unexcused absences in a
rolling window. The exact rules are in README.md; in short:

- The person's counting sessions are their attendance records in session order, leaving out sessions the
  program cancelled (status "cancelled by program", or a cancelled session): those neither break nor extend a streak.
- Outreach: a streak is a run of misses (excused or unexcused) between attended sessions; a streak of at least
  ``outreach_after_consecutive_misses`` fires once, keyed by its first missed session.
- Discharge review: unexcused absences in date order, grouped greedily into windows of ``review_window_days``
  program-local days (first and last absence at most window - 1 days apart); a window fires once it holds
  ``review_after_unexcused`` absences, keyed by its earliest absence, and the next window starts after it.
  No second review is raised while one is open for the episode.

Only triggers that involve the record just saved are raised (so a policy change never raises tasks for old history),
and a correction that dissolves a trigger closes that trigger's open task as "not needed".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.attendance.hooks import AttendanceRecorded
from openiop.attendance.models import AttendanceRecord
from openiop.attendance.policy import policy_for
from openiop.patients.models import EpisodeOfCare
from openiop.scheduling.models import Session
from openiop.worklist import actions
from openiop.worklist.models import WorkTask

Status = AttendanceRecord.Status
MISSED = frozenset(AttendanceRecord.MISSED)
ATTENDED = frozenset(AttendanceRecord.ATTENDED)
Kind = WorkTask.Kind


@dataclass(frozen=True)
class Item:
    """One counting session of the person, as the policy sees it."""

    record_id: int
    session_key: str  # the session's public id: stable, and no PHI
    status: str
    local_date: date
    label: str  # "Mon 2 Nov Process group"


@dataclass(frozen=True)
class Trigger:
    kind: str
    key: str
    items: tuple[Item, ...]

    @property
    def record_ids(self) -> frozenset[int]:
        return frozenset(i.record_id for i in self.items)


def _label(session: Session) -> str:
    local = timezone.localtime(session.starts_at, session.program.tz())
    return f"{local:%a} {local.day} {local:%b} {session.title or session.session_type.name}"


def load_items(episode: EpisodeOfCare) -> list[Item]:
    records = (
        AttendanceRecord.objects.filter(episode=episode)
        .exclude(session__status=Session.Status.CANCELLED)
        .select_related("session__session_type", "session__program")
        .order_by("session__starts_at", "pk")
    )
    tz = episode.program.tz()
    return [
        Item(
            record_id=r.pk,
            session_key=str(r.session.public_id),
            status=r.status,
            local_date=timezone.localtime(r.session.starts_at, tz).date(),
            label=_label(r.session),
        )
        for r in records
    ]


def outreach_triggers(episode_key: str, items: list[Item], misses: int) -> list[Trigger]:
    triggers: list[Trigger] = []
    streak: list[Item] = []

    def flush() -> None:
        if len(streak) >= misses:
            key = f"outreach:{episode_key}:{streak[0].session_key}"
            triggers.append(Trigger(Kind.OUTREACH, key, tuple(streak)))

    for item in items:
        if item.status in MISSED:
            streak.append(item)
        elif item.status in ATTENDED:
            flush()
            streak = []
        # Cancelled by the program: skipped, the streak goes on across it.
    flush()
    return triggers


def review_triggers(episode_key: str, items: list[Item], absences: int, window_days: int) -> list[Trigger]:
    triggers: list[Trigger] = []
    window: list[Item] = []
    for item in items:
        if item.status != Status.ABSENT_UNEXCUSED:
            continue
        window.append(item)
        # Dates d and d + window_days - 1 are inside one window; d + window_days is the next one.
        window = [w for w in window if (item.local_date - w.local_date).days < window_days]
        if len(window) >= absences:
            key = f"review:{episode_key}:{window[0].session_key}"
            triggers.append(Trigger(Kind.DISCHARGE_REVIEW, key, tuple(window)))
            window = []
    return triggers


def triggers_for(episode: EpisodeOfCare, items: list[Item]) -> list[Trigger]:
    policy = policy_for(episode.program)
    key = str(episode.public_id)
    return [
        *outreach_triggers(key, items, policy.outreach_after_consecutive_misses),
        *review_triggers(key, items, policy.review_after_unexcused, policy.review_window_days),
    ]


def _reason(trigger: Trigger, policy: Any) -> str:
    def status_word(item: Item) -> str:
        return "unexcused" if item.status == Status.ABSENT_UNEXCUSED else "excused"

    if trigger.kind == Kind.OUTREACH:
        shown = trigger.items[: policy.outreach_after_consecutive_misses]
        listed = ", ".join(f"{i.label} ({status_word(i)})" for i in shown)
        return f"Missed {len(shown)} sessions in a row: {listed}"
    shown = trigger.items
    listed = ", ".join(i.label for i in shown)
    return f"{len(shown)} unexcused absences within {policy.review_window_days} days: {listed}"


def _due_on(episode: EpisodeOfCare, days: int) -> date:
    return episode.program.now().date() + timedelta(days=days)


def apply_absence_policy(
    record: AttendanceRecord, previous: dict[str, Any] | None, *, acting_user: User | None
) -> list[WorkTask]:
    """Raise and close tasks after ``record`` was saved (``previous``: its fields before, None when new).

    Runs in the caller's transaction. The episode row is locked first, so two check-ins of one person (two sessions
    at once) are evaluated one after the other and the second sees the first's record: neither misses a streak the
    two make together, and the unique trigger key stops any second task for one trigger.
    """
    episode = (
        EpisodeOfCare.objects.select_for_update(of=("self",))
        .select_related("program__site", "patient", "primary_clinician")
        .get(pk=record.episode_id)
    )
    policy = policy_for(episode.program)
    after_items = load_items(episode)
    before_items = _before(after_items, record, previous)
    after = triggers_for(episode, after_items)
    before = triggers_for(episode, before_items)
    after_keys = {t.key for t in after}

    # The record itself, plus everything it was part of before: a correction of a streak's first miss moves the
    # streak's key to its new first miss, and that successor must be raised too.
    affected = {record.pk}
    for trigger in before:
        if record.pk in trigger.record_ids:
            affected |= trigger.record_ids

    labels = {i.record_id: i.label for i in after_items}
    touched: list[WorkTask] = []
    for trigger in before:
        if record.pk in trigger.record_ids and trigger.key not in after_keys:
            task = WorkTask.objects.filter(trigger_key=trigger.key, status=WorkTask.Status.OPEN).first()
            if task is not None:
                what = labels.get(record.pk, "a session")
                now = record.get_status_display().lower()
                note = f"Attendance corrected: {what} is now {now}, so this no longer applies."
                if actions.do_close_task_not_needed(task, acting_user=acting_user, note=note):
                    touched.append(task)

    if episode.status == EpisodeOfCare.Status.DISCHARGED:
        return touched
    for trigger in after:
        if not (trigger.record_ids & affected):
            continue
        due_days = policy.outreach_due_days if trigger.kind == Kind.OUTREACH else policy.review_due_days
        existing = WorkTask.objects.filter(trigger_key=trigger.key).first()
        if existing is not None:
            if actions.do_reopen_task(existing, acting_user=acting_user, due_on=_due_on(episode, due_days)):
                touched.append(existing)
            continue
        if (
            trigger.kind == Kind.DISCHARGE_REVIEW
            and WorkTask.objects.filter(episode=episode, kind=Kind.DISCHARGE_REVIEW, status=WorkTask.Status.OPEN)
            .exclude(trigger_key=trigger.key)
            .exists()
        ):
            continue
        task, created = actions.do_raise_task(
            acting_user=acting_user,
            episode=episode,
            kind=trigger.kind,
            trigger_key=trigger.key,
            reason=_reason(trigger, policy),
            due_on=_due_on(episode, due_days),
        )
        if created:
            touched.append(task)
    return touched


def _before(items: list[Item], record: AttendanceRecord, previous: dict[str, Any] | None) -> list[Item]:
    """The counting sessions as they were before this save."""
    if previous is None:
        return [i for i in items if i.record_id != record.pk]
    old_status = previous.get("status", record.status)
    result = []
    for item in items:
        if item.record_id == record.pk:
            result.append(replace(item, status=old_status))
        else:
            result.append(item)
    return result


def on_attendance_recorded(event: AttendanceRecorded) -> None:
    record, previous = event.record, event.previous
    if not _may_matter(record, previous):
        return
    # The hook is emitted inside the check-in's transaction; this joins it (a savepoint), never commits on its own.
    with transaction.atomic():
        apply_absence_policy(record, previous, acting_user=event.acting_user)


def _may_matter(record: AttendanceRecord, previous: dict[str, Any] | None) -> bool:
    """Whether the save can raise, reopen or close anything: every trigger is made of misses, and only triggers that
    hold the saved record are acted on, so a record that is not a miss now and was not one before changes nothing
    (most taps are "present": this spares them the episode lock and the history read)."""
    if record.status in MISSED:
        return True
    return previous is not None and previous.get("status", record.status) in MISSED
