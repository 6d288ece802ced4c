"""The demo clinic's payer rules, entered through the real action (idempotent: rules that exist are left alone).

The numbers are the published ones (docs/clinical-rules.md#billable-days): Medicare pays per diem for 3-service days
and more for 4-or-more-service days (CMHC APC 5851/5852); S9480 is the commercial psychiatric IOP per diem; H0015 is
SUD IOP, "at least 3 hours a day and at least 3 days a week". The adolescent program's rule (2 services and 120
minutes a day) is the demo's stand-in for a payer's adolescent contract. A session counting as a service from 15
minutes is the demo's own choice, not a payer's; a real clinic enters its contracts here.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from openiop.accounts.models import User
from openiop.billing.actions import do_create_payer_rule
from openiop.billing.models import PayerRule
from openiop.patients.models import Coverage
from openiop.programs.models import Organization, Program

DEMO_RULES: list[dict[str, Any]] = [
    {
        "name": "Medicare IOP (CMHC)",
        "payer_kind": Coverage.PayerKind.MEDICARE,
        "code": "APC 5851/5852",
        "min_services_per_day": 3,
        "high_tier_services": 4,
        "min_minutes_per_day": 0,
        "min_minutes_per_service": 15,
        "weekly_dose_hours": Decimal("9"),
    },
    {
        "name": "Commercial psychiatric IOP",
        "payer_kind": "",
        "code": "S9480",
        "min_services_per_day": 3,
        "min_minutes_per_day": 180,
        "min_minutes_per_service": 15,
    },
    {
        # The after-school track is two one-hour groups a day, three days a week (the adolescent 6-hour week), so the
        # adult 3-services-and-180-minutes day would make no adolescent day billable. Payers that cover adolescent IOP
        # contract a shorter day (ASAM level 2.1 for adolescents is at least 6 hours a week); this program rule
        # stands in for such a contract, and a payer's own rule (Medicare) still comes first.
        "name": "Adolescent IOP",
        "program": "teen",
        "payer_kind": "",
        "code": "S9480",
        "min_services_per_day": 2,
        "min_minutes_per_day": 120,
        "min_minutes_per_service": 15,
    },
    {
        "name": "SUD IOP",
        "program": "su",
        "payer_kind": "",
        "code": "H0015",
        "min_services_per_day": 1,
        "min_minutes_per_day": 180,
        "min_minutes_per_service": 15,
        "weekly_dose_hours": Decimal("9"),
    },
]


def ensure_demo_payer_rules(
    organization: Organization, programs: Mapping[str, Program], *, acting_user: User | None
) -> list[PayerRule]:
    made = []
    existing = set(PayerRule.objects.filter(organization=organization).values_list("name", flat=True))
    for spec in DEMO_RULES:
        if spec["name"] in existing:
            continue
        fields = dict(spec)
        program_key = fields.pop("program", None)
        fields["program"] = programs[program_key] if program_key else None
        made.append(do_create_payer_rule(acting_user=acting_user, organization=organization, **fields))
    return made
