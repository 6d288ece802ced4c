"""The demo's billing setup: valid identifiers, every payer set up for every program, idempotent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from openiop.billing.models import PayerProgramSetting
from openiop.billing.rates import rate_for
from openiop.core.models import AuditEvent
from openiop.demo.billing import (
    DEMO_CLINICIANS,
    DEMO_PROVIDER,
    DEMO_SITE_NPIS,
    ensure_demo_billing_setup,
    ensure_demo_payers,
)
from openiop.lib.identifiers import is_valid_npi, make_npi
from openiop.patients.models import Payer


def test_the_demo_setup_is_valid_and_idempotent(clinic):
    assert all(is_valid_npi(n) for n in [DEMO_PROVIDER["npi"], *DEMO_SITE_NPIS.values()])
    assert all(is_valid_npi(make_npi(spec[0])) for spec in DEMO_CLINICIANS.values())
    programs = {"mh": clinic.mh, "su": clinic.su, "teen": clinic.teen}
    sites = {"main": clinic.site, "hill": clinic.other_site}
    people = {"director": clinic.director, "clinician": clinic.clinician, "therapist": clinic.intern,
              "counselor": clinic.outsider}  # fmt: skip

    def build() -> int:
        payers = ensure_demo_payers(clinic.org, acting_user=clinic.sysadmin)
        return ensure_demo_billing_setup(
            clinic.org, programs, sites, people, payers, today=date(2026, 11, 26), acting_user=clinic.sysadmin
        )

    made = build()
    payers = Payer.objects.filter(organization=clinic.org)
    assert payers.count() == 9 and made == 1 + 2 + 4 + 9 * 3 + 16  # 8 per-diem rates, 8 per-service codes
    assert PayerProgramSetting.objects.filter(payer__organization=clinic.org).count() == 27
    events = AuditEvent.objects.count()
    assert build() == 0 and AuditEvent.objects.count() == events
    medicare = PayerProgramSetting.objects.get(payer__payer_id="13001", program=clinic.su)
    assert (medicare.type_of_bill, medicare.revenue_code, medicare.condition_code_92) == ("076", "0906", True)
    assert medicare.code_standard == ""  # Medicare's claim lists each service's own code
    evergreen = PayerProgramSetting.objects.get(payer__name="Evergreen Mutual", program=clinic.mh)
    assert (evergreen.claim_type, evergreen.code_standard, evergreen.place_of_service) == ("837P", "", "11")
    lakeshore = payers.get(name="Lakeshore Health Plan")
    assert rate_for(lakeshore, "S9480", "", "standard", date(2026, 11, 26)) == Decimal("310.00")
    assert rate_for(lakeshore, "H0015", "", "standard", date(2025, 12, 31)) is None


def test_every_demo_coverage_but_self_pay_names_a_payer(seeded_demo):
    from openiop.billing.models import BillingProvider
    from openiop.patients.models import Coverage

    org = seeded_demo.organization
    coverages = Coverage.objects.filter(patient__organization=org)
    assert coverages.filter(payer__isnull=True).exclude(payer_kind=Coverage.PayerKind.SELF_PAY).count() == 0
    assert coverages.filter(payer__isnull=False).count() > 40
    linked = coverages.filter(payer__isnull=False).values_list("payer_name", "payer__name", "payer_kind", "payer__kind")
    assert all(name == payer_name and kind == payer_kind for name, payer_name, kind, payer_kind in linked)
    assert is_valid_npi(BillingProvider.objects.get(organization=org).npi)
