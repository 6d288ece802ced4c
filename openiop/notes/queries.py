"""Access-checked reads of notes: the role first (403), then the user's programs (404 outside them).

A note is scoped by the program of its episode, like an intake assessment: a substance-use program's notes
(42 CFR Part 2 records) are visible only to that program's staff, even to colleagues who see the same patient
through another program. A patient's notes are that patient's own: a participant's part of a group note is listed
only in its participant's chart, with the shared part of the group note and never the other parts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from openiop.accounts.models import User
from openiop.attendance.models import AttendanceRecord
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap, Role
from openiop.intake.models import Diagnosis
from openiop.notes.deadlines import add_business_days, end_of_day
from openiop.notes.diagnoses import ORDER as DIAGNOSIS_ORDER
from openiop.notes.diagnoses import diagnoses_by_episode
from openiop.notes.models import GroupNote, GroupNoteSignature, NoteAddendum, NotePolicy, ProgressNote
from openiop.notes.policy import default_policy, policy_for
from openiop.patients.models import Patient
from openiop.patients.queries import chart_program_ids
from openiop.programs.models import Program
from openiop.scheduling.models import Closure, Session, SessionType

if TYPE_CHECKING:
    from openiop.plans.models import Objective

Status = ProgressNote.Status
# How far back the queue looks for sessions still missing their notes. Older gaps are a records audit, not a
# to-do list; the director's overdue list shows the same window.
QUEUE_LOOKBACK_DAYS = 45


def notes_for_user(user: User) -> QuerySet[ProgressNote]:
    if user.organization_id is None:
        return ProgressNote.objects.none()
    return ProgressNote.objects.filter(
        episode__program_id__in=program_ids_for(user), patient__organization_id=user.organization_id
    )


def with_details(qs: QuerySet[ProgressNote]) -> QuerySet[ProgressNote]:
    """What a note's page and the API show, in a fixed number of queries (never another participant's part)."""
    return qs.select_related(
        "patient", "episode__program__site", "author__supervisor", "cosigned_by", "session__session_type",
        "group_note__curriculum_item",
    ).prefetch_related(
        Prefetch("objectives", queryset=_objective_qs()),
        Prefetch("diagnoses", queryset=_diagnosis_qs()),
        Prefetch("addenda", queryset=NoteAddendum.objects.select_related("author")),
        Prefetch("group_note__signatures", queryset=GroupNoteSignature.objects.select_related("facilitator")),
        Prefetch("group_note__addenda", queryset=NoteAddendum.objects.select_related("author")),
        "session__facilitators",
    )  # fmt: skip


def _objective_qs() -> QuerySet[Objective]:
    from openiop.plans.models import Objective

    return Objective.objects.select_related("goal__problem").order_by(
        "goal__problem__order", "goal__order", "order", "pk"
    )


def _diagnosis_qs() -> QuerySet[Diagnosis]:
    return Diagnosis.objects.order_by(*DIAGNOSIS_ORDER)


def get_note_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_CLINICAL) -> ProgressNote:
    require(user, cap)
    return get_object_or_404(with_details(notes_for_user(user)), public_id=public_id)


def patient_notes(user: User, patient: Patient) -> list[ProgressNote]:
    """The patient's own notes in the user's programs (all of them under emergency access), newest first; a fixed
    number of queries for any count. ``patient`` came from ``get_patient_for_user``."""
    require(user, Cap.VIEW_CLINICAL)
    notes = ProgressNote.objects.filter(patient=patient, episode__program_id__in=chart_program_ids(user, patient))
    return list(with_details(notes))


def get_session_for_notes(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_CLINICAL) -> Session:
    """A session of the user's programs, for its group note: the role first (403), then 404 outside."""
    require(user, cap)
    return get_object_or_404(
        Session.objects.filter(program_id__in=program_ids_for(user)).select_related(
            "program__site", "session_type", "topic", "track", "group", "room"
        ),
        public_id=public_id,
    )


def objectives_by_episode(episode_ids: list[int]) -> dict[int, list[Objective]]:
    """Each episode's objectives of its plan version in force: one query for any number of episodes."""
    from openiop.plans.models import PlanVersion

    result: dict[int, list[Objective]] = defaultdict(list)
    if not episode_ids:
        return result
    for objective in (
        _objective_qs()
        .filter(
            goal__problem__version__plan__episode_id__in=episode_ids,
            goal__problem__version__status=PlanVersion.Status.ACTIVE,
        )
        .select_related("goal__problem__version__plan")
    ):
        result[objective.goal.problem.version.plan.episode_id].append(objective)
    return result


@dataclass
class GroupNoteView:
    """The facilitators' working view of a group note: the shared part and every participant's part."""

    group_note: GroupNote
    parts: list[ProgressNote]
    objectives: dict[int, list[Objective]]
    diagnoses: dict[int, list[Diagnosis]]
    attendance: dict[int, AttendanceRecord]
    signatures: list[GroupNoteSignature]


def group_note_view(group_note: GroupNote) -> GroupNoteView:
    """Eight queries whatever the group size: parts, their objectives, diagnoses and addenda, plan objectives,
    the episodes' diagnoses, attendance, signatures."""
    parts = list(
        group_note.parts.select_related("patient", "episode__program", "author")
        .prefetch_related(
            Prefetch("objectives", queryset=_objective_qs()),
            Prefetch("diagnoses", queryset=_diagnosis_qs()),
            "addenda__author",
        )
        .order_by("is_late_addition", "patient__legal_last_name", "patient__legal_first_name", "pk")
    )
    attendance = {r.patient_id: r for r in AttendanceRecord.objects.filter(session_id=group_note.session_id)}
    signatures = list(group_note.signatures.select_related("facilitator"))
    return GroupNoteView(
        group_note=group_note,
        parts=parts,
        objectives=objectives_by_episode([p.episode_id for p in parts]),
        diagnoses=diagnoses_by_episode([p.episode for p in parts]),
        attendance=attendance,
        signatures=signatures,
    )


# --- The queue --------------------------------------------------------------------------------------------------


@dataclass
class DueItem:
    """A note someone owes: a draft, a session's missing individual note, or a group note not yet locked."""

    kind: str  # "note" (a draft), "missing" (an individual session without its note), "group"
    program: Program
    due_at: datetime
    session: Session | None = None
    note: ProgressNote | None = None
    patient: Patient | None = None
    participants: int = 0

    def overdue(self, now: datetime) -> bool:
        return now > self.due_at


class _DueDates:
    """Due dates of many sessions: one closure query per organization, business days counted in Python."""

    def __init__(self, programs: list[Program], start: date, end: date) -> None:
        self._closed: dict[int, set[date]] = defaultdict(set)
        org_ids = {p.site.organization_id for p in programs}
        for site_id, org_id, day in Closure.objects.filter(
            organization_id__in=org_ids, date__gte=start, date__lte=end
        ).values_list("site_id", "organization_id", "date"):
            for program in programs:
                if program.site.organization_id == org_id and site_id in (None, program.site_id):
                    self._closed[program.pk].add(day)

    def due_at(self, program: Program, session: Session) -> datetime:
        policy = policy_for(program)
        return end_of_day(
            program,
            add_business_days(session.starts_at.astimezone(program.tz()).date(), policy.note_due_business_days,
                              self._closed[program.pk]),
        )  # fmt: skip


def due_items(
    program_ids: list[int],
    *,
    facilitator: User | None = None,
    author: User | None = None,
    now: datetime | None = None,
) -> list[DueItem]:
    """Notes owed in these programs, soonest due first: drafts (by ``author``, if given), and the sessions of the
    last QUEUE_LOOKBACK_DAYS (facilitated by ``facilitator``, if given) with an attended person and no note.

    A fixed number of queries whatever the rows: programs, drafts, sessions, their attendance, notes, group notes,
    closures.
    """
    now = now or timezone.now()
    programs = {p.pk: p for p in Program.objects.filter(pk__in=program_ids).select_related("site", "note_policy")}
    for program in programs.values():
        # The related row (or nothing): cache it the way policy_for does, so no query per program follows.
        try:
            policy = program.note_policy
        except NotePolicy.DoesNotExist:
            policy = default_policy(program)
        program._openiop_note_policy = policy  # type: ignore[attr-defined]
    items: list[DueItem] = []
    drafts = ProgressNote.objects.filter(episode__program_id__in=programs, status=Status.DRAFT).filter(
        Q(group_note__isnull=True) | Q(is_late_addition=True)
    )
    if author is not None:
        drafts = drafts.filter(author=author)
    for note in drafts.select_related("patient", "episode", "session__session_type", "author"):
        program = programs[note.episode.program_id]
        items.append(DueItem("note", program, note.due_at, session=note.session, note=note, patient=note.patient))
    sessions = Session.objects.filter(
        program_id__in=programs,
        status=Session.Status.SCHEDULED,
        ends_at__lte=now,
        starts_at__gte=now - timedelta(days=QUEUE_LOOKBACK_DAYS),
    ).select_related("session_type")
    if facilitator is not None:
        sessions = sessions.filter(facilitators=facilitator)
    session_list = list(sessions.order_by("starts_at"))
    if not session_list:
        return sorted(items, key=lambda i: i.due_at)
    ids = [s.pk for s in session_list]
    attended: dict[int, list[AttendanceRecord]] = defaultdict(list)
    for record in AttendanceRecord.objects.filter(
        session_id__in=ids, status__in=AttendanceRecord.ATTENDED
    ).select_related("patient"):
        attended[record.session_id].append(record)
    noted = set(
        ProgressNote.objects.filter(session_id__in=ids, group_note__isnull=True).values_list("session_id", "patient_id")
    )
    locked = set(
        GroupNote.objects.filter(session_id__in=ids, status=GroupNote.Status.LOCKED).values_list(
            "session_id", flat=True
        )
    )
    first = min(s.starts_at for s in session_list).date() - timedelta(days=1)
    dates = _DueDates(list(programs.values()), first, now.date() + timedelta(days=60))
    for session in session_list:
        records = attended.get(session.pk)
        if not records:
            continue
        program = programs[session.program_id]
        due = dates.due_at(program, session)
        if session.session_type.kind in SessionType.GROUP_KINDS:
            if session.pk not in locked:
                items.append(DueItem("group", program, due, session=session, participants=len(records)))
            continue
        for record in records:
            if (session.pk, record.patient_id) not in noted:
                items.append(DueItem("missing", program, due, session=session, patient=record.patient))
    return sorted(items, key=lambda i: (i.due_at, i.kind))


def cosign_queue(user: User) -> list[ProgressNote]:
    """Notes of the user's supervisees waiting for the user's co-signature, in the user's programs."""
    require(user, Cap.VIEW_CLINICAL)
    return list(
        notes_for_user(user)
        .filter(status=Status.AWAITING_COSIGN, author__supervisor=user)
        .select_related("patient", "author", "session__session_type")
        .order_by("signed_at", "pk")
    )


def sees_program_overdue(user: User) -> bool:
    return user.role == Role.DIRECTOR
