"""Episode invariants: what must be true of the episodes of care and what hangs off them, checked in a live database.

The episode's transitions (``patients.actions``) tell the apps above through ``patients.events``, and their handlers
(``scheduling.episode_events``, ``reminders.episode_events``) take back what a closed episode may no longer hold. This
module states the result as data and checks it, set-based (each check runs a fixed number of queries whatever the
size of the database):

- ``KEEPS``: per episode status, what the episode may still hold once the handlers of the transition into it ran.
  A new status, or a transition that changes what one keeps, is one row here (and, where it needs its own query, one
  check below).
- ``CHECKS``: named checks (``@check(code, severity, summary)``), each yielding :class:`Violation` rows with a stable
  code, a message and the offending object's public id. Messages and rows carry public ids only: no names, no dates
  of care (they go to logs, the command's output and the ``/jobs/`` page).

Severities: an **error** is a state the actions never leave (a bug, or a write that bypassed them: the command exits
non-zero); a **warning** is one the actions allow but that someone should look at (an active episode with nothing on
its schedule). ``openiop check_integrity`` prints them; the worker runs ``run_daily`` once a day and keeps the report
(``IntegrityReport``) for the ``/jobs/`` page. The hypothesis state machine in ``tests/test_episode_invariants.py``
drives the real actions in random orders and asserts no error after every step.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from openiop.jobs.models import IntegrityReport
from openiop.patients.models import EpisodeOfCare
from openiop.plans.models import PlanVersion
from openiop.reminders.models import Kind, Reminder
from openiop.reminders.targets import BOOKING, EPISODE_DAY, PLAN_VERSION
from openiop.scheduling.models import Booking, Enrollment, Session, WaitlistEntry

S = EpisodeOfCare.Status
LIST_MAX = 200  # violations kept in a stored report (the counts are always complete)
REPORTS_KEPT = 30  # stored reports; older ones are deleted when a new one is saved


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


# --- What each status may keep ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keeps:
    """What an episode in one status may still hold after the handlers of the transition into it ran.

    ``bookings_ahead``: booked seats in sessions that have not started (for on hold: from the hold's first day, since
    a hold dated ahead keeps the sessions before it). ``reminders``: the kinds of pending reminders it may have besides
    appointment reminders, which follow ``bookings_ahead`` (an appointment reminder of a seat it may not hold is a
    violation). Follow-up check-in reminders are never checked: they belong to the discharge and continue after it."""

    bookings_ahead: bool
    enrollment: bool
    waiting: bool  # waitlist entries waiting for a seat
    offers: bool  # an outstanding seat offer
    reminders: frozenset[str]


ALL_REMINDERS = frozenset(Kind.values)
KEEPS: dict[str, Keeps] = {
    # Waitlisted: not admitted, so nothing booked and no enrollment (booking and enrolling need an active episode);
    # it may wait on waitlists, but offers go to active episodes only.
    S.WAITLIST: Keeps(bookings_ahead=False, enrollment=False, waiting=True, offers=False, reminders=frozenset()),
    S.ACTIVE: Keeps(bookings_ahead=True, enrollment=True, waiting=True, offers=True, reminders=ALL_REMINDERS),
    # On hold (scheduling.on_put_on_hold, reminders.on_put_on_hold): seats released, an outstanding offer back to the
    # line, the enrollment and the waiting entries kept; questionnaire and signature reminders stay.
    S.ON_HOLD: Keeps(
        bookings_ahead=False,
        enrollment=True,
        waiting=True,
        offers=False,
        reminders=frozenset({Kind.QUESTIONNAIRE, Kind.PLAN_SIGNATURE, Kind.FOLLOW_UP}),
    ),
    # Discharged (scheduling.on_discharged, reminders.on_discharged): seats cancelled, enrollment ended, entries and
    # offers withdrawn, every pending reminder dropped but the follow-up check-ins.
    S.DISCHARGED: Keeps(
        bookings_ahead=False, enrollment=False, waiting=False, offers=False, reminders=frozenset({Kind.FOLLOW_UP})
    ),
}


def _statuses(allowed: Callable[[Keeps], bool]) -> list[str]:
    """The statuses whose ``KEEPS`` row does not allow a thing."""
    return [status for status, keeps in KEEPS.items() if not allowed(keeps)]


def closed_from(status: str, holds: list[Any] | None, tz: ZoneInfo, now: datetime) -> datetime:
    """From when an episode in ``status`` may hold no seat: now, or for a hold dated ahead the start of its first
    (program-local) day, as scheduling's handlers release them."""
    if status == S.ON_HOLD and holds and holds[-1][1] is None:
        first_day = date.fromisoformat(holds[-1][0])
        return max(now, datetime.combine(first_day, time.min, tzinfo=tz))
    return now


# --- Violations and checks --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    code: str
    object_type: str
    object_id: str  # the offending row's public id
    message: str
    episode_id: str = ""  # the episode concerned (public id), when there is one
    patient_id: str = ""  # its patient's public id: the page links the chart for those who may see it
    program_id: str = ""  # the program's public id: the page lists a violation to those who manage the program

    def line(self) -> str:
        where = f" (episode {self.episode_id})" if self.episode_id and self.object_type != "episode" else ""
        return f"{self.code}: {self.object_type} {self.object_id}{where}: {self.message}"


@dataclass(frozen=True)
class Check:
    code: str
    severity: Severity
    summary: str  # what the code means, for the command's help, the page and docs/operations.md
    find: Callable[[datetime], Iterable[Violation]]


CHECKS: dict[str, Check] = {}


def check(code: str, severity: Severity, summary: str) -> Callable[[Callable[[datetime], Iterable[Violation]]], Any]:
    """Register a check under a stable ``code``; it receives ``now`` and yields its violations."""

    def register(find: Callable[[datetime], Iterable[Violation]]) -> Callable[[datetime], Iterable[Violation]]:
        if code in CHECKS:
            raise ValueError(f"integrity check {code} registered twice")
        CHECKS[code] = Check(code, severity, summary, find)
        return find

    return register


_EPISODE_IDS = ("episode__public_id", "episode__patient__public_id", "episode__program__public_id")


_OWN_IDS = ("public_id", "patient__public_id", "program__public_id")  # an episode's own


def _ids(row: dict[str, Any]) -> dict[str, str]:
    """The episode, patient and program public ids of a row read with ``_EPISODE_IDS``."""
    episode, patient, program = (str(row[name]) for name in _EPISODE_IDS)
    return {"episode_id": episode, "patient_id": patient, "program_id": program}


# --- Closed episodes: seats, waitlists, enrollments, reminders ----------------------------------------------------


def _seats_closed(now: datetime) -> QuerySet[Booking]:
    """Every seat (booked or not) in a session not started yet, of an episode whose status may hold none."""
    return Booking.objects.filter(session__starts_at__gt=now, episode__status__in=_statuses(lambda k: k.bookings_ahead))


def _after_close(row: dict[str, Any], now: datetime) -> bool:
    tz = ZoneInfo(row["episode__program__time_zone"])
    return row["session__starts_at"] >= closed_from(row["episode__status"], row["episode__holds"], tz, now)


_SEAT_FIELDS = ("session__starts_at", "episode__status", "episode__holds", "episode__program__time_zone")


@check(
    "booking_after_close",
    Severity.ERROR,
    "A booked seat in a session that has not started, held by an episode that is discharged, on hold (from the "
    "hold's first day) or still waitlisted.",
)
def _booking_after_close(now: datetime) -> Iterator[Violation]:
    rows = _seats_closed(now).filter(status=Booking.Status.BOOKED).values("public_id", *_SEAT_FIELDS, *_EPISODE_IDS)
    for row in rows.order_by("session__starts_at", "pk"):
        if _after_close(row, now):
            status = S(row["episode__status"]).label.lower()
            yield Violation(
                "booking_after_close", "booking", str(row["public_id"]),
                f"booked seat in a session not started yet, for a {status} episode", **_ids(row),
            )  # fmt: skip


@check(
    "reminder_after_close",
    Severity.ERROR,
    "A pending reminder an episode's status does not allow: an appointment reminder of a seat from the check above, "
    "or a questionnaire or signature reminder of a discharged (or waitlisted) episode. Follow-up check-ins may stay.",
)
def _reminder_after_close(now: datetime) -> Iterator[Violation]:
    pending = Reminder.objects.filter(status=Reminder.Status.PENDING)
    seats = {
        row["pk"]: row
        for row in _seats_closed(now).values("pk", *_SEAT_FIELDS, *_EPISODE_IDS)
        if _after_close(row, now)
    }
    appointments = pending.filter(
        kind=Kind.SESSION, object_type=BOOKING, object_id__in=_seats_closed(now).values("pk")
    ).values_list("public_id", "object_id")
    for public_id, booking_pk in appointments.order_by("pk"):
        if booking_pk in seats:
            row = seats[booking_pk]
            status = S(row["episode__status"]).label.lower()
            yield Violation(
                "reminder_after_close", "reminder", str(public_id),
                f"pending appointment reminder of a released seat, for a {status} episode", **_ids(row),
            )  # fmt: skip
    # Other kinds: the episode each reminds about, as a subquery on the reminder's object.
    subjects: dict[str, tuple[str, Any]] = {
        Kind.QUESTIONNAIRE: (EPISODE_DAY, F("object_id")),
        Kind.PLAN_SIGNATURE: (
            PLAN_VERSION,
            Subquery(PlanVersion.objects.filter(pk=OuterRef("object_id")).values("plan__episode_id")[:1]),
        ),
    }
    for kind, (object_type, episode_pk) in subjects.items():
        forbidden = _statuses(lambda k, kind=kind: kind in k.reminders)  # type: ignore[misc]
        rows = (
            pending.filter(kind=kind, object_type=object_type)
            .annotate(episode_pk=episode_pk)
            .annotate(
                ep_public=Subquery(EpisodeOfCare.objects.filter(pk=OuterRef("episode_pk")).values("public_id")[:1]),
                ep_status=Subquery(EpisodeOfCare.objects.filter(pk=OuterRef("episode_pk")).values("status")[:1]),
            )
            .filter(ep_status__in=forbidden)
            .values_list("public_id", "ep_public", "ep_status", "patient__public_id", "program__public_id")
        )
        for public_id, episode_id, status, patient_id, program_id in rows.order_by("pk"):
            yield Violation(
                "reminder_after_close", "reminder", str(public_id),
                f"pending {Kind(kind).label.lower()} reminder for a {S(status).label.lower()} episode",
                episode_id=str(episode_id), patient_id=str(patient_id), program_id=str(program_id),
            )  # fmt: skip


@check(
    "waitlist_after_close",
    Severity.ERROR,
    "An open waitlist entry of a discharged episode, or an outstanding seat offer to an episode that is not active.",
)
def _waitlist_after_close(now: datetime) -> Iterator[Violation]:
    W = WaitlistEntry.Status
    rows = WaitlistEntry.objects.filter(
        Q(status=W.WAITING, episode__status__in=_statuses(lambda k: k.waiting))
        | Q(status=W.OFFERED, episode__status__in=_statuses(lambda k: k.offers))
    ).values("public_id", "status", "episode__status", *_EPISODE_IDS)
    for row in rows.order_by("pk"):
        what = "seat offer" if row["status"] == W.OFFERED else "waiting entry"
        yield Violation(
            "waitlist_after_close", "waitlist_entry", str(row["public_id"]),
            f"{what} for a {S(row['episode__status']).label.lower()} episode", **_ids(row),
        )  # fmt: skip


@check(
    "enrollment_after_close",
    Severity.ERROR,
    "A current enrollment (no end date) of an episode that is discharged or still waitlisted.",
)
def _enrollment_after_close(now: datetime) -> Iterator[Violation]:
    rows = Enrollment.objects.filter(
        ends_on__isnull=True, episode__status__in=_statuses(lambda k: k.enrollment)
    ).values("public_id", "episode__status", *_EPISODE_IDS)
    for row in rows.order_by("pk"):
        yield Violation(
            "enrollment_after_close", "enrollment", str(row["public_id"]),
            f"enrollment not ended, for a {S(row['episode__status']).label.lower()} episode", **_ids(row),
        )  # fmt: skip


# --- Seats --------------------------------------------------------------------------------------------------------


def _seats() -> Count:
    return Count("bookings", filter=Q(bookings__status=Booking.Status.BOOKED))


@check(
    "seat_count_mismatch",
    Severity.ERROR,
    "A session whose seats-booked counter (Session.booked_count, kept by the booking actions) differs from its "
    "booked bookings.",
)
def _seat_count_mismatch(now: datetime) -> Iterator[Violation]:
    rows = (
        Session.objects.annotate(seats=_seats())
        .exclude(booked_count=F("seats"))
        .values_list("public_id", "booked_count", "seats", "program__public_id")
    )
    for public_id, counter, seats, program_id in rows.order_by("starts_at", "pk"):
        message = f"counter says {counter} seats booked, bookings say {seats}"
        yield Violation("seat_count_mismatch", "session", str(public_id), message, program_id=str(program_id))


@check("session_over_capacity", Severity.ERROR, "A session with more booked bookings than its capacity.")
def _session_over_capacity(now: datetime) -> Iterator[Violation]:
    rows = (
        Session.objects.annotate(seats=_seats())
        .filter(seats__gt=F("capacity"))
        .values_list("public_id", "capacity", "seats", "program__public_id")
    )
    for public_id, capacity, seats, program_id in rows.order_by("starts_at", "pk"):
        message = f"{seats} seats booked of {capacity}"
        yield Violation("session_over_capacity", "session", str(public_id), message, program_id=str(program_id))


@check("booked_in_cancelled_session", Severity.ERROR, "A booked seat in a cancelled session.")
def _booked_in_cancelled_session(now: datetime) -> Iterator[Violation]:
    rows = Booking.objects.filter(status=Booking.Status.BOOKED, session__status=Session.Status.CANCELLED).values(
        "public_id", "session__public_id", *_EPISODE_IDS
    )
    for row in rows.order_by("pk"):
        yield Violation(
            "booked_in_cancelled_session", "booking", str(row["public_id"]),
            f"still booked in cancelled session {row['session__public_id']}", **_ids(row),
        )  # fmt: skip


@check(
    "booking_mismatch",
    Severity.ERROR,
    "A booked seat whose session belongs to another program than its episode, or whose patient is not the episode's.",
)
def _booking_mismatch(now: datetime) -> Iterator[Violation]:
    rows = (
        Booking.objects.filter(status=Booking.Status.BOOKED)
        .filter(~Q(session__program_id=F("episode__program_id")) | ~Q(patient_id=F("episode__patient_id")))
        .values("public_id", "session__program_id", "episode__program_id", *_EPISODE_IDS)
    )
    for row in rows.order_by("pk"):
        if row["session__program_id"] != row["episode__program_id"]:
            message = "the session belongs to another program than the episode"
        else:
            message = "the booking's patient is not the episode's"
        yield Violation("booking_mismatch", "booking", str(row["public_id"]), message, **_ids(row))


# --- Enrollments --------------------------------------------------------------------------------------------------


@check(
    "enrollment_mismatch",
    Severity.ERROR,
    "A current enrollment in a track of another program than its episode, or in a group of another track.",
)
def _enrollment_mismatch(now: datetime) -> Iterator[Violation]:
    current = Enrollment.objects.filter(ends_on__isnull=True)
    wrong_group = Enrollment.groups.through.objects.filter(
        enrollment__ends_on__isnull=True, enrollment_id=OuterRef("pk")
    ).exclude(group__track_id=F("enrollment__track_id"))
    rows = (
        current.annotate(
            other_program=ExpressionWrapper(~Q(track__program_id=F("episode__program_id")), BooleanField()),
            wrong_group=Subquery(wrong_group.values("group__public_id")[:1]),
        )
        .filter(Q(other_program=True) | Q(wrong_group__isnull=False))
        .values("public_id", "other_program", "wrong_group", *_EPISODE_IDS)
    )
    for row in rows.order_by("pk"):
        message = (
            "its track belongs to another program than the episode"
            if row["other_program"]
            else f"its group {row['wrong_group']} belongs to another track"
        )
        yield Violation("enrollment_mismatch", "enrollment", str(row["public_id"]), message, **_ids(row))


def _active_enrolled(now: datetime) -> QuerySet[EpisodeOfCare]:
    return EpisodeOfCare.objects.filter(
        status=S.ACTIVE, pk__in=Enrollment.objects.filter(ends_on__isnull=True).values("episode_id")
    )


@check(
    "active_not_enrolled",
    Severity.WARNING,
    "An active episode without a current enrollment: admitted without a track (from the Episodes tab, the API, or a "
    "referral admitted with none) and waiting for placement; nothing is on its schedule.",
)
def _active_not_enrolled(now: datetime) -> Iterator[Violation]:
    rows = (
        EpisodeOfCare.objects.filter(status=S.ACTIVE)
        .exclude(pk__in=Enrollment.objects.filter(ends_on__isnull=True).values("episode_id"))
        .values_list(*_OWN_IDS)
    )
    for public_id, patient_id, program_id in rows.order_by("pk"):
        yield Violation(
            "active_not_enrolled", "episode", str(public_id), "active but not enrolled in a track",
            episode_id=str(public_id), patient_id=str(patient_id), program_id=str(program_id),
        )  # fmt: skip


@check(
    "enrolled_nothing_ahead",
    Severity.WARNING,
    "An active, enrolled episode with no booked seat in any session ahead: every session of its groups was full "
    "(it waits on their waitlists), its track's calendar ends, or its expected discharge has passed.",
)
def _enrolled_nothing_ahead(now: datetime) -> Iterator[Violation]:
    ahead = Booking.objects.filter(status=Booking.Status.BOOKED, session__starts_at__gt=now).values("episode_id")
    rows = _active_enrolled(now).exclude(pk__in=ahead).values_list(*_OWN_IDS)
    for public_id, patient_id, program_id in rows.order_by("pk"):
        yield Violation(
            "enrolled_nothing_ahead", "episode", str(public_id), "enrolled, but no session ahead is booked",
            episode_id=str(public_id), patient_id=str(patient_id), program_id=str(program_id),
        )  # fmt: skip


@check(
    "track_mismatch",
    Severity.WARNING,
    "An open episode whose track (on the Episodes tab) is not the track of its current enrollment: the track was "
    "changed on the episode without moving the enrollment (Schedule tab, Move track).",
)
def _track_mismatch(now: datetime) -> Iterator[Violation]:
    rows = (
        Enrollment.objects.filter(ends_on__isnull=True)
        .exclude(episode__status=S.DISCHARGED)
        .filter(Q(episode__track__isnull=True) | ~Q(episode__track_id=F("track_id")))
        .values("public_id", *_EPISODE_IDS)
    )
    for row in rows.order_by("pk"):
        yield Violation(
            "track_mismatch", "enrollment", str(row["public_id"]),
            "enrolled in another track than the episode's", **_ids(row),
        )  # fmt: skip


# --- Running them -------------------------------------------------------------------------------------------------


@dataclass
class Report:
    checked_at: datetime
    violations: list[Violation] = field(default_factory=list)
    codes: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(v.code for v in self.violations)
        return {code: found.get(code, 0) for code in self.codes}

    def of(self, severity: Severity) -> list[Violation]:
        return [v for v in self.violations if CHECKS[v.code].severity == severity]

    @property
    def errors(self) -> list[Violation]:
        return self.of(Severity.ERROR)

    @property
    def warnings(self) -> list[Violation]:
        return self.of(Severity.WARNING)

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at.isoformat(),
            "counts": self.counts,
            "violations": [{**asdict(v), "severity": CHECKS[v.code].severity.value} for v in self.violations],
        }


def run_checks(now: datetime | None = None, codes: Iterable[str] | None = None) -> Report:
    """Run the checks (all, or those named) against the database as it is now; read-only."""
    now = now or timezone.now()
    wanted = tuple(codes) if codes is not None else tuple(CHECKS)
    unknown = [c for c in wanted if c not in CHECKS]
    if unknown:
        raise KeyError(", ".join(unknown))
    report = Report(checked_at=now, codes=wanted)
    for code in wanted:
        report.violations.extend(CHECKS[code].find(now))
    return report


@transaction.atomic
def save_report(report: Report) -> IntegrityReport:
    """Keep the report for the ``/jobs/`` page: every count, the first ``LIST_MAX`` violations; the newest
    ``REPORTS_KEPT`` reports are kept. Operational data: ids and codes, no patient data, no audit row."""
    listed = report.as_dict()["violations"]
    row = IntegrityReport.objects.create(
        checked_at=report.checked_at,
        counts=report.counts,
        errors=len(report.errors),
        warnings=len(report.warnings),
        violations=listed[:LIST_MAX],
        left_out=max(0, len(listed) - LIST_MAX),
    )
    old = IntegrityReport.objects.order_by("-checked_at", "-pk").values_list("pk", flat=True)[REPORTS_KEPT:]
    IntegrityReport.objects.filter(pk__in=list(old)).delete()
    return row


def run_daily() -> dict[str, int]:
    """The periodic job: check everything, keep the report, return how many errors and warnings (the run's
    result on ``/jobs/``). Idempotent and read-only but for its report row; it never raises on a violation, which
    the page shows in its own panel."""
    report = run_checks()
    save_report(report)
    return {"errors": len(report.errors), "warnings": len(report.warnings)}
