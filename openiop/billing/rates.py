"""The fee schedule's one reading: the rate of a code on a day, for a payer or the organization's default.

Claims call ``rate_for`` for each line (the expected amount). Which row: the payer's own rows first, then the
organization's default rows (no payer); within them, a row for the day's tier before a row for every tier. Only
active rows whose dates hold the day count; the actions keep active rows of one key from overlapping, so at most one
row of each kind matches.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Q

from openiop.billing.models import FeeScheduleRate
from openiop.patients.models import Payer
from openiop.programs.models import Organization


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
    org_id = payer.organization_id if payer is not None else (organization.pk if organization is not None else None)
    if org_id is None:
        raise ValueError("rate_for needs a payer or the organization.")
    whose = Q(payer__isnull=True) if payer is None else Q(payer=payer) | Q(payer__isnull=True)
    rows = list(
        FeeScheduleRate.objects.filter(
            whose,
            Q(effective_to__isnull=True) | Q(effective_to__gte=on_date),
            organization_id=org_id,
            is_active=True,
            code=code.strip().upper(),
            modifier=modifier.strip().upper(),
            tier__in={"", tier},
            effective_from__lte=on_date,
        ).only("payer_id", "tier", "rate")
    )
    if not rows:
        return None
    # The payer's own row before the default; the tier's row before the every-tier one.
    best = min(rows, key=lambda r: (r.payer_id is None, r.tier == ""))
    return best.rate
