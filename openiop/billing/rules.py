"""Which payer rule applies to an episode on a day, and the weekly dose minimum that follows from it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Q

from openiop.billing.models import PayerRule
from openiop.patients.models import Coverage, EpisodeOfCare


def payer_kind_on(episode: EpisodeOfCare, day: date) -> str:
    """The payer kind of the patient's primary active coverage on ``day`` ('' when there is none)."""
    coverage = (
        Coverage.objects.filter(patient_id=episode.patient_id, is_active=True)
        .filter(Q(effective_from__isnull=True) | Q(effective_from__lte=day))
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("priority", "pk")
        .first()
    )
    return coverage.payer_kind if coverage is not None else ""


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
    """The payer's weekly minimum when its rule sets one, else the program's (9 adult, 6 adolescent:
    docs/clinical-rules.md#weekly-dose)."""
    rule = rule_for(episode, day)
    if rule is not None and rule.weekly_dose_hours is not None:
        return rule.weekly_dose_hours
    return episode.program.weekly_dose_hours
