"""Every demo payer, billed the way the demo clinic bills it (``demo.billing.demo_setting``), writes a claim file
pyx12 accepts: Medicare's institutional claim listing each service, Medicaid's professional per diem, the commercial
plans' institutional per diem and Evergreen Mutual's professional CPT lines, for a mental-health and a substance-use
program (the latter under a Part 2 consent)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from openiop.billing.actions import do_create_payer_setting
from openiop.billing.models import FeeScheduleRate
from openiop.claims import actions
from openiop.claims.models import Claim
from openiop.demo.billing import DEMO_PAYERS, DEMO_RATES, demo_setting, ensure_demo_payers
from openiop.lib import x12
from openiop.scheduling.models import SessionType
from openiop.testing.claims import Service, attended, billable_days, billed_episode, set_up_billing
from openiop.testing.consents import part2_tpo
from openiop.utilization.models import Authorization

Kind = SessionType.ServiceKind
DAYS = [date(2026, 11, 3), date(2026, 11, 4)]


def _services(clinic):
    who = clinic.clinician
    return [
        Service("Process group", Kind.GROUP_PSYCHOTHERAPY, 60, who, hour=9),
        Service("Skills group", Kind.GROUP_PSYCHOTHERAPY, 60, who, hour=10),
        Service("Education workshop", Kind.PSYCHOEDUCATION, 60, who, hour=11, procedure_code="G0177",
                revenue_code="0942"),
    ]  # fmt: skip


@pytest.mark.parametrize("program_key", ["mh", "su"])
def test_each_demo_payer_gets_a_ready_claim_in_a_pyx12_valid_file(clinic, program_key):
    set_up_billing(clinic)  # the organization's, sites' and clinicians' identities and the submission profile
    program = getattr(clinic, program_key)
    payers = ensure_demo_payers(clinic.org, acting_user=None)
    for payer_name, code, tier, amount in DEMO_RATES:
        FeeScheduleRate.objects.create(
            organization=clinic.org,
            payer=payers[payer_name] if payer_name else None,
            code=code,
            tier=tier,
            rate=Decimal(amount),
            effective_from=date(2026, 1, 1),
        )
    built: dict[str, Claim] = {}
    for n, spec in enumerate(DEMO_PAYERS):
        payer = payers[spec["name"]]
        setting = do_create_payer_setting(
            acting_user=None, payer=payer, program=program, **demo_setting(payer, program)
        )
        episode = billed_episode(clinic, payer, f"Member{n}", program=program)
        if program.is_substance_use:
            part2_tpo(episode.patient, clinic.director)
        for day in DAYS:
            attended(episode, day, _services(clinic))
        billable_days(episode, DAYS)
        if setting.authorization_required:
            Authorization.objects.create(
                episode=episode,
                coverage=episode.patient.coverages.get(),
                number=f"AUTH-{n}",
                level_of_care=program.level_of_care,
                start_date=date(2026, 11, 1),
                end_date=date(2026, 11, 30),
                units_authorized=20,
                status=Authorization.Status.APPROVED,
            )
        (claim,) = actions.do_build_claims(
            acting_user=clinic.billing, program=program, payer=payer, start=date(2026, 11, 1), end=date(2026, 11, 30)
        ).created
        assert claim.status == Claim.Status.READY, (spec["name"], claim.problems)
        built[spec["name"]] = claim

    # The demo's four ways of billing, each as the payer's setting says.
    medicare = built["Medicare Part A (J K MAC)"]
    assert (medicare.claim_type, medicare.lines.count()) == ("837I", 6)  # a line a service
    assert medicare.condition_codes == ["92"]
    evergreen = built["Evergreen Mutual"]
    assert (evergreen.claim_type, evergreen.lines.count()) == ("837P", 6)
    assert set(evergreen.lines.values_list("procedure_code", flat=True)) == {"90853", "G0177"}
    per_diem = "H0015" if program.is_substance_use else "S9480"
    for name in ("New York Medicaid", "Lakeshore Health Plan"):
        assert list(built[name].lines.values_list("procedure_code", flat=True)) == [per_diem, per_diem]

    for kind in (Claim.ClaimType.INSTITUTIONAL, Claim.ClaimType.PROFESSIONAL):
        claims = [c for c in built.values() if c.claim_type == kind]
        file = actions.do_export_claims(claims, acting_user=clinic.billing, organization=clinic.org).file
        assert x12.validate(file.content) == []
        assert file.content.count("~CLM*") == len(claims)
