"""Which payer rule applies to an episode on a day, and the weekly dose minimum that follows from it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.db.models import OuterRef, Q, QuerySet, Subquery

from openiop.billing.models import PayerProgramSetting, PayerRule
from openiop.patients.models import Coverage, EpisodeOfCare


def _coverages_on(day: date) -> QuerySet[Coverage]:
    """Active coverages in effect on ``day``, the primary first."""
    return (
        Coverage.objects.filter(is_active=True)
        .filter(Q(effective_from__isnull=True) | Q(effective_from__lte=day))
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("priority", "pk")
    )


def payer_kind_on(episode: EpisodeOfCare, day: date) -> str:
    """The payer kind of the patient's primary active coverage on ``day`` ('' when there is none)."""
    coverage = _coverages_on(day).filter(patient_id=episode.patient_id).first()
    return coverage.payer_kind if coverage is not None else ""


def payer_kind_subquery(day: date) -> Subquery:
    """``payer_kind_on`` as a subquery of an episode query (None when there is none), so the episode read that
    needs it reads the payer kind too."""
    return Subquery(_coverages_on(day).filter(patient_id=OuterRef("patient_id")).values("payer_kind")[:1])


def precedence(rule: PayerRule) -> tuple[bool, bool]:
    """How specific a rule is. The payer decides what a billable day is, so a payer's own rule beats a program's
    catch-all: program + payer kind, then payer kind, then program (any payer), then the organization default."""
    return (rule.payer_kind != "", rule.program_id is not None)


def rule_for(episode: EpisodeOfCare, day: date, payer_kind: str | None = None) -> PayerRule | None:
    """The most specific active rule for the episode's program and the patient's payer (see ``precedence``)."""
    if payer_kind is None:
        payer_kind = payer_kind_on(episode, day)
    program = episode.program
    candidates = list(
        PayerRule.objects.filter(organization_id=program.site.organization_id, is_active=True)
        .filter(Q(program__isnull=True) | Q(program_id=program.pk))
        .filter(Q(payer_kind="") | Q(payer_kind=payer_kind))
        .order_by("pk")
    )

    return max(candidates, key=precedence, default=None)


def weekly_minimum_hours(episode: EpisodeOfCare, day: date) -> Decimal:
    """The payer's weekly minimum when its rule sets one, else that of the episode's level of care on ``day`` (the
    program's: 9 adult, 6 adolescent in IOP; docs/clinical-rules.md#weekly-dose and #level-of-care)."""
    rule = rule_for(episode, day)
    if rule is not None and rule.weekly_dose_hours is not None:
        return rule.weekly_dose_hours
    return episode.dose_hours_on(day)


class Minimums:
    """Weekly minimums for many episodes: the same answer as ``weekly_minimum_hours`` (the most specific payer rule
    with a minimum, else the program's), from two queries instead of two per call. The dose engine
    (attendance/dose.py) uses it through ``dose.minimums_source``, provided in billing/apps.py."""

    def __init__(self, episodes: Sequence[EpisodeOfCare]) -> None:
        patient_ids = {e.patient_id for e in episodes}
        organizations = {e.program.site.organization_id for e in episodes}
        self._coverages: dict[int, list[Coverage]] = defaultdict(list)
        if patient_ids:
            for coverage in Coverage.objects.filter(patient_id__in=patient_ids, is_active=True).order_by(
                "priority", "pk"
            ):
                self._coverages[coverage.patient_id].append(coverage)
        self._rules = (
            list(PayerRule.objects.filter(organization_id__in=organizations, is_active=True).order_by("pk"))
            if organizations
            else []
        )

    def payer_kind(self, episode: EpisodeOfCare, day: date) -> str:
        for c in self._coverages.get(episode.patient_id, []):
            if (c.effective_from is None or c.effective_from <= day) and (
                c.effective_to is None or c.effective_to >= day
            ):
                return c.payer_kind
        return ""

    def rule(self, episode: EpisodeOfCare, day: date) -> PayerRule | None:
        program = episode.program
        kind = self.payer_kind(episode, day)
        candidates = [
            r
            for r in self._rules
            if r.organization_id == program.site.organization_id
            and (r.program_id is None or r.program_id == program.pk)
            and (r.payer_kind == "" or r.payer_kind == kind)
        ]
        return max(candidates, key=precedence, default=None)

    def hours(self, episode: EpisodeOfCare, day: date) -> Decimal:
        return self.with_source(episode, day)[0]

    def with_source(self, episode: EpisodeOfCare, day: date) -> tuple[Decimal, str]:
        """The minimum and where it came from: the payer rule's name, or "" for the program's own."""
        rule = self.rule(episode, day)
        if rule is not None and rule.weekly_dose_hours is not None:
            return rule.weekly_dose_hours, rule.name
        return episode.dose_hours_on(day), ""


def payer_setting_on(episode: EpisodeOfCare, day: date) -> PayerProgramSetting | None:
    """How the payer of the patient's primary active coverage on ``day`` is billed for the episode's program: its
    active setting, or None (no coverage on the day, a coverage naming no payer yet, or no setting for the pair).
    Claims read the claim type and codes from it; whether the payer wants prior authorization is its
    ``authorization_required``. Two queries."""
    coverage = _coverages_on(day).filter(patient_id=episode.patient_id).first()
    if coverage is None or coverage.payer_id is None:
        return None
    return PayerProgramSetting.objects.filter(
        payer_id=coverage.payer_id, program_id=episode.program_id, is_active=True
    ).first()
