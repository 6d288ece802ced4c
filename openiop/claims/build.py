"""Building claims from billable days: one claim per episode, payer and period, one line per billable day.

For a program, a payer and a period (usually a month), after deciding every billable day still pending in it:
each billable day whose primary coverage on that day is with the payer, and that no live claim holds, goes on its
episode's claim as one per-diem line: the payer's revenue code and per-diem code for the day's tier (the payer's
program setting), one day (unit basis DA on an 837I, units on an 837P), charged at the fee schedule's rate. The
claim copies what the file will carry (type of bill, place of service, diagnoses, condition codes, the authorization
number, the attending and supervising clinicians) and is scrubbed at once: clean claims are ready, the others stay
drafts with every problem named (``scrub.py``).

A payer setting without a per-diem code bills **each service** instead (Medicare's IOP claims, a plan paying per
CPT code): every service the day's decision counted becomes a line with its own code (``billing.services``: the
session type's code, else the service kind and minutes), the day's revenue code or the session type's, the
telehealth modifier and place of service, and the clinician who led it. A professional claim carries at most 50
lines, so a month of services is split over several claims, whole days each.

A day (a per-diem line) or a service (a per-service line) is on at most one live claim: partial unique constraints
on the lines, so two builds at once cannot both take it (the second skips the episode and says so).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from openiop.attendance.models import AttendanceRecord
from openiop.billing.days import day_bounds, decide_pending
from openiop.billing.models import BillableDay, ClinicianBillingIdentity, PayerProgramSetting
from openiop.billing.rates import RateTable, rate_table
from openiop.billing.services import TELEHEALTH_MODIFIER, procedure_for
from openiop.claims.models import Claim, ClaimEvent, ClaimLine, ControlCounter
from openiop.claims.scrub import MAX_LINES_837P, scrub
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.intake.models import Diagnosis
from openiop.patients.models import Coverage, EpisodeOfCare, Payer
from openiop.scheduling.models import Session, SessionType
from openiop.utilization.models import Authorization

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.programs.models import Organization, Program

# The longest period one build covers: claims are monthly in practice, and a payer's statement period is one claim.
MAX_PERIOD_DAYS = 31
# Professional place of service for a telehealth service: the patient at home (10) is the IOP's usual case.
TELEHEALTH_HOME = "10"


@dataclass
class BuildResult:
    created: list[Claim] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why an episode's days were left for later, in words

    @property
    def ready(self) -> int:
        return sum(1 for c in self.created if c.status == Claim.Status.READY)


def next_number(organization: Organization, name: str) -> int:
    """The next value of a control counter, under a row lock (created at 0 the first time)."""
    ControlCounter.objects.get_or_create(organization=organization, name=name)
    counter = ControlCounter.objects.select_for_update().get(organization=organization, name=name)
    counter.value += 1
    counter.save(update_fields=["value"])
    return counter.value


def setting_for(payer: Payer, program: Program) -> PayerProgramSetting:
    setting = PayerProgramSetting.objects.filter(payer=payer, program=program, is_active=True).first()
    if setting is None:
        raise ValidationError({"payer": f"{payer.name} has no billing setting for {program.name} (Billing setup)."})
    return setting


def check_period(start: date | None, end: date | None) -> tuple[date, date]:
    errors = {}
    if start is None:
        errors["period_start"] = "Enter the first day of the period."
    if end is None:
        errors["period_end"] = "Enter the last day of the period."
    if errors:
        raise ValidationError(errors)
    assert start is not None and end is not None  # narrowing: checked above
    if end < start:
        raise ValidationError({"period_end": "The period ends before it starts."})
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise ValidationError({"period_end": f"A claim covers at most {MAX_PERIOD_DAYS} days; build month by month."})
    return start, end


def diagnoses_for(episode: EpisodeOfCare) -> list[str]:
    """The episode's active diagnoses (its own and its intake's), principal first, each code once."""
    rows = Diagnosis.objects.filter(is_active=True).exclude(
        status__in=(Diagnosis.Status.RULED_OUT, Diagnosis.Status.RESOLVED)
    )
    rows = rows.filter(Q(episode=episode) | Q(assessment__episode=episode)).order_by("-is_primary", "created_at", "pk")
    codes: list[str] = []
    for code in rows.values_list("code", flat=True):
        if code not in codes:
            codes.append(code)
    return codes[:12]  # an 837 carries at most 12 diagnoses


def authorization_for(episode: EpisodeOfCare, coverage_id: int, days: list[date]) -> Authorization | None:
    """The approved authorization of the claim's coverage (the payer billed: another payer's authorization does not
    count) covering the claim's first day (the scrubber checks it covers them all)."""
    return (
        Authorization.objects.filter(
            episode=episode,
            coverage_id=coverage_id,
            status=Authorization.Status.APPROVED,
            start_date__lte=min(days),
            end_date__gte=min(days),
        )
        .order_by("-start_date")
        .first()
    )


def _payer_days(program: Program, payer: Payer, start: date, end: date) -> dict[int, list[tuple[BillableDay, int]]]:
    """Billable days of the period not on a live claim, whose primary coverage that day is with ``payer``, by
    episode: (day, coverage id)."""
    days = (
        BillableDay.objects.filter(program=program, date__gte=start, date__lte=end, is_billable=True)
        .exclude(claim_lines__released=False)
        .select_related("episode")
        .order_by("episode_id", "date")
    )
    patient_ids = {d.patient_id for d in days}
    coverages = defaultdict(list)
    for coverage in Coverage.objects.filter(
        patient_id__in=patient_ids, is_active=True, priority=Coverage.Priority.PRIMARY
    ).order_by("-created_at"):
        coverages[coverage.patient_id].append(coverage)
    by_episode: dict[int, list[tuple[BillableDay, int]]] = defaultdict(list)
    for day in days:
        current = next(
            (
                c
                for c in coverages.get(day.patient_id, [])
                if (c.effective_from is None or c.effective_from <= day.date)
                and (c.effective_to is None or c.effective_to >= day.date)
            ),
            None,
        )
        if current is not None and current.payer_id == payer.pk:
            by_episode[day.episode_id].append((day, current.pk))
    return by_episode


@dataclass
class Service:
    """One attended service of a billable day, as a per-service line bills it."""

    day: BillableDay
    record: AttendanceRecord
    code: str
    problem: str
    revenue_code: str
    modifiers: list[str]
    place_of_service: str
    rendering: User | None
    supervising: User | None
    description: str


def per_service(setting: PayerProgramSetting) -> bool:
    """A setting without a per-diem code lists each service (its help text says so)."""
    return not setting.code_standard


def _may(user: User | None, role: str) -> bool:
    identity = getattr(user, "billing_identity", None) if user is not None else None
    return identity is not None and identity.is_active and bool(getattr(identity, role))


def _renderer(session: Session) -> tuple[User | None, User | None]:
    """Who rendered a session, and who supervised them: the first facilitator whose NPI may render; else the first
    facilitator's supervisor when theirs may (a supervised clinician's service billed under the supervisor); else
    the first facilitator, for the scrubber to name."""
    facilitators = sorted(session.facilitators.all(), key=lambda u: u.pk)
    if not facilitators:
        return None, None
    for user in facilitators:
        if _may(user, "may_render"):
            supervisor = user.supervisor if user.supervisor_id and _may(user.supervisor, "may_supervise") else None
            return user, supervisor
    first = facilitators[0]
    if first.supervisor_id and _may(first.supervisor, "may_render"):
        return first.supervisor, None
    return first, None


def services_for(episode: EpisodeOfCare, setting: PayerProgramSetting, days: list[BillableDay]) -> list[Service]:
    """The services the days' decisions counted (attended, not cancelled, toward the dose, at least the rule's
    minutes per service), in time order, each with what its line will carry."""
    if not days:
        return []
    by_date = {day.date: day for day in days}
    start, _ = day_bounds(episode.program, min(by_date))
    _, end = day_bounds(episode.program, max(by_date))
    records = (
        AttendanceRecord.objects.filter(
            episode=episode,
            status__in=AttendanceRecord.ATTENDED,
            session__starts_at__gte=start,
            session__starts_at__lt=end,
            session__session_type__counts_toward_dose=True,
        )
        .exclude(session__status=Session.Status.CANCELLED)
        .select_related("session__session_type")
        .prefetch_related(
            "session__facilitators__billing_identity", "session__facilitators__supervisor__billing_identity"
        )
        .order_by("session__starts_at", "pk")
    )
    tz = episode.program.tz()
    services = []
    for record in records:
        session = record.session
        day = by_date.get(timezone.localtime(session.starts_at, tz).date())
        if day is None:
            continue
        minimum = day.rule.min_minutes_per_service if day.rule is not None else 1
        if record.minutes_attended < minimum:
            continue
        kind: SessionType = session.session_type
        code, problem = procedure_for(kind.service_kind, record.minutes_attended, kind.procedure_code)
        remote = session.mode == SessionType.Mode.TELEHEALTH
        rendering, supervising = _renderer(session)
        services.append(
            Service(
                day=day,
                record=record,
                code=code,
                problem=problem,
                revenue_code=kind.revenue_code or setting.revenue_code,
                modifiers=[TELEHEALTH_MODIFIER] if remote else [],
                place_of_service=TELEHEALTH_HOME if remote else "",
                rendering=rendering,
                supervising=supervising,
                description=f"{kind.name}, {record.minutes_attended} min" + (" (telehealth)" if remote else ""),
            )
        )
    return services


def split_days(days: list[BillableDay], services: list[Service], limit: int) -> list[list[BillableDay]]:
    """``days`` in runs whose services fit ``limit`` lines, whole days each (a day never straddles two claims)."""
    count: dict[int, int] = defaultdict(int)
    for service in services:
        count[service.day.pk] += 1
    runs: list[list[BillableDay]] = [[]]
    used = 0
    for day in sorted(days, key=lambda d: d.date):
        if runs[-1] and used + count[day.pk] > limit:
            runs.append([])
            used = 0
        runs[-1].append(day)
        used += count[day.pk]
    return runs


class _Fees:
    """A claim's fees, read in one query for its codes and days. A telehealth modifier is paid at the code's own
    rate unless the schedule has a row for the modified code (payment parity)."""

    def __init__(self, payer: Payer, codes: set[str], days: list[date]) -> None:
        self.table = rate_table(payer, codes, min(days), max(days)) if codes and days else RateTable([])

    def __call__(self, code: str, modifiers: list[str], tier: str, on: date) -> Decimal:
        if not code:
            return Decimal("0")
        modifier = modifiers[0] if modifiers else ""
        rate = self.table.rate(code, modifier, tier, on)
        if rate is None and modifier == TELEHEALTH_MODIFIER:
            rate = self.table.rate(code, "", tier, on)
        return rate if rate is not None else Decimal("0")  # no fee: the scrubber names the line


def _service_lines(claim: Claim, services: list[Service]) -> list[ClaimLine]:
    fees = _Fees(claim.payer, {s.code for s in services if s.code}, [s.day.date for s in services])
    institutional = claim.claim_type == Claim.ClaimType.INSTITUTIONAL
    return [
        ClaimLine(
            claim=claim,
            line_number=number,
            billable_day=service.day,
            attendance_record=service.record,
            service_date=service.day.date,
            revenue_code=service.revenue_code if institutional else "",
            procedure_code=service.code,
            problem=service.problem[:300],
            modifiers=service.modifiers,
            tier=service.day.tier,
            unit_basis="UN",
            units=Decimal(1),
            charge=fees(service.code, service.modifiers, "", service.day.date),
            description=service.description[:120],
            rendering=service.rendering,
            supervising=service.supervising,
            place_of_service="" if institutional else service.place_of_service,
        )
        for number, service in enumerate(services, start=1)
    ]


def _day_lines(claim: Claim, setting: PayerProgramSetting, days: list[BillableDay]) -> list[ClaimLine]:
    institutional = claim.claim_type == Claim.ClaimType.INSTITUTIONAL
    fees = _Fees(claim.payer, {setting.code_for(d.tier) for d in days} - {""}, [d.date for d in days])
    return [
        ClaimLine(
            claim=claim,
            line_number=number,
            billable_day=day,
            service_date=day.date,
            revenue_code=setting.revenue_code if institutional else "",
            procedure_code=setting.code_for(day.tier),
            tier=day.tier,
            unit_basis="DA" if institutional else "UN",
            units=Decimal(1),
            charge=fees(setting.code_for(day.tier), [], day.tier, day.date),
        )
        for number, day in enumerate(days, start=1)
    ]


def attending_for(episode: EpisodeOfCare, clinician: User | None) -> User | None:
    """The attending provider of an institutional claim: the clinician responsible for the care (a supervised
    clinician's supervisor) when their NPI may be named as attending, else the program's attending clinician (a
    member of the program's staff whose NPI may attend, e.g. its physician or medical director; the longest-standing
    first). None when the program has none: the scrubber names it."""
    if clinician is not None:
        identity = ClinicianBillingIdentity.objects.filter(user=clinician, is_active=True, may_attend=True)
        if identity.exists():
            return clinician
    found = (
        ClinicianBillingIdentity.objects.filter(
            is_active=True,
            may_attend=True,
            user__is_active=True,
            user__memberships__program_id=episode.program_id,
        )
        .select_related("user")
        .order_by("user_id")
        .first()
    )
    return found.user if found is not None else clinician


def fill_claim(
    claim: Claim, setting: PayerProgramSetting, days: list[BillableDay], services: list[Service] | None = None
) -> None:
    """Copy what the file carries onto ``claim`` and write its lines (the claim is saved, its lines are new):
    one per day, or one per service when the setting lists services (``services`` when the caller read them)."""
    episode = claim.episode
    claim.claim_type = setting.claim_type
    claim.type_of_bill = (setting.type_of_bill + claim.frequency) if setting.type_of_bill else ""
    claim.place_of_service = setting.place_of_service
    claim.diagnoses = diagnoses_for(episode)
    claim.condition_codes = ["92"] if setting.condition_code_92 else []
    authorization = authorization_for(episode, claim.coverage_id, [d.date for d in days]) if days else None
    claim.authorization_number = authorization.number if authorization else ""
    clinician = episode.primary_clinician
    supervisor = clinician.supervisor if clinician is not None and clinician.supervisor_id else None
    if claim.claim_type == Claim.ClaimType.INSTITUTIONAL:
        claim.attending, claim.supervising = attending_for(episode, supervisor or clinician), None
    else:
        # Professional: the clinician who rendered the services, with their supervisor named as supervising.
        claim.attending, claim.supervising = clinician, supervisor
    if per_service(setting):
        if services is None:
            services = services_for(episode, setting, days)
        renderers = {(s.rendering, s.supervising) for s in services}
        if claim.claim_type == Claim.ClaimType.PROFESSIONAL and len(renderers) == 1:
            # One clinician led every service: named once for the claim (lines repeat it only when they differ).
            claim.attending, claim.supervising = renderers.pop()
        lines = _service_lines(claim, services)
    else:
        lines = _day_lines(claim, setting, days)
    # One insert for all the lines; the partial unique constraints still refuse a day or service already claimed.
    ClaimLine.objects.bulk_create(lines)
    claim.total_charge = sum((line.charge for line in lines), Decimal("0"))
    claim.save()


def apply_scrub(claim: Claim, *, acting_user: User | None) -> list[dict[str, str]]:
    """Scrub and move between draft and ready accordingly (with a history step when the status changes)."""
    problems = scrub(claim)
    claim.problems = problems
    wanted = Claim.Status.DRAFT if problems else Claim.Status.READY
    old = claim.status
    if old in (Claim.Status.DRAFT, Claim.Status.READY, Claim.Status.REJECTED) and old != wanted:
        claim.status = wanted
        ClaimEvent.objects.create(
            claim=claim,
            at=timezone.now(),
            from_status=old,
            to_status=wanted,
            by=acting_user,
            note="Scrubbed clean." if not problems else f"{len(problems)} problem(s) to fix.",
        )
    claim.save(update_fields=["problems", "status", "updated_at"])
    return problems


def build_claims(
    *, acting_user: User | None, program: Program, payer: Payer, start: date | None, end: date | None
) -> BuildResult:
    """Claims for every episode of ``program`` with unclaimed billable days of ``payer`` in the period."""
    start, end = check_period(start, end)
    if payer.organization_id != program.site.organization_id:
        raise ValidationError({"payer": "Choose a payer of this organization."})
    setting = setting_for(payer, program)
    # Claims are built from the latest attendance: decide whatever is still pending in the period first.
    decide_pending(program=program, since=start, until=end)
    result = BuildResult()
    organization = program.site.organization
    for episode_id, rows in _payer_days(program, payer, start, end).items():
        all_days = [day for day, _ in rows]
        try:
            with transaction.atomic():
                episode = EpisodeOfCare.objects.select_related(
                    "patient", "primary_clinician__supervisor", "program"
                ).get(pk=episode_id)
                services = services_for(episode, setting, all_days) if per_service(setting) else None
                runs = [all_days]
                if services is not None and setting.claim_type == Claim.ClaimType.PROFESSIONAL:
                    runs = split_days(all_days, services, MAX_LINES_837P)
                claims = [
                    _build_one(organization, program, payer, setting, episode, rows, days, services, acting_user)
                    for days in runs
                ]
        except IntegrityError:
            # Another build took one of these days first (the one-live-claim-per-day constraint).
            result.skipped.append(f"Episode {episode_id}: its days were claimed by another build at the same time.")
            continue
        result.created.extend(claims)
    return result


def _build_one(
    organization: Organization,
    program: Program,
    payer: Payer,
    setting: PayerProgramSetting,
    episode: EpisodeOfCare,
    rows: list[tuple[BillableDay, int]],
    days: list[BillableDay],
    services: list[Service] | None,
    acting_user: User | None,
) -> Claim:
    """One claim of ``days`` (all the episode's days of the period, or one run of them when split)."""
    wanted = {day.pk for day in days}
    coverage_id = [coverage for day, coverage in rows if day.pk in wanted][-1]
    claim = Claim.objects.create(
        organization=organization,
        program=program,
        episode=episode,
        patient=episode.patient,
        coverage_id=coverage_id,
        payer=payer,
        number=next_number(organization, "claim"),
        claim_type=setting.claim_type,
        period_start=min(d.date for d in days),
        period_end=max(d.date for d in days),
        created_by=acting_user,
    )
    ClaimEvent.objects.create(
        claim=claim, at=timezone.now(), to_status=Claim.Status.DRAFT, by=acting_user, note="Built."
    )
    mine = [s for s in services if s.day.pk in wanted] if services is not None else None
    fill_claim(claim, setting, days, mine)
    apply_scrub(claim, acting_user=acting_user)
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=episode.patient,
        obj=claim,
        changed_fields=["lines", "status"],
    )
    return claim
