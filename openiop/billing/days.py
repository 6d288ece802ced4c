"""Billable days: from one person's attendance on one program-local day, and the payer rule for that day, decide
whether the day earns a per diem, in which tier, and why. See README.md for the rule in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.attendance.hooks import AttendanceRecorded
from openiop.attendance.models import AttendanceRecord
from openiop.billing import rules
from openiop.billing.models import BillableDay, PayerRule
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program
from openiop.scheduling.models import Session

Tier = BillableDay.Tier
ATTENDED = frozenset(AttendanceRecord.ATTENDED)


@dataclass(frozen=True)
class Decision:
    rule: PayerRule | None
    payer_kind: str
    is_billable: bool
    tier: str
    service_count: int
    minutes_attended: int
    reason: str


def day_bounds(program: Program, day: date) -> tuple[datetime, datetime]:
    """The program-local day as an aware half-open interval (23 or 25 hours long on a DST change)."""
    tz = program.tz()
    return datetime.combine(day, time.min, tzinfo=tz), datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def decide(records: list[AttendanceRecord], rule: PayerRule | None, payer_kind: str) -> Decision:
    """Pure: the decision for one day's attendance records (sessions preloaded) under ``rule``."""
    attended = [
        r
        for r in records
        if r.status in ATTENDED
        and r.session.status != Session.Status.CANCELLED
        and r.session.session_type.counts_toward_dose
    ]
    per_service = rule.min_minutes_per_service if rule is not None else 1
    services = [r for r in attended if r.minutes_attended >= per_service]
    count = len(services)
    minutes = sum(r.minutes_attended for r in services)
    head = f"{_plural(count, 'service')}, {minutes} min"
    short = len(attended) - count
    tail = f" ({_plural(short, 'session')} under {per_service} min not counted)" if short else ""
    if rule is None:
        return Decision(None, payer_kind, False, Tier.NONE, count, minutes, f"{head}: no payer rule{tail}")
    needs = [_plural(rule.min_services_per_day, "service")]
    if rule.min_minutes_per_day:
        needs.append(f"{rule.min_minutes_per_day} min")
    billable = count >= rule.min_services_per_day and minutes >= rule.min_minutes_per_day
    if not billable:
        missing = []
        if count < rule.min_services_per_day:
            missing.append(_plural(rule.min_services_per_day, "service"))
        if minutes < rule.min_minutes_per_day:
            missing.append(f"{rule.min_minutes_per_day} min")
        reason = f"{head}: {rule.name} needs {' and '.join(missing)}{tail}"
        return Decision(rule, payer_kind, False, Tier.NONE, count, minutes, reason)
    reason = f"{head}: meets {rule.name} ({', '.join(needs)})"
    tier = Tier.STANDARD
    if rule.high_tier_services:
        if count >= rule.high_tier_services:
            tier = Tier.HIGH
            reason += f"; {rule.high_tier_services}+ service tier"
        else:
            reason += f"; {rule.high_tier_services}+ tier needs {rule.high_tier_services}"
    return Decision(rule, payer_kind, True, tier, count, minutes, reason + tail)


def day_records(episode: EpisodeOfCare, day: date) -> list[AttendanceRecord]:
    start, end = day_bounds(episode.program, day)
    return list(
        AttendanceRecord.objects.filter(episode=episode, session__starts_at__gte=start, session__starts_at__lt=end)
        .select_related("session__session_type")
        # What ``decide`` reads, no more: a person's day can hold many records, and each builds three objects.
        .only(
            "status",
            "minutes_attended",
            "session__status",
            "session__starts_at",
            "session__session_type__counts_toward_dose",
        )
        .order_by("session__starts_at", "pk")
    )


def decide_day(episode: EpisodeOfCare, day: date, payer_kind: str | None = None) -> Decision:
    """The decision for the episode's ``day``; ``payer_kind`` when the caller has read it (``rules.payer_kind_on``)."""
    if payer_kind is None:
        payer_kind = rules.payer_kind_on(episode, day)
    return decide(day_records(episode, day), rules.rule_for(episode, day, payer_kind), payer_kind)


def evaluate_day(episode: EpisodeOfCare, day: date, *, acting_user: User | None = None) -> BillableDay:
    """Decide ``day`` (program-local) for the episode and store the decision; the same decision writes nothing."""
    return evaluate_and_store(episode, day, acting_user=acting_user)[0]


def evaluate_and_store(
    episode: EpisodeOfCare, day: date, *, acting_user: User | None = None
) -> tuple[BillableDay, bool]:
    """``evaluate_day``, also saying whether the stored decision changed."""
    return _evaluate_locked(episode.pk, day, acting_user)


def _evaluate_locked(episode_id: int, day: date, acting_user: User | None) -> tuple[BillableDay, bool]:
    from openiop.billing.actions import do_record_billable_day

    # No savepoint of its own: an error here ends the caller's transaction anyway (receivers never swallow one).
    with transaction.atomic(savepoint=False):
        # The episode row lock serializes evaluations of one person's days, so two check-ins at once (two
        # sessions of one day) each decide on committed attendance and the create-or-update cannot race.
        # The payer kind on the day comes in the same read (a subquery), not in a query of its own.
        locked = (
            EpisodeOfCare.objects.select_for_update(of=("self",))
            .select_related("program__site", "patient")
            .annotate(payer_kind_on_day=rules.payer_kind_subquery(day))
            .get(pk=episode_id)
        )
        payer_kind = locked.payer_kind_on_day or ""
        return do_record_billable_day(locked, day, decide_day(locked, day, payer_kind), acting_user=acting_user)


def local_date_of(session: Session) -> date:
    return timezone.localtime(session.starts_at, session.program.tz()).date()


def on_attendance_recorded(event: AttendanceRecorded) -> None:
    record, previous = event.record, event.previous
    if previous is not None and (
        previous.get("status") == record.status and previous.get("minutes_attended") == record.minutes_attended
    ):
        # The decision reads only the status and minutes of each record (a remark or participation does not count).
        return
    # The action hands over the session it read in this transaction; read it only when it did not.
    if AttendanceRecord.session.is_cached(record) and Session.program.is_cached(record.session):
        session = record.session
    else:
        session = Session.objects.select_related("program").get(pk=record.session_id)
    _evaluate_locked(record.episode_id, local_date_of(session), event.acting_user)


def days_to_evaluate(program: Program, since: date, until: date | None = None) -> list[tuple[int, date]]:
    """(episode id, local date) pairs with attendance or an earlier decision in the range, in date order."""
    start, _ = day_bounds(program, since)
    records = AttendanceRecord.objects.filter(session__program=program, session__starts_at__gte=start)
    decided = BillableDay.objects.filter(program=program, date__gte=since)
    if until is not None:
        _, end = day_bounds(program, until)
        records = records.filter(session__starts_at__lt=end)
        decided = decided.filter(date__lte=until)
    tz = program.tz()
    pairs = {(e, timezone.localtime(s, tz).date()) for e, s in records.values_list("episode_id", "session__starts_at")}
    pairs |= set(decided.values_list("episode_id", "date"))
    return sorted(pairs, key=lambda p: (p[1], p[0]))
