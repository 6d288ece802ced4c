"""Billing setup: identifiers' validation, the organization's, sites' and clinicians' billing identities, payer
program settings, the fee schedule (no overlaps, ``rate_for``), the /billing/setup/ pages' access and audit rows,
and the demo's setup."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from openiop.billing.actions import (
    do_create_fee_rate,
    do_create_payer_setting,
    do_save_billing_provider,
    do_save_clinician_identity,
    do_save_site_identity,
    do_update_fee_rate,
    do_update_payer_setting,
)
from openiop.billing.models import BillingProvider, ClinicianBillingIdentity, FeeScheduleRate, PayerProgramSetting
from openiop.billing.rates import rate_for
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.lib.identifiers import is_taxonomy_code, is_valid_npi, make_npi, normalize_ein
from openiop.patients.actions import do_create_payer
from openiop.patients.models import Payer

NPI_ORG = "1245319599"  # CMS's worked example of the check digit
NPI_SITE = make_npi("111111111")
NPI_CLINICIAN = "1234567893"
PROVIDER = {
    "legal_name": "Riverside Recovery, LLC",
    "npi": NPI_ORG,
    "tax_id": "12-3456789",
    "taxonomy_code": "261QM0801X",
    "address_line1": "1 Main Street",
    "city": "Riverside",
    "state": "NY",
    "postal_code": "12601-1234",
}
PAYER = {
    "name": "Medicare Part A",
    "payer_id": "13001",
    "kind": "medicare",
    "claim_filing_indicator": "MA",
    "timely_filing_days": 365,
}


def make_payer(clinic, organization=None, **fields) -> Payer:
    return do_create_payer(acting_user=None, organization=organization or clinic.org, **{**PAYER, **fields})


@pytest.fixture
def payer(clinic) -> Payer:
    return make_payer(clinic)


def rate(clinic, payer=None, code="S9480", start=date(2026, 1, 1), end=None, amount="250.00", **fields):
    return do_create_fee_rate(
        acting_user=None,
        organization=clinic.org,
        payer=payer,
        code=code,
        rate=Decimal(amount),
        effective_from=start,
        effective_to=end,
        **fields,
    )


# --- Identifiers -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126", make_npi("987654321")])
def test_valid_npis_pass_the_check_digit(npi):
    assert is_valid_npi(npi)


@pytest.mark.parametrize("npi", ["1234567890", "1245319598", "123456789", "12345678930", "12345678a3", ""])
def test_wrong_check_digits_and_shapes_are_refused(npi):
    assert not is_valid_npi(npi)


def test_ein_and_taxonomy_shapes():
    assert normalize_ein("123456789") == normalize_ein("12-3456789") == "12-3456789"
    assert normalize_ein("00-1234567") is None and normalize_ein("12-345678") is None and normalize_ein("ab") is None
    assert is_taxonomy_code("261QM0801X") and is_taxonomy_code("103T00000X") and is_taxonomy_code("2084P0800X")
    assert (
        not is_taxonomy_code("261QM0801") and not is_taxonomy_code("261qm0801x") and not is_taxonomy_code("A61QM0801X")
    )


# --- Identities -----------------------------------------------------------------------------------------------------


def test_billing_provider_is_normalized_validated_and_audited(clinic):
    provider, _ = do_save_billing_provider(
        clinic.org, acting_user=clinic.billing, **{**PROVIDER, "tax_id": "123456789", "postal_code": "126011234"}
    )
    assert (provider.tax_id, provider.postal_code) == ("12-3456789", "12601-1234")
    event = AuditEvent.objects.filter(action=AuditAction.CONFIG_CHANGED, object_type="billingprovider").get()
    assert event.actor == clinic.billing and "npi" in event.changed_fields
    with pytest.raises(ValidationError) as bad:
        do_save_billing_provider(
            clinic.org,
            acting_user=clinic.billing,
            npi="1234567890",
            tax_id="1234",
            taxonomy_code="261Q",
            postal_code="12601",
        )
    assert {"npi", "tax_id", "taxonomy_code", "postal_code"} <= set(bad.value.message_dict)
    with pytest.raises(ValidationError) as box:
        do_save_billing_provider(clinic.org, acting_user=clinic.billing, address_line1="P.O. Box 12")
    assert "street address" in box.value.message_dict["address_line1"][0]
    assert BillingProvider.objects.get().npi == NPI_ORG  # nothing of the refused change stayed
    _, changed = do_save_billing_provider(clinic.org, acting_user=clinic.billing, **PROVIDER)
    assert changed == []


def test_pay_to_address_is_all_or_nothing(clinic):
    with pytest.raises(ValidationError) as bad:
        do_save_billing_provider(clinic.org, acting_user=None, **PROVIDER, pay_to_line1="PO Box 9")
    assert {"pay_to_city", "pay_to_state", "pay_to_postal_code"} <= set(bad.value.message_dict)


def test_site_and_clinician_identities(clinic):
    do_save_billing_provider(clinic.org, acting_user=None, **PROVIDER)
    site_identity, _ = do_save_site_identity(clinic.site, acting_user=None, npi=NPI_SITE, taxonomy_code="261qm0801x")
    assert site_identity.taxonomy_code == "261QM0801X"
    identity, _ = do_save_clinician_identity(
        clinic.clinician, acting_user=None, npi=NPI_CLINICIAN, taxonomy_code="1041C0700X", may_render=True
    )
    assert identity.organization == clinic.org and identity.may_render and not identity.may_attend
    with pytest.raises(ValidationError) as taken:
        do_save_clinician_identity(clinic.director, acting_user=None, npi=NPI_CLINICIAN, taxonomy_code="2084P0800X")
    assert "npi" in taken.value.message_dict
    with pytest.raises(ValidationError) as organizational:
        do_save_clinician_identity(clinic.director, acting_user=None, npi=NPI_ORG, taxonomy_code="2084P0800X")
    assert "type 2" in organizational.value.message_dict["npi"][0]
    assert ClinicianBillingIdentity.objects.count() == 1


# --- Payer program settings ------------------------------------------------------------------------------------------


def test_payer_settings_need_the_fields_of_their_claim_type_once_per_pair(clinic, payer):
    with pytest.raises(ValidationError) as bad:
        do_create_payer_setting(acting_user=None, payer=payer, program=clinic.mh, claim_type="837I")
    assert {"type_of_bill", "revenue_code"} <= set(bad.value.message_dict)
    with pytest.raises(ValidationError) as bad:
        do_create_payer_setting(
            acting_user=None, payer=payer, program=clinic.mh, claim_type="837P", revenue_code="0905"
        )
    assert {"place_of_service", "revenue_code"} <= set(bad.value.message_dict)
    setting = do_create_payer_setting(
        acting_user=None,
        payer=payer,
        program=clinic.mh,
        claim_type="837I",
        type_of_bill="076",
        revenue_code="0905",
        condition_code_92=True,
    )
    assert setting.code_for("high") == ""  # Medicare: the services' own codes
    with pytest.raises(ValidationError) as twice:
        do_create_payer_setting(
            acting_user=None, payer=payer, program=clinic.mh, claim_type="837P", place_of_service="53"
        )
    assert "program" in twice.value.message_dict
    other = make_payer(clinic, clinic.other_org, name="Elsewhere plan")
    with pytest.raises(ValidationError) as foreign:
        do_create_payer_setting(
            acting_user=None, payer=other, program=clinic.mh, claim_type="837P", place_of_service="53"
        )
    assert "program" in foreign.value.message_dict
    changed = do_update_payer_setting(setting, acting_user=clinic.billing, code_standard="s9480", code_high_tier="")
    assert changed == ["code_standard"]
    setting.refresh_from_db()
    assert setting.code_for("high") == setting.code_for("standard") == "S9480"


# --- Fee schedule ----------------------------------------------------------------------------------------------------


def test_overlapping_active_rates_of_one_key_are_refused(clinic, payer):
    first = rate(clinic, payer, start=date(2026, 1, 1), end=date(2026, 6, 30))
    for start, end in [
        (date(2026, 6, 30), None),
        (date(2025, 1, 1), date(2026, 1, 1)),
        (date(2026, 3, 1), date(2026, 3, 2)),
    ]:
        with pytest.raises(ValidationError) as overlap:
            rate(clinic, payer, start=start, end=end)
        assert "effective_from" in overlap.value.message_dict
    rate(clinic, payer, start=date(2026, 7, 1))  # the day after: fine
    rate(clinic, None, start=date(2026, 1, 1))  # another key: the organization's default
    rate(clinic, payer, modifier="HQ", start=date(2026, 1, 1))  # another key: a modifier
    rate(clinic, payer, tier="high", start=date(2026, 1, 1), end=date(2026, 6, 30))  # another key: a tier
    with pytest.raises(ValidationError):
        do_update_fee_rate(first, acting_user=clinic.billing, effective_to=None)  # would run into July's
    do_update_fee_rate(first, acting_user=clinic.billing, is_active=False)
    rate(clinic, payer, start=date(2026, 2, 1), end=date(2026, 6, 30))  # the inactive row no longer counts
    with pytest.raises(ValidationError) as backwards:
        rate(clinic, payer, code="H0015", start=date(2026, 2, 1), end=date(2026, 1, 1))
    assert "effective_to" in backwards.value.message_dict


def test_rate_for_picks_the_row_of_the_day_the_payer_and_the_tier(clinic, payer):
    other = make_payer(clinic, name="Lakeshore", payer_id="LKSHP", kind="commercial", claim_filing_indicator="CI")
    rate(clinic, None, start=date(2026, 1, 1), amount="200.00")
    rate(clinic, payer, start=date(2026, 1, 1), end=date(2026, 6, 30), amount="250.00")
    rate(clinic, payer, start=date(2026, 7, 1), amount="260.00")
    rate(clinic, payer, tier="high", start=date(2026, 1, 1), amount="300.00")
    rate(clinic, payer, modifier="HQ", start=date(2026, 1, 1), amount="150.00")
    assert rate_for(payer, "S9480", "", "standard", date(2026, 6, 30)) == Decimal("250.00")
    assert rate_for(payer, "S9480", "", "standard", date(2026, 7, 1)) == Decimal("260.00")
    assert rate_for(payer, "s9480", "", "high", date(2026, 7, 1)) == Decimal("300.00")
    assert rate_for(payer, "S9480", "hq", "standard", date(2026, 7, 1)) == Decimal("150.00")
    assert rate_for(other, "S9480", "", "standard", date(2026, 7, 1)) == Decimal("200.00")  # the default
    assert rate_for(None, "S9480", "", "", date(2026, 7, 1), organization=clinic.org) == Decimal("200.00")
    assert rate_for(payer, "S9480", "", "standard", date(2025, 12, 31)) is None  # before any row
    assert rate_for(payer, "H0015", "", "standard", date(2026, 7, 1)) is None
    assert rate_for(payer, "S9480", "GT", "standard", date(2026, 7, 1)) is None  # a modifier needs its own row
    with pytest.raises(ValueError):
        rate_for(None, "S9480", "", "", date(2026, 7, 1))


# --- Pages -----------------------------------------------------------------------------------------------------------

SETUP = "/billing/setup/"


def _pages(payer, setting, fee, identity, site) -> list[str]:
    return [
        reverse("billing:identity_edit"),
        reverse("billing:site_identity_edit", args=[site.public_id]),
        reverse("billing:clinician_identity_create"),
        reverse("billing:clinician_identity_edit", args=[identity.public_id]),
        reverse("billing:payer_create"),
        reverse("billing:payer_edit", args=[payer.public_id]),
        reverse("billing:payer_setting_create"),
        reverse("billing:payer_setting_edit", args=[setting.public_id]),
        reverse("billing:fee_rate_create"),
        reverse("billing:fee_rate_edit", args=[fee.public_id]),
    ]


@pytest.fixture
def configured(clinic, payer):
    do_save_billing_provider(clinic.org, acting_user=None, **PROVIDER)
    identity, _ = do_save_clinician_identity(
        clinic.clinician, acting_user=None, npi=NPI_CLINICIAN, taxonomy_code="1041C0700X"
    )
    setting = do_create_payer_setting(
        acting_user=None, payer=payer, program=clinic.mh, claim_type="837P", place_of_service="53"
    )
    fee = rate(clinic, payer)
    return _pages(payer, setting, fee, identity, clinic.site)


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [
        ("billing", 200, 200),  # MANAGE_BILLING
        ("sysadmin", 200, 200),  # MANAGE_ORGANIZATION
        ("director", 200, 403),  # VIEW_BILLING
        ("auditor", 200, 403),
        ("clinician", 403, 403),
        ("frontdesk", 403, 403),
        ("intake", 403, 403),
    ],
)
def test_access_matrix(client, clinic, configured, who, read, write):
    login(client, getattr(clinic, who))
    overview = client.get(SETUP)
    assert overview.status_code == read
    if read == 200:
        html = overview.content.decode()
        assert "Medicare Part A" in html and NPI_ORG in html and NPI_CLINICIAN in html
        assert (reverse("billing:payer_create") in html) == (write == 200)
    for url in configured:
        assert client.get(url).status_code == write, url
        assert client.post(url, {}).status_code in ((400,) if write == 200 else (403,)), url


def test_another_organizations_records_are_404s(client, clinic, configured):
    login(client, clinic.stranger)  # a director elsewhere: reads their own organization's setup only
    html = client.get(SETUP).content.decode()
    assert "Medicare Part A" not in html and NPI_ORG not in html
    from openiop.core.roles import Role
    from openiop.testing.fixtures import staff

    elsewhere_billing = staff(clinic.other_org, "elsewherebilling", Role.BILLING, [])
    login(client, elsewhere_billing)
    for url in configured:
        if "/new/" in url or url.endswith("/identity/"):
            continue  # their own organization's forms
        assert client.get(url).status_code == 404, url
        assert client.post(url, {}).status_code == 404, url


def test_payer_form_adds_an_audited_payer_and_keeps_bad_input(client, clinic):
    login(client, clinic.billing)
    form = {**PAYER, "payer_id": "x", "address_line1": "", "address_line2": "", "city": "", "state": "",
            "postal_code": "", "is_active": "on"}  # fmt: skip
    bad = client.post(reverse("billing:payer_create"), form)
    assert bad.status_code == 400 and 'value="Medicare Part A"' in bad.content.decode()
    ok = client.post(reverse("billing:payer_create"), {**form, "payer_id": "13001"})
    assert ok.status_code == 302 and ok["Location"].endswith("#payers")
    payer = Payer.objects.get(organization=clinic.org)
    assert (payer.payer_id, payer.timely_filing_days, payer.is_active) == ("13001", 365, True)
    event = AuditEvent.objects.filter(action=AuditAction.CONFIG_CHANGED, object_type="payer").get()
    assert event.actor == clinic.billing and event.organization_id_ref == clinic.org.pk


def test_identity_form_refuses_a_wrong_check_digit_on_the_npi_field(client, clinic):
    login(client, clinic.sysadmin)
    form = {**PROVIDER, "npi": "1245319598"}
    response = client.post(reverse("billing:identity_edit"), form)
    assert response.status_code == 400
    html = response.content.decode()
    assert "check digit" in html and 'value="1245319598"' in html
    assert client.post(reverse("billing:identity_edit"), PROVIDER).status_code == 302
    assert BillingProvider.objects.get(organization=clinic.org).legal_name == PROVIDER["legal_name"]


def test_setting_and_fee_forms_write_through_the_actions(client, clinic, payer):
    login(client, clinic.billing)
    response = client.post(
        reverse("billing:payer_setting_create"),
        {"payer": payer.public_id, "program": clinic.su.public_id, "claim_type": "837I", "type_of_bill": "076",
         "revenue_code": "0906", "code_standard": "H0015", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    setting = PayerProgramSetting.objects.get()
    assert (setting.program, setting.revenue_code, setting.code_standard) == (clinic.su, "0906", "H0015")
    fee = {"payer": "", "code": "S9480", "modifier": "", "tier": "", "rate": "275.00", "effective_from": "2026-01-01",
           "effective_to": "", "is_active": "on"}  # fmt: skip
    assert client.post(reverse("billing:fee_rate_create"), fee).status_code == 302
    again = client.post(reverse("billing:fee_rate_create"), {**fee, "effective_from": "2026-03-01"})
    assert again.status_code == 400 and "covers some of these days" in again.content.decode()
    saved = FeeScheduleRate.objects.get()
    assert saved.payer is None
    edit = reverse("billing:fee_rate_edit", args=[saved.public_id])
    assert client.post(edit, {**fee, "rate": "280.00"}).status_code == 302
    saved.refresh_from_db()
    assert saved.rate == Decimal("280.00")
    kinds = list(AuditEvent.objects.filter(action=AuditAction.CONFIG_CHANGED).values_list("object_type", flat=True))
    assert kinds.count("payerprogramsetting") == 1 and kinds.count("feeschedulerate") == 2


def test_the_billing_subnav_leads_to_setup(client, clinic):
    login(client, clinic.billing)
    assert SETUP in client.get("/billing/rules/").content.decode()
    login(client, clinic.sysadmin)  # no billable days: the top navigation leads to setup
    assert f'href="{SETUP}"' in client.get(SETUP).content.decode()


def test_codes_typed_in_lower_case_are_accepted(client, clinic):
    login(client, clinic.billing)
    url = reverse("billing:site_identity_edit", args=[clinic.site.public_id])
    assert client.post(url, {"npi": NPI_SITE, "taxonomy_code": " 261qm0801x "}).status_code == 302
    assert clinic.site.billing_identity.taxonomy_code == "261QM0801X"


def test_the_overview_reads_a_fixed_number_of_queries(client, clinic, configured):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, clinic.billing)
    with CaptureQueriesContext(connection) as few:
        assert client.get(SETUP).status_code == 200
    for n in range(3):
        extra = make_payer(
            clinic, name=f"Plan {n}", payer_id=f"PLAN{n}", kind="commercial", claim_filing_indicator="CI"
        )
        do_create_payer_setting(
            acting_user=None, payer=extra, program=clinic.su, claim_type="837P", place_of_service="57"
        )
        rate(clinic, extra, code="H0015")
    do_save_site_identity(clinic.other_site, acting_user=None, npi=NPI_SITE, taxonomy_code="261QM0801X")
    with CaptureQueriesContext(connection) as many:
        assert client.get(SETUP).status_code == 200
    assert len(many) == len(few)


def test_every_form_field_is_in_one_of_its_groups():
    from openiop.billing import forms

    for form_class in (forms.BillingProviderForm, forms.PayerForm, forms.PayerSettingForm):
        grouped = [name for _, names in form_class.groups for name in names]
        assert sorted(grouped) == sorted(set(grouped)) == sorted(form_class.base_fields), form_class


def test_payer_setting_on_follows_the_primary_coverage_of_the_day(clinic, payer):
    from openiop.billing.rules import payer_setting_on
    from openiop.patients.actions import do_add_coverage
    from openiop.testing.fixtures import make_patient

    person = make_patient(clinic)
    episode = person.episodes.get()
    day = date(2026, 11, 16)
    assert payer_setting_on(episode, day) is None  # no coverage
    do_add_coverage(person, acting_user=None, payer=payer, member_id="1EG4", effective_from=date(2026, 1, 1))
    assert payer_setting_on(episode, day) is None  # no setting for the pair
    setting = do_create_payer_setting(
        acting_user=None,
        payer=payer,
        program=clinic.mh,
        claim_type="837I",
        type_of_bill="076",
        revenue_code="0905",
        authorization_required=True,
    )
    assert payer_setting_on(episode, day) == setting and setting.authorization_required
    assert payer_setting_on(episode, date(2025, 12, 31)) is None  # before the coverage began
    do_update_payer_setting(setting, acting_user=clinic.billing, is_active=False)
    assert payer_setting_on(episode, day) is None
