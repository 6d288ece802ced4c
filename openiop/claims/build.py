"""Building claims from billable days: one claim per episode, payer and period, one line per billable day.

For a program, a payer and a period (usually a month), after deciding every billable day still pending in it:
each billable day whose primary coverage on that day is with the payer, and that no live claim holds, goes on its
episode's claim as one per-diem line: the payer's revenue code and per-diem code for the day's tier (the payer's
program setting), one day (unit basis DA on an 837I, units on an 837P), charged at the fee schedule's rate. The
claim copies what the file will carry (type of bill, place of service, diagnoses, condition codes, the authorization
number, the attending and supervising clinicians) and is scrubbed at once: clean claims are ready, the others stay
drafts with every problem named (``scrub.py``).

A day is on at most one live claim: a partial unique constraint on the lines, so two builds at once cannot both take
it (the second skips the episode and says so).
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

from openiop.billing.days import decide_pending
from openiop.billing.models import BillableDay, ClinicianBillingIdentity, PayerProgramSetting
from openiop.billing.rates import rate_for
from openiop.claims.models import Claim, ClaimEvent, ClaimLine, ControlCounter
from openiop.claims.scrub import scrub
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.intake.models import Diagnosis
from openiop.patients.models import Coverage, EpisodeOfCare, Payer
from openiop.utilization.models import Authorization

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.programs.models import Organization, Program

# The longest period one build covers: claims are monthly in practice, and a payer's statement period is one claim.
MAX_PERIOD_DAYS = 31


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


def authorization_for(episode: EpisodeOfCare, days: list[date]) -> Authorization | None:
    """The approved authorization covering the claim's first day (the scrubber checks it covers them all)."""
    return (
        Authorization.objects.filter(
            episode=episode, status=Authorization.Status.APPROVED, start_date__lte=min(days), end_date__gte=min(days)
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


def _lines_for(claim: Claim, setting: PayerProgramSetting, days: list[BillableDay]) -> None:
    for number, day in enumerate(days, start=1):
        code = setting.code_for(day.tier)
        rate = rate_for(claim.payer, code, "", day.tier, day.date) if code else None
        ClaimLine.objects.create(
            claim=claim,
            line_number=number,
            billable_day=day,
            service_date=day.date,
            revenue_code=setting.revenue_code if claim.claim_type == Claim.ClaimType.INSTITUTIONAL else "",
            procedure_code=code,
            tier=day.tier,
            unit_basis="DA" if claim.claim_type == Claim.ClaimType.INSTITUTIONAL else "UN",
            units=Decimal(1),
            charge=rate if rate is not None else Decimal("0"),
        )


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


def fill_claim(claim: Claim, setting: PayerProgramSetting, days: list[BillableDay]) -> None:
    """Copy what the file carries onto ``claim`` and write its lines (the claim is saved, its lines are new)."""
    episode = claim.episode
    claim.claim_type = setting.claim_type
    claim.type_of_bill = (setting.type_of_bill + claim.frequency) if setting.type_of_bill else ""
    claim.place_of_service = setting.place_of_service
    claim.diagnoses = diagnoses_for(episode)
    claim.condition_codes = ["92"] if setting.condition_code_92 else []
    authorization = authorization_for(episode, [d.date for d in days]) if days else None
    claim.authorization_number = authorization.number if authorization else ""
    clinician = episode.primary_clinician
    supervisor = clinician.supervisor if clinician is not None and clinician.supervisor_id else None
    if claim.claim_type == Claim.ClaimType.INSTITUTIONAL:
        claim.attending, claim.supervising = attending_for(episode, supervisor or clinician), None
    else:
        # Professional: the clinician who rendered the services, with their supervisor named as supervising.
        claim.attending, claim.supervising = clinician, supervisor
    claim.save()
    _lines_for(claim, setting, days)
    claim.total_charge = sum((line.charge for line in claim.lines.all()), Decimal("0"))
    claim.save(update_fields=["total_charge", "updated_at"])


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
        days = [day for day, _ in rows]
        try:
            with transaction.atomic():
                episode = EpisodeOfCare.objects.select_related("patient", "primary_clinician__supervisor").get(
                    pk=episode_id
                )
                claim = Claim.objects.create(
                    organization=organization,
                    program=program,
                    episode=episode,
                    patient=episode.patient,
                    coverage_id=rows[-1][1],
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
                fill_claim(claim, setting, days)
                apply_scrub(claim, acting_user=acting_user)
                audit.record(
                    action=AuditAction.CREATED,
                    acting_user=acting_user,
                    patient=episode.patient,
                    obj=claim,
                    changed_fields=["lines", "status"],
                )
        except IntegrityError:
            # Another build took one of these days first (the one-live-claim-per-day constraint).
            result.skipped.append(f"Episode {episode_id}: its days were claimed by another build at the same time.")
            continue
        result.created.append(claim)
    return result
