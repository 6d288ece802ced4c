"""Access-checked reads of patients: outsiders get 404, insufficient roles 403.

A user sees a patient registered in, or with an episode in, one of their programs, and only the episodes in
their own programs: an episode elsewhere (a substance-use program, say) is not theirs to see or to infer.
"""

from __future__ import annotations

import re
from datetime import date
from uuid import UUID

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from openiop.accounts.models import User
from openiop.core.idsets import InIdSet
from openiop.core.models import AuditEvent
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap, Role
from openiop.patients import emergency
from openiop.patients.models import CareTeamMember, Coverage, EpisodeOfCare, Patient, Payer, SupportContact
from openiop.programs.models import Organization, Program, Track

# Who may be named primary clinician, and who may sit on a care team.
PRIMARY_CLINICIAN_ROLES = (Role.DIRECTOR, Role.CLINICIAN, Role.SUPERVISED_CLINICIAN)
CARE_TEAM_ROLES = (*PRIMARY_CLINICIAN_ROLES, Role.INTAKE)

STATUS_FILTER_NONE = "none"

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_US_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def patients_for_user(user: User) -> QuerySet[Patient]:
    """Patients registered in, or with any episode in, one of the user's programs."""
    ids = program_ids_for(user)
    if not ids or user.organization_id is None:
        return Patient.objects.none()
    # The id set is a UNION of two indexed lookups, not "home program IN ... OR id IN (subquery)" (PostgreSQL cannot use
    # an index for that OR), and the patients are read by primary key from it (InIdSet): as "pk IN (union)" PostgreSQL
    # hashed the set and still scanned every patient of the organization (50 ms at 65,000, bench/README.md).
    registered = Patient.objects.filter(home_program_id__in=ids).order_by().values("pk")
    admitted = EpisodeOfCare.objects.filter(program_id__in=ids).order_by().values("patient_id")
    return Patient.objects.filter(InIdSet("pk", registered.union(admitted)), organization_id=user.organization_id)


def get_patient_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_PATIENTS) -> Patient:
    """The patient in the user's programs; for reading (VIEW_PATIENTS, VIEW_CLINICAL) also one the user holds an
    emergency access to (``emergency.grant_of(patient)`` then names it). The grant is looked up only on a miss, so a
    member's read costs no extra query."""
    require(user, cap)
    try:
        return patients_for_user(user).select_related("home_program").get(public_id=public_id)
    except Patient.DoesNotExist:
        pass
    patient = emergency.patient_under_grant(user, public_id) if cap in emergency.READ_CAPS else None
    if patient is None:
        raise Http404
    return patient


def programs_for_user(user: User, *, active_only: bool = True) -> QuerySet[Program]:
    """The user's own programs (never the whole organization's), for choices and filters."""
    qs = Program.objects.filter(id__in=program_ids_for(user)).select_related("site")
    return qs.filter(is_active=True) if active_only else qs


def parse_search_date(term: str) -> date | None:
    """A date typed into the search box: 1990-04-12 or 4/12/1990 (US order)."""
    try:
        if _ISO_DATE.match(term):
            return date.fromisoformat(term)
        match = _US_DATE.match(term)
        if match:
            month, day, year = (int(g) for g in match.groups())
            return date(year, month, day)
    except ValueError:
        return None
    return None


def search_patients(user: User, query: str = "", date_of_birth: date | None = None) -> QuerySet[Patient]:
    """Every word must match: the start of any part of the legal or preferred name, an MRN, or a birth date."""
    qs = patients_for_user(user)
    for term in re.split(r"[\s,]+", query.strip()):
        if not term:
            continue
        typed_date = parse_search_date(term)
        if typed_date is not None:
            qs = qs.filter(date_of_birth=typed_date)
            continue
        t = term.lower()
        qs = qs.filter(
            Q(search_first__startswith=t)
            | Q(search_last__startswith=t)
            # Later words of a multi-part or hyphenated name ("de la Cruz", "Smith-Jones").
            | Q(search_first__contains=f" {t}")
            | Q(search_last__contains=f" {t}")
            | Q(search_last__contains=f"-{t}")
            | Q(legal_middle_name__istartswith=t)
            | Q(preferred_name__istartswith=t)
            | Q(mrn__iexact=term)
        )
    if date_of_birth is not None:
        qs = qs.filter(date_of_birth=date_of_birth)
    return qs


def _current_status_filter(episodes: QuerySet[EpisodeOfCare], status: str) -> Q:
    """Match the status that models.current_episode would show: active, then on hold, then waitlist."""
    s = EpisodeOfCare.Status

    def has(*statuses: str) -> Exists:
        return Exists(episodes.filter(status__in=statuses))

    if status == STATUS_FILTER_NONE:
        return ~Q(Exists(episodes))
    if status == s.ACTIVE:
        return Q(has(s.ACTIVE))
    if status == s.ON_HOLD:
        return Q(has(s.ON_HOLD)) & ~Q(has(s.ACTIVE))
    if status == s.WAITLIST:
        return Q(has(s.WAITLIST)) & ~Q(has(s.ACTIVE, s.ON_HOLD))
    if status == s.DISCHARGED:
        return Q(has(s.DISCHARGED)) & ~Q(has(s.ACTIVE, s.ON_HOLD, s.WAITLIST))
    raise ValueError(f"unknown status filter {status!r}")


def list_patients(
    user: User,
    *,
    query: str = "",
    date_of_birth: date | None = None,
    program: Program | None = None,
    status: str = "",
    include_inactive: bool = False,
) -> QuerySet[Patient]:
    """The patient list: search plus filters, each row carrying ``visible_episodes`` (one extra query in all).

    With a program filter the rows describe that program's episodes; otherwise all of the user's programs.
    """
    ids = program_ids_for(user)
    scope = [program.pk] if program is not None and program.pk in ids else ids
    qs = search_patients(user, query, date_of_birth)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    episodes = EpisodeOfCare.objects.filter(patient=OuterRef("pk"), program_id__in=scope)
    if program is not None:
        qs = qs.filter(Q(home_program_id__in=scope) | Q(Exists(episodes)))
    if status:
        qs = qs.filter(_current_status_filter(episodes, status))
    return (
        qs.order_by("legal_last_name", "legal_first_name", "pk")
        .select_related("home_program")
        # The columns a row shows (patient_table.html) and ``current_episode`` ranks by: the full rows of the
        # patients, their episodes and those episodes' programs, tracks and clinicians cost more to compile and
        # load than the queries take to run.
        .only(*LIST_ROW_FIELDS)
        .prefetch_related(
            Prefetch(
                "episodes",
                queryset=EpisodeOfCare.objects.filter(program_id__in=scope)
                .select_related("program", "track", "primary_clinician")
                .only(*LIST_EPISODE_FIELDS),
                to_attr="visible_episodes",
            )
        )
    )


LIST_ROW_FIELDS = (
    "public_id",
    "mrn",
    "legal_first_name",
    "legal_middle_name",
    "legal_last_name",
    "preferred_name",
    "pronouns",
    "date_of_birth",
    "is_active",
    "home_program__name",
)
LIST_EPISODE_FIELDS = (
    "patient",
    "status",
    "waitlisted_on",
    "admitted_on",
    "discharged_on",
    "created_at",
    "program__name",
    "track__name",
    "primary_clinician__username",
    "primary_clinician__first_name",
    "primary_clinician__last_name",
    "primary_clinician__credentials",
)


def episodes_in_view(user: User, patient: Patient) -> QuerySet[EpisodeOfCare]:
    """The patient's episodes the user may see: those in their programs, or all of them under emergency access."""
    qs = EpisodeOfCare.objects.filter(patient=patient)
    return qs if emergency.grant_of(patient) is not None else qs.filter(program_id__in=program_ids_for(user))


def chart_program_ids(user: User, patient: Patient) -> list[int]:
    """Programs whose records of ``patient`` the user may read on the chart: their own, or every one of the patient's
    under emergency access. For the chart tabs' read-only lists; writes scope by ``program_ids_for`` as before."""
    if emergency.grant_of(patient) is not None:
        return list(emergency.patient_programs(patient))
    return program_ids_for(user)


def visible_episodes(user: User, patient: Patient) -> QuerySet[EpisodeOfCare]:
    """The patient's episodes in the user's programs (all under emergency access), newest first, with care teams."""
    return (
        episodes_in_view(user, patient)
        .select_related("program", "track", "primary_clinician")
        .prefetch_related(
            Prefetch(
                "team_members",
                # A member shows as a name and a role: the staff rows' other columns (password hash included) stay.
                queryset=CareTeamMember.objects.select_related("user")
                .only(
                    "episode", "team_role", "user__username", "user__first_name", "user__last_name", "user__credentials"
                )
                .order_by("user__last_name", "user__first_name"),
            )
        )
        .order_by("-created_at")
    )


def record_activity(user: User, patient: Patient) -> QuerySet[AuditEvent]:
    """The patient's audit rows, newest first, minus rows about episodes in programs the user is not in."""
    hidden = EpisodeOfCare.objects.filter(patient=patient).exclude(pk__in=episodes_in_view(user, patient).values("pk"))
    hidden_ids = [str(u) for u in hidden.values_list("public_id", flat=True)]
    qs = AuditEvent.objects.filter(patient=patient).select_related("actor").order_by("-chain_index")
    if hidden_ids:
        qs = qs.exclude(object_type="episodeofcare", object_id__in=hidden_ids)
    return qs


def find_possible_duplicates(organization_id: int, first: str, last: str, dob: date) -> QuerySet[Patient]:
    """Same legal first and last name (case-insensitive) and date of birth, across the organization."""
    return Patient.objects.filter(
        organization_id=organization_id,
        search_first=first.strip().lower(),
        search_last=last.strip().lower(),
        date_of_birth=dob,
    )


def get_episode_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_PATIENTS) -> EpisodeOfCare:
    """The episode in one of the user's programs, or (for reading) of a patient under the user's emergency access."""
    require(user, cap)
    if user.organization_id is None:
        raise Http404
    try:
        return (
            EpisodeOfCare.objects.select_related("patient", "program__site", "track", "primary_clinician")
            .filter(program_id__in=program_ids_for(user), patient__organization_id=user.organization_id)
            .get(public_id=public_id)
        )
    except EpisodeOfCare.DoesNotExist:
        pass
    episode = emergency.episode_under_grant(user, public_id) if cap in emergency.READ_CAPS else None
    if episode is None:
        raise Http404
    return episode


def get_coverage_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.EDIT_COVERAGE) -> Coverage:
    require(user, cap)
    return get_object_or_404(
        Coverage.objects.select_related("patient").filter(patient__in=patients_for_user(user)), public_id=public_id
    )


def get_contact_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.EDIT_DEMOGRAPHICS) -> SupportContact:
    require(user, cap)
    return get_object_or_404(
        SupportContact.objects.select_related("patient").filter(patient__in=patients_for_user(user)),
        public_id=public_id,
    )


def tracks_for_program(program: Program) -> QuerySet[Track]:
    return Track.objects.filter(program=program, is_active=True).order_by("start_time", "name")


def staff_of_program(program: Program, roles: tuple[str, ...] = PRIMARY_CLINICIAN_ROLES) -> QuerySet[User]:
    """Active staff of the program in the given roles (primary clinician and care team choices)."""
    return User.objects.filter(is_active=True, role__in=roles, memberships__program=program).order_by(
        "last_name", "first_name", "username"
    )


def caseload_for(user: User) -> QuerySet[EpisodeOfCare]:
    """Open episodes where the user is the primary clinician or on the care team, in the user's programs.

    Rendering it shows patients, so the caller writes a PATIENTS_LISTED audit row for the request.
    """
    if not user.is_authenticated or not user.can(Cap.VIEW_PATIENTS) or user.organization_id is None:
        return EpisodeOfCare.objects.none()
    on_team = CareTeamMember.objects.filter(user=user).values("episode_id")
    return (
        EpisodeOfCare.objects.filter(
            program_id__in=program_ids_for(user),
            patient__organization_id=user.organization_id,
            patient__is_active=True,
        )
        .exclude(status=EpisodeOfCare.Status.DISCHARGED)
        .filter(Q(primary_clinician=user) | Q(pk__in=on_team))
        .select_related("patient", "program", "track", "primary_clinician")
        .order_by("patient__legal_last_name", "patient__legal_first_name", "program__name")
    )


# --- Payers -----------------------------------------------------------------------------------------------------


def payer_choices(organization: Organization, current: Payer | None = None) -> QuerySet[Payer]:
    """The payers a coverage may be pointed at: the organization's active ones, and the one it points at already."""
    active = Q(is_active=True)
    if current is not None:
        active |= Q(pk=current.pk)
    return Payer.objects.filter(active, organization=organization).order_by("name", "pk")
