"""Access-checked reads of authorizations: the role check first (403), then the user's organization and programs
(404 for everything outside them).

- The utilization pages and the API: VIEW_BILLING to read (directors, billing, auditors), MANAGE_BILLING to write
  (billing staff), in the programs the episode is in now.
- The chart's Authorizations tab: whoever sees the tab (VIEW_CLINICAL or VIEW_BILLING), the programs whose records
  of the patient they may read (``chart_program_ids``).

Lists are settled first (``units.settle``: the pending billable days of their windows decided), then read in one
query with the units used annotated; their flags take two more queries whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from django.db.models import Count, Max, Min, Q, QuerySet
from django.shortcuts import get_object_or_404

from openiop.accounts.models import User
from openiop.billing.models import BillableDay
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.intake.frameworks import framework
from openiop.intake.header import SHORT_NAMES
from openiop.intake.models import IntakeAssessment, LevelOfCareRating
from openiop.intake.queries import assessments_for_user
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import chart_program_ids
from openiop.programs.models import Program
from openiop.programs.queries import managed_program_ids
from openiop.utilization import flags, units
from openiop.utilization.models import Authorization, UtilizationReview
from openiop.utilization.policy import policies_for

RELATED = ("episode__patient", "episode__program__site", "coverage")


def utilization_programs(user: User) -> QuerySet[Program]:
    require(user, Cap.VIEW_BILLING)
    return Program.objects.filter(pk__in=program_ids_for(user)).select_related("site").order_by("name")


def authorizations_for_user(user: User, cap: Cap = Cap.VIEW_BILLING) -> QuerySet[Authorization]:
    require(user, cap)
    if user.organization_id is None:
        return Authorization.objects.none()
    return Authorization.objects.filter(
        episode__program_id__in=program_ids_for(user), episode__patient__organization_id=user.organization_id
    )


def get_authorization_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_BILLING) -> Authorization:
    return get_object_or_404(authorizations_for_user(user, cap).select_related(*RELATED), public_id=public_id)


def get_review_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.MANAGE_BILLING) -> UtilizationReview:
    require(user, cap)
    return get_object_or_404(
        UtilizationReview.objects.select_related("authorization").filter(
            authorization__in=authorizations_for_user(user, cap)
        ),
        public_id=public_id,
    )


def episodes_in_programs(user: User) -> QuerySet[EpisodeOfCare]:
    """The episodes of the user's programs (no role check: callers check theirs first)."""
    if user.organization_id is None:
        return EpisodeOfCare.objects.none()
    return EpisodeOfCare.objects.select_related("patient", "program__site").filter(
        program_id__in=program_ids_for(user), patient__organization_id=user.organization_id
    )


def get_episode_for_billing(user: User, public_id: UUID | str) -> EpisodeOfCare:
    """An episode to authorize: MANAGE_BILLING (403), one of the user's programs (404)."""
    require(user, Cap.MANAGE_BILLING)
    return get_object_or_404(episodes_in_programs(user), public_id=public_id)


POLICY_CAPS = (Cap.MANAGE_BILLING, Cap.MANAGE_PROGRAMS)


def policy_programs(user: User) -> QuerySet[Program]:
    """Programs whose thresholds the user may set: billing staff their programs, directors those they manage."""
    ids: set[int] = set()
    if user.can(Cap.MANAGE_BILLING):
        ids |= set(program_ids_for(user))
    if user.can(Cap.MANAGE_PROGRAMS):
        ids |= set(managed_program_ids(user))
    return Program.objects.filter(pk__in=sorted(ids)).select_related("site").order_by("name")


def with_flags(authorizations: list[Authorization]) -> list[Authorization]:
    """Attach ``flags`` (``flags.Flags``) and ``today`` to each row (annotated by ``units.with_usage``, with its
    episode's program): two queries whatever the number of rows."""
    programs = {a.episode.program_id: a.episode.program for a in authorizations}
    policies = policies_for(programs.values())
    todays = {pk: program.now().date() for pk, program in programs.items()}
    pending = flags.pending_review_ids(authorizations) if authorizations else set()
    for auth in authorizations:
        program_id = auth.episode.program_id
        auth.today = todays[program_id]  # type: ignore[attr-defined]
        auth.flags = flags.flags_for(  # type: ignore[attr-defined]
            auth, policies[program_id], todays[program_id], review_pending=auth.pk in pending
        )
    return authorizations


def rows(qs: QuerySet[Authorization]) -> list[Authorization]:
    """``qs`` settled, read with its units used and flagged."""
    units.settle(qs)
    return with_flags(list(units.with_usage(qs.select_related(*RELATED))))


@dataclass(frozen=True)
class ListFilter:
    program: Program | None = None
    flag: str = ""
    status: str = ""  # empty: requested and approved (what is live)
    episode: EpisodeOfCare | None = None


LIVE = (Authorization.Status.REQUESTED, Authorization.Status.APPROVED)


def list_authorizations(user: User, f: ListFilter) -> list[Authorization]:
    """The user's programs' authorizations, by end date, flagged; ``f.flag`` keeps those with that flag."""
    qs = authorizations_for_user(user)
    if f.program is not None:
        qs = qs.filter(episode__program=f.program)
    if f.episode is not None:
        qs = qs.filter(episode=f.episode)
    if f.flag:
        qs = qs.filter(status=Authorization.Status.APPROVED)
    elif f.status and f.status != "all":
        qs = qs.filter(status=f.status)
    elif not f.status:
        qs = qs.filter(status__in=LIVE)
    found = rows(qs.order_by("end_date", "episode__patient__legal_last_name", "pk"))
    return [a for a in found if f.flag in a.flags] if f.flag else found  # type: ignore[attr-defined]


def patient_authorizations(user: User, patient: Patient) -> list[Authorization]:
    """Every authorization of the patient's episodes the user may read on the chart, newest first."""
    qs = Authorization.objects.filter(
        episode__patient=patient, episode__program_id__in=chart_program_ids(user, patient)
    )
    return rows(qs.order_by("-start_date", "-created_at"))


@dataclass(frozen=True)
class UnauthorizedEpisode:
    episode: EpisodeOfCare
    days: int
    first: date
    last: date


def unauthorized_episodes(
    program_ids: list[int], *, program: Program | None = None, open_only: bool = False
) -> list[UnauthorizedEpisode]:
    """Episodes with billable days outside an approved authorization within each program's look-back (two
    queries, one per program for its policy, read together)."""
    programs = list(Program.objects.filter(pk__in=[program.pk] if program else program_ids).select_related("site"))
    if not programs:
        return []
    policies = policies_for(programs)
    window = Q(pk__in=[])
    for p in programs:
        since = p.now().date() - timedelta(days=policies[p.pk].unauthorized_lookback_days)
        window |= Q(program_id=p.pk, date__gte=since)
    days = BillableDay.objects.filter(window)
    if open_only:
        days = days.filter(episode__status__in=(EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD))
    grouped = list(
        flags.unauthorized_days(days)
        .order_by()
        .values("episode_id")
        .annotate(n=Count("pk"), first=Min("date"), last=Max("date"))
    )
    episodes = EpisodeOfCare.objects.select_related("patient", "program__site").in_bulk(
        [g["episode_id"] for g in grouped]
    )
    found = [UnauthorizedEpisode(episodes[g["episode_id"]], g["n"], g["first"], g["last"]) for g in grouped]
    return sorted(found, key=lambda u: (u.first, u.episode.pk))


@dataclass(frozen=True)
class AssessedLevel:
    framework: str
    level: str
    title: str
    assessed_on: date


def assessed_levels(user: User, episode: EpisodeOfCare) -> list[AssessedLevel]:
    """The levels of care the clinic assessed: those chosen in the latest signed intake assessment of the episode
    (else of the patient in the episode's program), as entered, never computed. One query."""
    latest = (
        assessments_for_user(user)
        .filter(patient_id=episode.patient_id, status=IntakeAssessment.Status.SIGNED)
        .filter(Q(episode=episode) | Q(episode__isnull=True, program_id=episode.program_id))
        .order_by("-assessed_on", "-created_at")
        .values("pk")[:1]
    )
    ratings = (
        LevelOfCareRating.objects.filter(assessment__in=latest)
        .exclude(chosen_level="")
        .select_related("assessment")
        .only("framework", "chosen_level", "assessment__assessed_on")
        .order_by("framework")
    )
    return [
        AssessedLevel(
            SHORT_NAMES.get(r.framework, r.framework),
            r.chosen_level,
            framework(r.framework).level_label(r.chosen_level),
            r.assessment.assessed_on,
        )
        for r in ratings
    ]


@dataclass
class WatchRow:
    """One payer's approved authorizations needing attention, counted per flag (one authorization may count under
    several flags)."""

    payer: str
    expiring: int = 0
    units_low: int = 0
    over: int = 0
    review_due: int = 0

    @property
    def total(self) -> int:
        return self.expiring + self.units_low + self.over + self.review_due


WATCHED = (flags.EXPIRING, flags.UNITS_LOW, flags.OVER, flags.REVIEW_DUE)


def authorization_watch(user: User) -> list[WatchRow]:
    """The revenue report's "authorizations expiring" section: per payer, how many of the user's programs' approved
    authorizations end soon, run low, are over or are due for review (each program's own policy), payer by name."""
    by_payer: dict[str, WatchRow] = {}
    for auth in list_authorizations(user, ListFilter(status=Authorization.Status.APPROVED)):
        codes = auth.flags.codes  # type: ignore[attr-defined]
        if not any(code in WATCHED for code in codes):
            continue
        name = auth.coverage.payer_name or "Unnamed payer"
        row = by_payer.setdefault(name, WatchRow(name))
        for code in WATCHED:
            if code in codes:
                setattr(row, code, getattr(row, code) + 1)
    return sorted(by_payer.values(), key=lambda r: r.payer)
