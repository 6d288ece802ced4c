"""The fee schedule's one reading: the rate of a code on a day, for a payer or the organization's default.

Claims call ``rate_for`` for each line (the expected amount). Which row: the payer's own rows first, then the
organization's default rows (no payer); within them, a row for the day's tier before a row for every tier. Only
active rows whose dates hold the day count; the actions keep active rows of one key from overlapping, so at most one
row of each kind matches.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db.models import Q

from openiop.billing.models import FeeScheduleRate
from openiop.patients.models import Payer
from openiop.programs.models import Organization


class RateTable:
    """The fee schedule rows of some codes over a period, read in one query; ``rate`` answers as ``rate_for`` does
    for any day of the period (a claim's lines read their fees from one table, not one query each)."""

    def __init__(self, rows: list[FeeScheduleRate]) -> None:
        self.by_key: dict[tuple[str, str], list[FeeScheduleRate]] = {}
        for row in rows:
            self.by_key.setdefault((row.code, row.modifier), []).append(row)

    def rate(self, code: str, modifier: str, tier: str, on_date: date) -> Decimal | None:
        rows = [
            r
            for r in self.by_key.get((code.strip().upper(), modifier.strip().upper()), [])
            if r.tier in ("", tier)
            and r.effective_from <= on_date
            and (r.effective_to is None or r.effective_to >= on_date)
        ]
        if not rows:
            return None
        # The payer's own row before the default; the tier's row before the every-tier one.
        best = min(rows, key=lambda r: (r.payer_id is None, r.tier == ""))
        return best.rate


def rate_table(
    payer: Payer | None,
    codes: Iterable[str],
    start: date,
    end: date,
    *,
    organization: Organization | None = None,
) -> RateTable:
    """The active rows of ``codes`` (any modifier, any tier) in force on some day from ``start`` to ``end``: the
    payer's own and the organization's defaults (only the defaults without a payer; ``organization`` is then
    required). One query."""
    org_id = payer.organization_id if payer is not None else (organization.pk if organization is not None else None)
    if org_id is None:
        raise ValueError("rate_table needs a payer or the organization.")
    whose = Q(payer__isnull=True) if payer is None else Q(payer=payer) | Q(payer__isnull=True)
    rows = FeeScheduleRate.objects.filter(
        whose,
        Q(effective_to__isnull=True) | Q(effective_to__gte=start),
        organization_id=org_id,
        is_active=True,
        code__in={c.strip().upper() for c in codes},
        effective_from__lte=end,
    ).only("payer_id", "code", "modifier", "tier", "rate", "effective_from", "effective_to")
    return RateTable(list(rows))


def rate_for(
    payer: Payer | None,
    code: str,
    modifier: str,
    tier: str,
    on_date: date,
    *,
    organization: Organization | None = None,
) -> Decimal | None:
    """The rate for ``code`` with exactly ``modifier`` ("" for none: a modifier changes the payment, so a row without
    one never stands in for a modified code) and ``tier`` ("" when the line has none) on ``on_date``, or None when
    neither the payer nor the organization has one. Without a payer, the organization's default (``organization``
    is then required). One query."""
    return rate_table(payer, [code], on_date, on_date, organization=organization).rate(code, modifier, tier, on_date)
