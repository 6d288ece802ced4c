"""Billable days: from one person's attendance on one program-local day, and the payer rule for that day, decide
whether the day earns a per diem, in which tier, and why. See README.md for the rule in full.

A check-in or correction does not decide the day in its own transaction: it leaves the day pending (a
``PendingBillableDay`` row, committed with the attendance) and queues ``billing.tasks.decide_billable_day`` for
after the commit. The decision is made under the episode lock, exactly once per request that asked for it: a second
delivery, or a sweep, finds nothing pending and does nothing; a lost one is made by the sweep (``decide_pending``,
every minute in the worker) or by the next reader of the day, since every reader of decisions settles what is
pending in its range first.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.attendance.hooks import AttendanceRecorded
from openiop.attendance.models import AttendanceRecord
from openiop.billing import rules
from openiop.billing.models import BillableDay, PayerRule, PendingBillableDay
from openiop.core.context import RequestOrigin, current_origin, reset_origin, set_origin
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program
from openiop.scheduling.models import Session

logger = logging.getLogger("openiop.billing")

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
    """``evaluate_day``, also saying whether the stored decision changed. A request pending for the day is answered
    by it (the decision reads the attendance after it has read the request)."""
    # No savepoint of its own: an error here ends the caller's transaction anyway.
    with transaction.atomic(savepoint=False):
        locked, payer_kind, pending = _lock(episode.pk, day)
        return _decide_and_store(locked, day, payer_kind, pending, acting_user)


def decide_pending_day(episode_id: int, day: date) -> tuple[bool, bool]:
    """Decide the day if a request for it is pending, on behalf of whoever asked last and as part of their request:
    (decided, the stored decision changed). Nothing pending (decided meanwhile): nothing written."""
    with transaction.atomic(savepoint=False):
        locked, payer_kind, pending = _lock(episode_id, day)
        if pending is None:
            # Whoever deleted the request read the attendance after it was committed: the day is decided on it.
            return False, False
        # The decision's audit row names the request that asked for it, not whichever process makes it.
        origin = set_origin(RequestOrigin(request_id=pending.request_id))
        try:
            return True, _decide_and_store(locked, day, payer_kind, pending, pending.requested_by)[1]
        finally:
            reset_origin(origin)


def _lock(episode_id: int, day: date) -> tuple[EpisodeOfCare, str, PendingBillableDay | None]:
    """The episode, locked, with the payer kind on the day, and the request pending for the day if any."""
    # The episode row lock serializes decisions of one person's days, so two decisions at once (two sessions'
    # check-ins, two deliveries of one task, a task and the sweep) each read committed attendance and the
    # create-or-update cannot race. The payer kind on the day comes in the same read (a subquery).
    locked = (
        EpisodeOfCare.objects.select_for_update(of=("self",))
        .select_related("program__site", "patient")
        .annotate(payer_kind_on_day=rules.payer_kind_subquery(day))
        .get(pk=episode_id)
    )
    # Read before the attendance: what a request read here covers was committed before it, so the day's records
    # read next include it.
    pending = PendingBillableDay.objects.filter(episode_id=episode_id, date=day).select_related("requested_by").first()
    return locked, locked.payer_kind_on_day or "", pending


def _decide_and_store(
    locked: EpisodeOfCare, day: date, payer_kind: str, pending: PendingBillableDay | None, acting_user: User | None
) -> tuple[BillableDay, bool]:
    from openiop.billing.actions import do_record_billable_day

    decision = decide_day(locked, day, payer_kind)
    if pending is not None:
        # Deleted before the audit row is written, so the locks are taken in the check-in's order (pending row,
        # then the audit chain head). A change that asked again meanwhile gave the row a new token: it stays, and
        # that change's own decision (or the sweep) reads it.
        PendingBillableDay.objects.filter(pk=pending.pk, token=pending.token).delete()
    return do_record_billable_day(locked, day, decision, acting_user=acting_user)


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
    request_decision(record.episode_id, local_date_of(session), event.acting_user)


# --- Decided after the commit -----------------------------------------------------------------------------------

# The (episode, day) pairs requested inside ``decided_on_exit``; None outside it.
_held: ContextVar[set[tuple[int, date]] | None] = ContextVar("openiop_billable_days_held", default=None)


def request_decision(episode_id: int, day: date, acting_user: User | None) -> None:
    """Leave the day pending in the caller's transaction and have it decided once that commits.

    Two statements: the episode's lock, then an upsert of the pending row (the unique (episode, date) index decides
    between two requests at once; the later one's token wins). The task is queued only after the commit, so it never
    runs before the attendance it must read is visible, and a rolled-back check-in queues nothing.
    """
    # The episode lock, taken here, before the caller's audit row locks the chain head. Without it the check-in would
    # first touch the episode at its COMMIT (Django's foreign keys are deferred: the attendance row's and this row's
    # checks take a share lock on the episode then) while holding the chain head, and a writer that holds the
    # episode and waits for the chain head (a decision of this day, a booking, a discharge) would deadlock with it
    # on PostgreSQL. So the order stays the project's: episode, pending row, chain head. NO KEY UPDATE: the row is
    # not changed. A no-op on SQLite, where the transaction already holds the database's write lock.
    list(EpisodeOfCare.objects.filter(pk=episode_id).select_for_update(no_key=True).values_list("pk", flat=True))
    PendingBillableDay.objects.bulk_create(
        [
            PendingBillableDay(
                episode_id=episode_id,
                date=day,
                token=uuid.uuid4(),
                requested_by=acting_user,
                request_id=current_origin().request_id,
                requested_at=timezone.now(),
            )
        ],
        update_conflicts=True,
        unique_fields=["episode", "date"],
        update_fields=["token", "requested_by", "request_id", "requested_at"],
    )
    held = _held.get()
    if held is not None:
        held.add((episode_id, day))
    else:
        transaction.on_commit(partial(_enqueue, episode_id, day.isoformat()))


def _enqueue(episode_id: int, day: str) -> None:
    from openiop.billing.tasks import decide_billable_day

    try:
        decide_billable_day.enqueue(episode_id, day)
    except Exception as exc:
        # The attendance is committed and the day stays pending: the sweep decides it within a minute or two.
        # The class only: the message could name the queue's address, and the day is a date of care.
        logger.error("billable day: could not queue its decision (%s); the sweep will make it", type(exc).__name__)


def decide_pending(
    *,
    program: Program | None = None,
    since: date | None = None,
    until: date | None = None,
    older_than: timedelta | None = None,
) -> int:
    """Decide the days pending (of one program, in a date range, asked for before ``older_than`` ago), each in its
    own transaction (or the caller's), oldest day first; returns how many were decided. Nothing pending costs one
    query. Readers of decisions call it for what they read; the worker's sweep for everything a minute old."""
    pending = PendingBillableDay.objects.all()
    if program is not None:
        pending = pending.filter(episode__program=program)
    if since is not None:
        pending = pending.filter(date__gte=since)
    if until is not None:
        pending = pending.filter(date__lte=until)
    if older_than is not None:
        pending = pending.filter(requested_at__lt=timezone.now() - older_than)
    pairs = list(pending.order_by("date", "episode_id").values_list("episode_id", "date"))
    return sum(decide_pending_day(episode_id, day)[0] for episode_id, day in pairs)


@contextmanager
def decided_on_exit() -> Iterator[None]:
    """Check-ins and corrections inside the block leave their days pending without queuing a task; leaving the
    block decides them, in the caller's transaction. For replays of many check-ins in one transaction (the demo's
    history, each check-in in a block of its own), which would otherwise queue a task for every one at its commit."""
    held: set[tuple[int, date]] = set()
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
    for episode_id, day in sorted(held, key=lambda p: (p[1], p[0])):
        decide_pending_day(episode_id, day)


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
