"""The demo clinic's payer rules, entered through the real action (idempotent: rules that exist are left alone).

The numbers are the published ones (docs/clinical-rules.md#billable-days): Medicare pays per diem for 3-service days
and more for 4-or-more-service days (CMHC APC 5851/5852); S9480 is the commercial psychiatric IOP per diem; H0015 is
SUD IOP, "at least 3 hours a day and at least 3 days a week". The adolescent program's rule (2 services and 120
minutes a day) is the demo's stand-in for a payer's adolescent contract. A session counting as a service from 15
minutes is the demo's own choice, not a payer's; a real clinic enters its contracts here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from openiop.accounts.models import User
from openiop.billing.actions import (
    do_create_fee_rate,
    do_create_payer_rule,
    do_create_payer_setting,
    do_save_billing_provider,
    do_save_clinician_identity,
    do_save_site_identity,
)
from openiop.billing.models import (
    BillingProvider,
    ClinicianBillingIdentity,
    FeeScheduleRate,
    PayerProgramSetting,
    PayerRule,
    SiteBillingIdentity,
)
from openiop.lib.identifiers import make_npi
from openiop.patients.actions import do_create_payer
from openiop.patients.models import Coverage, Payer
from openiop.programs.models import Organization, Program, Site

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


# --- Billing identities, payers, payer program settings and the fee schedule -------------------------------------
# Every NPI is invented and check-digit valid (made with the real check digit from nine digits chosen here); the EIN,
# the payer ids and the rates are invented too, shaped like real ones. A real clinic copies its own from NPPES, the
# IRS letter, its MAC's and clearinghouse's payer lists and its contracts.

DEMO_PROVIDER: dict[str, Any] = {
    "legal_name": "Riverside Behavioral Health, Inc.",
    "npi": make_npi("154801234"),
    "tax_id": "14-5550123",
    "taxonomy_code": "261QM0801X",  # clinic/center, mental health (including community mental health center)
    "address_line1": "410 River Road",
    "city": "Riverside",
    "state": "NY",
    "postal_code": "12601-4410",
    "pay_to_line1": "PO Box 4410",
    "pay_to_city": "Riverside",
    "pay_to_state": "NY",
    "pay_to_postal_code": "12602-4410",
}
DEMO_SITE_NPIS = {"main": make_npi("164802345"), "hill": make_npi("174803456")}
# (NPI's first nine digits, taxonomy, attending, rendering, supervising) per demo username. The intern has none:
# a supervised clinician's services are billed under the supervisor's.
DEMO_CLINICIANS = {
    "director": ("125804567", "2084P0800X", True, True, True),  # psychiatry (MD)
    "clinician": ("135805678", "1041C0700X", False, True, True),  # clinical social worker (LCSW)
    "therapist": ("145806789", "101YP2500X", False, True, False),  # professional counselor (LPC)
    "counselor": ("155807890", "101YA0400X", False, True, False),  # addiction counselor (LADC)
}
Kind = Coverage.PayerKind
Filing = Payer.ClaimFilingIndicator
# The coverages the demo clinic gives its patients name these payers (demo/clinic.py): Medicare and Medicaid by the
# site's state (both sites' Medicare goes to the A/B MAC of their jurisdiction), the four invented commercial plans.
MEDICARE_PAYERS = {"NY": "Medicare Part A (J K MAC)", "IL": "Medicare Part A (J6 MAC)"}
# (name, EDI payer id, kind, claim filing indicator, timely filing days)
_PAYERS = [
    (MEDICARE_PAYERS["NY"], "13001", Kind.MEDICARE, Filing.MEDICARE_A, 365),
    (MEDICARE_PAYERS["IL"], "06001", Kind.MEDICARE, Filing.MEDICARE_A, 365),
    ("New York Medicaid", "NYMCD", Kind.MEDICAID, Filing.MEDICAID, 90),
    ("Illinois Medicaid", "ILMCD", Kind.MEDICAID, Filing.MEDICAID, 180),
    ("TRICARE East", "TRCRE", Kind.TRICARE, Filing.TRICARE, 365),
    ("Lakeshore Health Plan", "LKSHP", Kind.COMMERCIAL, Filing.COMMERCIAL, 90),
    ("Evergreen Mutual", "EVGRN", Kind.COMMERCIAL, Filing.COMMERCIAL, 120),
    ("Keystone Benefits", "KSTNB", Kind.COMMERCIAL, Filing.PPO, 180),
    ("Harborview Insurance", "HRBRV", Kind.COMMERCIAL, Filing.HMO, 90),
]
# Every payer gets a (fictional) claims address.
DEMO_PAYERS: list[dict[str, Any]] = [
    {"name": name, "payer_id": payer_id, "kind": kind, "claim_filing_indicator": filing, "timely_filing_days": days,
     "address_line1": f"PO Box {1000 + n}", "city": "Albany", "state": "NY", "postal_code": "12201"}
    for n, (name, payer_id, kind, filing, days) in enumerate(_PAYERS)
]  # fmt: skip


def demo_setting(payer: Payer, program: Program) -> dict[str, Any]:
    """How the demo bills one payer for one program: Medicare on the institutional claim with each service's own code
    and condition code 92 (a CMHC: type of bill 076x); Evergreen Mutual on the professional claim, each service by its
    CPT code (place of service 11, or 57 for substance use), authorized first; Medicaid on the professional claim with
    the per diem (place of service 57 for substance use, 53 for the mental health programs) and prior authorization;
    commercial plans and TRICARE institutionally with the per diem, authorized first."""
    substance_use = program.is_substance_use
    per_diem = "H0015" if substance_use else "S9480"
    if payer.kind == Kind.MEDICARE:
        return {"claim_type": "837I", "type_of_bill": "076", "revenue_code": "0906" if substance_use else "0905",
                "condition_code_92": True}  # fmt: skip
    if payer.name == PER_SERVICE_PLAN:
        return {"claim_type": "837P", "place_of_service": "57" if substance_use else "11",
                "authorization_required": True}  # fmt: skip
    if payer.kind == Kind.MEDICAID:
        return {"claim_type": "837P", "place_of_service": "57" if substance_use else "53", "code_standard": per_diem,
                "authorization_required": True}  # fmt: skip
    return {"claim_type": "837I", "type_of_bill": "076", "revenue_code": "0906" if substance_use else "0905",
            "code_standard": per_diem, "authorization_required": True}  # fmt: skip


# The commercial plan that pays each service by its CPT code on the professional claim, not a per diem.
PER_SERVICE_PLAN = "Evergreen Mutual"
# (payer name or None for the organization's default, code, tier, rate)
DEMO_RATES: list[tuple[str | None, str, str, str]] = [
    (None, "S9480", "", "275.00"),
    (None, "H0015", "", "225.00"),
    # Per-service codes (Medicare's IOP claim lists them; Evergreen Mutual pays them).
    (None, "90853", "", "95.00"),
    (None, "90832", "", "80.00"),
    (None, "90834", "", "120.00"),
    (None, "90837", "", "160.00"),
    (None, "90847", "", "140.00"),
    (None, "90791", "", "210.00"),
    (None, "G0177", "", "45.00"),
    (None, "99213", "", "110.00"),
    ("New York Medicaid", "S9480", "", "182.50"),
    ("New York Medicaid", "H0015", "", "151.20"),
    ("Illinois Medicaid", "S9480", "", "168.00"),
    ("Lakeshore Health Plan", "S9480", "", "310.00"),
    ("Lakeshore Health Plan", "H0015", "", "240.00"),
    ("TRICARE East", "S9480", "", "260.00"),
]


def ensure_demo_payers(organization: Organization, *, acting_user: User | None) -> dict[str, Payer]:
    """The demo's payers by name, created when missing (idempotent)."""
    payers = {p.name: p for p in Payer.objects.filter(organization=organization)}
    for spec in DEMO_PAYERS:
        if spec["name"] not in payers:
            payers[spec["name"]] = do_create_payer(acting_user=acting_user, organization=organization, **spec)
    return payers


def ensure_demo_billing_setup(
    organization: Organization,
    programs: Mapping[str, Program],
    sites: Mapping[str, Site],
    staff: Mapping[str, User],
    payers: Mapping[str, Payer],
    *,
    today: date,
    acting_user: User | None,
) -> int:
    """The organization's billing identity, its sites' and clinicians' NPIs, every payer's settings for every
    program, and the fee schedule from 1 January of ``today``'s year; only what is missing (idempotent). Returns
    how many records it made."""
    made = 0
    if not BillingProvider.objects.filter(organization=organization).exists():
        do_save_billing_provider(organization, acting_user=acting_user, **DEMO_PROVIDER)
        made += 1
    for key, site in sites.items():
        if not SiteBillingIdentity.objects.filter(site=site).exists():
            do_save_site_identity(site, acting_user=acting_user, npi=DEMO_SITE_NPIS[key], taxonomy_code="261QM0801X")
            made += 1
    for username, (digits, taxonomy, attend, render, supervise) in DEMO_CLINICIANS.items():
        person = staff[username]
        if not ClinicianBillingIdentity.objects.filter(user=person).exists():
            do_save_clinician_identity(
                person,
                acting_user=acting_user,
                npi=make_npi(digits),
                taxonomy_code=taxonomy,
                may_attend=attend,
                may_render=render,
                may_supervise=supervise,
            )
            made += 1
    existing = set(PayerProgramSetting.objects.filter(payer__organization=organization).values_list("payer", "program"))
    for payer in sorted(payers.values(), key=lambda p: p.name):
        for key in sorted(programs):
            program = programs[key]
            if (payer.pk, program.pk) not in existing:
                do_create_payer_setting(
                    acting_user=acting_user, payer=payer, program=program, **demo_setting(payer, program)
                )
                made += 1
    start = date(today.year, 1, 1)
    for payer_name, code, tier, amount in DEMO_RATES:
        rate_payer = payers[payer_name] if payer_name else None
        same = FeeScheduleRate.objects.filter(
            organization=organization, payer=rate_payer, code=code, modifier="", tier=tier, effective_from=start
        )
        if not same.exists():
            do_create_fee_rate(
                acting_user=acting_user,
                organization=organization,
                payer=rate_payer,
                code=code,
                tier=tier,
                rate=Decimal(amount),
                effective_from=start,
            )
            made += 1
    return made
