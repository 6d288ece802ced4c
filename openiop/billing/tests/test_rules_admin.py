"""Payer rules: who may read and write them, validation, deactivation, the audit, and the demo's defaults."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from openiop.billing.models import PayerRule
from openiop.billing.tests.conftest import rule
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.demo.billing import ensure_demo_payer_rules

RULES = "/billing/rules/"
NEW = "/billing/rules/new/"


def _edit(r: PayerRule) -> str:
    return reverse("billing:rule_edit", args=[r.public_id])


def _active(r: PayerRule) -> str:
    return reverse("billing:rule_set_active", args=[r.public_id])


FORM = {
    "name": "Medicaid IOP",
    "code": "S9480",
    "program": "",
    "payer_kind": "medicaid",
    "min_services_per_day": "3",
    "high_tier_services": "",
    "min_minutes_per_day": "180",
    "min_minutes_per_service": "15",
    "weekly_dose_hours": "",
}


@pytest.fixture
def org_rule(clinic):
    return rule(clinic, name="Organization default", min_services_per_day=3)


@pytest.fixture
def mh_rule(clinic):
    return rule(clinic, name="MH Medicare", program=clinic.mh, payer_kind="medicare", min_services_per_day=3)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("billing", 200),
        ("director", 200),
        ("auditor", 200),
        ("sysadmin", 200),
        ("clinician", 403),
        ("frontdesk", 403),
        ("intake", 403),
    ],
)
def test_reading_rules_needs_a_billing_or_program_role(client, clinic, org_rule, who, expected):
    login(client, getattr(clinic, who))
    assert client.get(RULES).status_code == expected


def test_outsiders_see_no_rule_of_a_program_not_theirs_and_strangers_none_at_all(client, clinic, org_rule, mh_rule):
    from openiop.core.roles import Role
    from openiop.testing.fixtures import staff

    teen_director = staff(clinic.org, "teendirector", Role.DIRECTOR, [clinic.teen])
    login(client, teen_director)
    html = client.get(RULES).content.decode()
    assert "Organization default" in html and "MH Medicare" not in html
    assert client.get(_edit(mh_rule)).status_code == 404
    assert client.post(_active(mh_rule), {"active": "0"}).status_code == 404
    login(client, clinic.stranger)
    html = client.get(RULES).content.decode()
    assert "Organization default" not in html
    assert client.get(_edit(org_rule)).status_code == 404


@pytest.mark.parametrize(
    ("who", "org_wide", "program_rule"),
    [("billing", 200, 200), ("director", 403, 200), ("auditor", 403, 403), ("clinician", 403, 403)],
)
def test_who_may_edit_which_rule(client, clinic, org_rule, mh_rule, who, org_wide, program_rule):
    login(client, getattr(clinic, who))
    assert client.get(_edit(org_rule)).status_code == org_wide
    assert client.get(_edit(mh_rule)).status_code == program_rule


def test_billing_staff_add_an_organization_rule_with_an_audit_row(client, clinic):
    login(client, clinic.billing)
    response = client.post(NEW, FORM)
    assert response.status_code == 302 and response.url == RULES
    made = PayerRule.objects.get(name="Medicaid IOP")
    assert (made.program, made.payer_kind, made.min_minutes_per_day, made.min_minutes_per_service) == (
        None,
        "medicaid",
        180,
        15,
    )
    event = AuditEvent.objects.get(action=AuditAction.CONFIG_CHANGED, object_id=str(made.public_id))
    assert event.actor == clinic.billing and event.organization_id_ref == clinic.org.pk
    assert "Medicaid" not in str(event.changed_fields)


def test_a_director_must_pick_one_of_their_programs(client, clinic):
    login(client, clinic.director)
    response = client.post(NEW, FORM)
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    response = client.post(NEW, {**FORM, "program": clinic.teen.pk})
    assert "valid choice" in response.content.decode()
    response = client.post(NEW, {**FORM, "program": clinic.su.pk})
    assert response.status_code == 302
    assert PayerRule.objects.get(name="Medicaid IOP").program == clinic.su


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"min_services_per_day": "0"}, "min_services_per_day", "greater than or equal to 1"),
        ({"high_tier_services": "3"}, "high_tier_services", "more services than a billable day (3)"),
        ({"high_tier_services": "2"}, "high_tier_services", "more services than a billable day (3)"),
        ({"name": ""}, "name", "This field is required"),
        ({"min_minutes_per_service": "0"}, "min_minutes_per_service", "greater than or equal to 1"),
    ],
)
def test_bad_rules_re_render_with_the_field_error_and_keep_what_was_typed(client, clinic, changes, field, message):
    login(client, clinic.billing)
    response = client.post(NEW, {**FORM, **changes})
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in e for e in form.errors[field])
    assert 'value="S9480"' in response.content.decode()
    assert not PayerRule.objects.filter(name="Medicaid IOP").exists()


def test_editing_a_rule_audits_the_changed_fields(client, clinic, mh_rule):
    login(client, clinic.director)
    data = {**FORM, "name": "MH Medicare", "program": clinic.mh.pk, "payer_kind": "medicare", "high_tier_services": "4"}
    assert client.post(_edit(mh_rule), data).status_code == 302
    mh_rule.refresh_from_db()
    assert mh_rule.high_tier_services == 4
    event = AuditEvent.objects.filter(action=AuditAction.CONFIG_CHANGED, object_id=str(mh_rule.public_id)).last()
    assert event is not None
    assert "high_tier_services" in event.changed_fields and "name" not in event.changed_fields


def test_deactivating_and_reactivating_a_rule(client, clinic, org_rule):
    login(client, clinic.billing)
    client.post(_active(org_rule), {"active": "0"})
    org_rule.refresh_from_db()
    assert not org_rule.is_active
    assert AuditEvent.objects.filter(action=AuditAction.DEACTIVATED, object_id=str(org_rule.public_id)).exists()
    client.post(_active(org_rule), {"active": "1"})
    org_rule.refresh_from_db()
    assert org_rule.is_active


def test_the_rules_list_query_count_does_not_grow(client, clinic, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, clinic.director)
    rule(clinic, name="One", program=clinic.mh)
    client.get(RULES)
    with CaptureQueriesContext(connection) as few:
        client.get(RULES)
    for n in range(8):
        rule(clinic, name=f"Rule {n}", program=clinic.su if n % 2 else clinic.mh, min_minutes_per_day=n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(RULES).content.decode()
    assert "Rule 7" in html


def test_the_demo_seeds_the_four_default_rules_once(clinic):
    programs = {"mh": clinic.mh, "su": clinic.su, "teen": clinic.teen}
    made = ensure_demo_payer_rules(clinic.org, programs, acting_user=None)
    assert [r.name for r in made] == ["Medicare IOP (CMHC)", "Commercial psychiatric IOP", "Adolescent IOP", "SUD IOP"]
    medicare, commercial, teen, sud = made
    assert (medicare.payer_kind, medicare.code, medicare.min_services_per_day, medicare.high_tier_services) == (
        "medicare",
        "APC 5851/5852",
        3,
        4,
    )
    assert (commercial.code, commercial.min_minutes_per_day, commercial.payer_kind) == ("S9480", 180, "")
    assert (sud.code, sud.program, sud.min_minutes_per_day, sud.weekly_dose_hours) == (
        "H0015",
        clinic.su,
        180,
        Decimal("9"),
    )
    # The adolescent program's own shorter day (two services, 120 minutes), so its after-school track is billable.
    assert (teen.code, teen.program, teen.min_services_per_day, teen.min_minutes_per_day) == (
        "S9480",
        clinic.teen,
        2,
        120,
    )
    assert ensure_demo_payer_rules(clinic.org, programs, acting_user=None) == []
