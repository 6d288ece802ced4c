"""Access-checked reads of discharge records: the role first (403), then the user's programs (404 outside them).

Everything is scoped by the episode's program, so the discharge summary of a substance-use episode (42 CFR Part 2)
is visible only to that program's staff, even to colleagues who treat the same patient in another program.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from openiop.accounts.models import User
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.discharge import policy
from openiop.discharge.models import AftercarePlan, DischargeSummary, FollowUp
from openiop.patients import emergency
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import chart_program_ids
from openiop.programs.models import Program


def _scope(user: User) -> dict[str, object]:
    if user.organization_id is None:
        raise Http404
    return {"episode__program_id__in": program_ids_for(user), "patient__organization_id": user.organization_id}


def summaries_for_user(user: User) -> QuerySet[DischargeSummary]:
    if user.organization_id is None:
        return DischargeSummary.objects.none()
    return DischargeSummary.objects.filter(**_scope(user))


def get_summary_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_CLINICAL) -> DischargeSummary:
    require(user, cap)
    related = ("episode__program__site__organization", "episode__track", "episode__primary_clinician", "patient",
               "author", "signed_by")  # fmt: skip
    found = summaries_for_user(user).select_related(*related).filter(public_id=public_id).first()
    if found is None:
        found = emergency.record_under_grant(user, DischargeSummary.objects.select_related(*related), public_id, (cap,))
    if found is None:
        raise Http404
    return found


def aftercare_for(summary: DischargeSummary) -> AftercarePlan | None:
    return AftercarePlan.objects.filter(episode_id=summary.episode_id).first()


def follow_ups_for(summary: DischargeSummary) -> list[FollowUp]:
    return list(FollowUp.objects.filter(episode_id=summary.episode_id).select_related("done_by").order_by("due_on"))


def get_follow_up_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.EDIT_CLINICAL) -> FollowUp:
    require(user, cap)
    return get_object_or_404(
        FollowUp.objects.filter(**_scope(user)).select_related("episode__program__site", "patient", "task"),
        public_id=public_id,
    )


@dataclass
class EpisodeDischarge:
    """One episode on the chart's Discharge tab with what exists of its discharge."""

    episode: EpisodeOfCare
    summary: DischargeSummary | None
    follow_ups: list[FollowUp] = field(default_factory=list)

    @property
    def can_start(self) -> bool:
        return self.summary is None and self.episode.status != EpisodeOfCare.Status.WAITLIST


def patient_discharges(user: User, patient: Patient) -> list[EpisodeDischarge]:
    """The patient's admitted episodes in the user's programs (all of them under emergency access) with summary
    and follow-ups: three queries."""
    require(user, Cap.VIEW_CLINICAL)
    episodes = (
        EpisodeOfCare.objects.filter(patient=patient, program_id__in=chart_program_ids(user, patient))
        .exclude(status=EpisodeOfCare.Status.WAITLIST)
        .select_related("program", "discharge_summary__signed_by")
        .prefetch_related(Prefetch("follow_ups", queryset=FollowUp.objects.order_by("due_on")))
        .order_by("-admitted_on", "-created_at")
    )
    rows = []
    for episode in episodes:
        summary = getattr(episode, "discharge_summary", None)
        follow_ups = list(episode.follow_ups.all())
        rows.append(EpisodeDischarge(episode=episode, summary=summary, follow_ups=follow_ups))
    return rows


def _program_today(program: Program) -> date:
    return program.now().date()


@dataclass
class ProgramFollowUps:
    program: Program
    today: date
    overdue: list[FollowUp] = field(default_factory=list)
    this_week: list[FollowUp] = field(default_factory=list)
    summaries_due: list[DischargeSummary] = field(default_factory=list)
    missing_summaries: list[EpisodeOfCare] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.overdue or self.this_week or self.summaries_due or self.missing_summaries)

    @property
    def count(self) -> int:
        return len(self.overdue) + len(self.this_week) + len(self.summaries_due) + len(self.missing_summaries)


def follow_up_worklist(user: User, *, program: Program | None = None) -> list[ProgramFollowUps]:
    """Per program of the user: check-ins overdue and due in the next seven days, unsigned summaries, and
    discharged episodes with no summary yet (within the longest follow-up window). Four queries in all."""
    require(user, Cap.VIEW_CLINICAL)
    ids = program_ids_for(user)
    programs = list(Program.objects.filter(id__in=ids).select_related("site").order_by("name"))
    if program is not None:
        programs = [p for p in programs if p.pk == program.pk]
    if not programs or user.organization_id is None:
        return []
    rows = {p.pk: ProgramFollowUps(program=p, today=_program_today(p)) for p in programs}
    horizon = max(r.today for r in rows.values()) + timedelta(days=7)
    open_ups = (
        FollowUp.objects.filter(
            episode__program_id__in=list(rows), status=FollowUp.Status.DUE, due_on__lte=horizon,
            patient__organization_id=user.organization_id,
        )
        .select_related("patient", "episode__discharge_summary", "task__assigned_to")
        .order_by("due_on", "patient__legal_last_name", "pk")
    )  # fmt: skip
    for follow_up in open_ups:
        row = rows[follow_up.episode.program_id]
        if follow_up.due_on < row.today:
            row.overdue.append(follow_up)
        elif follow_up.due_on <= row.today + timedelta(days=6):
            row.this_week.append(follow_up)
    drafts = (
        DischargeSummary.objects.filter(
            episode__program_id__in=list(rows), status=DischargeSummary.Status.DRAFT,
            episode__status=EpisodeOfCare.Status.DISCHARGED, patient__organization_id=user.organization_id,
        )
        .select_related("patient", "episode", "author")
        .order_by("due_on", "pk")
    )  # fmt: skip
    for summary in drafts:
        rows[summary.episode.program_id].summaries_due.append(summary)
    window = max(policy.follow_up_days(), default=0)
    earliest = min(r.today for r in rows.values()) - timedelta(days=window)
    missing = (
        EpisodeOfCare.objects.filter(
            program_id__in=list(rows), status=EpisodeOfCare.Status.DISCHARGED, discharged_on__gte=earliest,
            patient__organization_id=user.organization_id, admitted_on__isnull=False,
        )
        .exclude(Exists(DischargeSummary.objects.filter(episode=OuterRef("pk"))))
        .select_related("patient")
        .order_by("discharged_on", "pk")
    )  # fmt: skip
    for episode in missing:
        rows[episode.program_id].missing_summaries.append(episode)
    return list(rows.values())
