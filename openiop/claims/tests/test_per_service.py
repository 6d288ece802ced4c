"""Claims that list each service (a payer setting without a per-diem code): Medicare's institutional IOP claim with
each service's HCPCS on revenue-code lines, and professional CPT claims (90853, 90832-90837, 90847, 90791) with
telehealth modifiers, line-level rendering providers and the 837P's 50-line limit. Every file is checked by pyx12."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from openiop.attendance.models import AttendanceRecord
from openiop.billing.models import ClinicianBillingIdentity
from openiop.claims import actions, build
from openiop.claims.models import Claim
from openiop.lib import x12
from openiop.lib.x12.simulate import Outcome
from openiop.scheduling.actions.setup import do_update_session_type
from openiop.scheduling.models import SessionType
from openiop.testing.claims import (
    Service,
    ack_277ca,
    attended,
    billable_days,
    billed_episode,
    rates,
    remit,
    set_up_billing,
    weekdays,
)

Kind = SessionType.ServiceKind
MONTH = (date(2026, 11, 1), date(2026, 11, 30))
DAY = date(2026, 11, 3)
FEES = {"90853": "95.00", "90832": "80.00", "90834": "120.00", "90837": "160.00", "90847": "140.00",
        "90791": "210.00", "G0177": "45.00"}  # fmt: skip


def _build(clinic, payer):
    return actions.do_build_claims(
        acting_user=clinic.billing, program=clinic.mh, payer=payer, start=MONTH[0], end=MONTH[1]
    ).created


def _export(clinic, claims):
    return actions.do_export_claims(claims, acting_user=clinic.billing, organization=clinic.org).file


def _segments(text, seg_id):
    return [seg.split("*") for seg in text.split("~") if seg.split("*")[0].strip() == seg_id]


def _day(clinic, clinician=None):
    who = clinician or clinic.clinician
    return [
        Service("Process group", Kind.GROUP_PSYCHOTHERAPY, 60, who, hour=9),
        Service("Individual counseling", Kind.INDIVIDUAL_PSYCHOTHERAPY, 45, who, hour=10),
        Service("Education workshop", Kind.PSYCHOEDUCATION, 60, who, hour=11, procedure_code="G0177",
                revenue_code="0942"),
        Service("Family session", Kind.FAMILY_PSYCHOTHERAPY, 50, who, hour=13),
    ]  # fmt: skip


@pytest.fixture
def medicare(clinic):
    """Medicare as a CMHC bills it: 837I, type of bill 076x, condition code 92, revenue code 0905, no per diem."""
    payer = set_up_billing(clinic, code_standard="", type_of_bill="076", condition_code_92=True)
    rates(clinic.org, payer, FEES)
    return payer


@pytest.fixture
def plan(clinic):
    """A plan paying per CPT code on the professional claim, in an office (place of service 11)."""
    payer = set_up_billing(clinic, claim_type="837P", code_standard="")
    rates(clinic.org, payer, FEES)
    return payer


def test_an_institutional_claim_lists_each_service_with_its_code_and_revenue_code(clinic, medicare):
    episode = billed_episode(clinic, medicare)
    records = attended(episode, DAY, _day(clinic))
    billable_days(episode, [DAY])
    (claim,) = _build(clinic, medicare)
    assert claim.status == Claim.Status.READY, claim.problems
    lines = list(claim.lines.all())
    assert [(ln.revenue_code, ln.procedure_code, ln.unit_basis, ln.units) for ln in lines] == [
        ("0905", "90853", "UN", 1),
        ("0905", "90834", "UN", 1),  # 45 minutes: the 38-52 minute band
        ("0942", "G0177", "UN", 1),  # the session type's own code and revenue code
        ("0905", "90847", "UN", 1),
    ]
    assert [ln.attendance_record_id for ln in lines] == [r.pk for r in records]
    assert {ln.billable_day_id for ln in lines} == {lines[0].billable_day_id}  # four lines, one day
    assert claim.total_charge == Decimal("95") + Decimal("120") + Decimal("45") + Decimal("140")
    assert (claim.type_of_bill, claim.condition_codes) == ("0761", ["92"])
    assert lines[1].description == "Individual counseling, 45 min"

    text = _export(clinic, [claim]).content
    assert x12.validate(text) == []
    assert [seg[1:6] for seg in _segments(text, "SV2")] == [
        ["0905", "HC:90853", "95", "UN", "1"],
        ["0905", "HC:90834", "120", "UN", "1"],
        ["0942", "HC:G0177", "45", "UN", "1"],
        ["0905", "HC:90847", "140", "UN", "1"],
    ]
    assert ["HI", "BG:92"] in _segments(text, "HI")
    assert _build(clinic, medicare) == []  # every service is held by the claim


def _intern_day(clinic, payer, minutes, *more):
    """A billable day of a group the clinician led and an individual session of ``minutes`` the intern (an NPI of
    their own, supervised by the clinician) led, then ``more``; the intern's billing identity."""
    identity = ClinicianBillingIdentity.objects.create(
        organization=clinic.org, user=clinic.intern, npi="1497758544", taxonomy_code="101YM0800X", may_render=True
    )
    episode = billed_episode(clinic, payer)
    services = [
        Service("Process group", Kind.GROUP_PSYCHOTHERAPY, 60, clinic.clinician, hour=9),
        Service("Individual counseling", Kind.INDIVIDUAL_PSYCHOTHERAPY, minutes, clinic.intern, hour=10),
        *more,
    ]
    attended(episode, DAY, services)
    billable_days(episode, [DAY])
    return identity


def test_a_professional_claim_names_who_led_each_service_and_marks_telehealth(clinic, plan):
    intern_identity = _intern_day(
        clinic,
        plan,
        55,
        Service("Video check-in", Kind.INDIVIDUAL_PSYCHOTHERAPY, 20, clinic.clinician, hour=11, mode="telehealth"),
        Service("Intake assessment", Kind.ASSESSMENT, 90, clinic.clinician, hour=13),
    )
    (claim,) = _build(clinic, plan)
    assert claim.status == Claim.Status.READY, claim.problems
    lines = list(claim.lines.all())
    assert [(ln.procedure_code, ln.modifiers, ln.place_of_service) for ln in lines] == [
        ("90853", [], ""),
        ("90837", [], ""),
        ("90832", ["95"], "10"),  # telehealth at home, paid at the code's own rate (no 95 row in the schedule)
        ("90791", [], ""),
    ]
    assert lines[2].charge == Decimal("80.00")
    # Two clinicians led the services: the claim names the primary clinician, the intern's line names the intern,
    # supervised by the clinician.
    assert (claim.attending, claim.supervising) == (clinic.clinician, None)
    assert (lines[1].rendering, lines[1].supervising) == (clinic.intern, clinic.clinician)

    text = _export(clinic, [claim]).content
    assert x12.validate(text) == []
    assert [seg[1] for seg in _segments(text, "SV1")] == ["HC:90853", "HC:90837", "HC:90832:95", "HC:90791"]
    assert _segments(text, "SV1")[2][5] == "10"
    renderers = [seg[9] for seg in _segments(text, "NM1") if seg[1] == "82"]
    assert renderers == ["1245319599", intern_identity.npi]  # the claim's (2310B), then the intern's line (2420A)
    assert [seg[9] for seg in _segments(text, "NM1") if seg[1] == "DQ"] == ["1245319599"]  # 2420D on that line


def test_one_clinician_leading_everything_is_named_once_for_the_claim(clinic, plan):
    episode = billed_episode(clinic, plan)
    attended(episode, DAY, _day(clinic, clinic.director))
    billable_days(episode, [DAY])
    (claim,) = _build(clinic, plan)
    assert claim.attending == clinic.director and claim.status == Claim.Status.READY
    text = _export(clinic, [claim]).content
    assert x12.validate(text) == []
    assert [seg[9] for seg in _segments(text, "NM1") if seg[1] == "82"] == ["1093817645"]  # 2310B only


def test_a_service_without_a_code_is_named_and_a_code_on_the_session_type_clears_it(clinic, medicare):
    episode = billed_episode(clinic, medicare)
    attended(
        episode,
        DAY,
        [
            Service("Process group", Kind.GROUP_PSYCHOTHERAPY, 60, clinic.clinician, hour=9),
            Service("Medication visit", Kind.MEDICATION_MANAGEMENT, 30, clinic.clinician, hour=10),
            Service("Individual counseling", Kind.INDIVIDUAL_PSYCHOTHERAPY, 12, clinic.clinician, hour=11),
        ],
    )
    billable_days(episode, [DAY])
    (claim,) = _build(clinic, medicare)
    assert claim.status == Claim.Status.DRAFT
    messages = {p["field"]: p["message"] for p in claim.problems}
    assert "Medication visit, 30 min" in messages["lines.2"] and "E/M" in messages["lines.2"]
    assert "under the 16 minutes" in messages["lines.3"]
    with pytest.raises(ValidationError):
        _export(clinic, [claim])

    visit = SessionType.objects.get(program=clinic.mh, name="Medication visit")
    do_update_session_type(visit, acting_user=clinic.director, procedure_code="99213")
    kind = SessionType.objects.get(program=clinic.mh, name="Individual counseling")
    do_update_session_type(kind, acting_user=clinic.director, counts_toward_dose=False)  # a 12-minute talk
    rates(clinic.org, medicare, {"99213": "110.00"})
    assert actions.do_rescrub(claim, acting_user=clinic.billing) == []
    assert list(claim.lines.values_list("procedure_code", flat=True)) == ["90853", "99213"]


@pytest.mark.parametrize(("field", "value"), [("procedure_code", "9085"), ("revenue_code", "915")])
def test_a_session_types_malformed_code_is_refused_by_field(clinic, field, value):
    kind = SessionType.objects.create(
        program=clinic.mh, name="Group", kind="process_group", service_kind=Kind.GROUP_PSYCHOTHERAPY,
        default_duration_minutes=60,
    )  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        do_update_session_type(kind, acting_user=clinic.director, **{field: value})
    assert field in caught.value.message_dict


def test_a_month_over_fifty_services_becomes_two_professional_claims_of_whole_days(clinic, plan):
    episode = billed_episode(clinic, plan)
    days = weekdays(date(2026, 11, 2), 13)  # 13 days of 4 services: 52 lines
    for day in days:
        attended(episode, day, _day(clinic))
    billable_days(episode, days)
    first, second = sorted(_build(clinic, plan), key=lambda c: c.period_start)
    assert (first.lines.count(), second.lines.count()) == (48, 4)
    assert (first.period_end, second.period_start) == (days[11], days[12])
    assert {first.status, second.status} == {Claim.Status.READY}
    text = _export(clinic, [first, second]).content
    assert x12.validate(text) == [] and len(_segments(text, "CLM")) == 2


def test_a_service_no_longer_attended_is_named_and_leaves_the_claim_when_scrubbed_again(clinic, medicare):
    episode = billed_episode(clinic, medicare)
    records = attended(episode, DAY, _day(clinic))
    billable_days(episode, [DAY])
    (claim,) = _build(clinic, medicare)
    AttendanceRecord.objects.filter(pk=records[1].pk).update(status=AttendanceRecord.Status.ABSENT_EXCUSED)
    problems = build.apply_scrub(claim, acting_user=clinic.billing)
    assert any("no longer attended" in p["message"] for p in problems)
    assert actions.do_rescrub(claim, acting_user=clinic.billing) == []
    assert list(claim.lines.values_list("procedure_code", flat=True)) == ["90853", "G0177", "90847"]


def test_an_835_pays_each_service_line_by_its_own_reference(clinic, medicare):
    episode = billed_episode(clinic, medicare)
    attended(episode, DAY, _day(clinic))
    billable_days(episode, [DAY])
    (claim,) = _build(clinic, medicare)
    sent = _export(clinic, [claim])
    actions.do_import_acknowledgement(ack_277ca(sent), acting_user=clinic.billing, organization=clinic.org)
    text = remit(sent, {claim.control_number: Outcome()})
    actions.do_import_acknowledgement(text, acting_user=clinic.billing, organization=clinic.org)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PAID
    paid = {li.claim_line_id: li.paid for li in claim.payments.get().lines.all()}
    # Each of the day's four lines found its own payment (by REF*6R), not the day's first line four times.
    assert paid == {line.pk: line.charge for line in claim.lines.all()}


def test_voiding_an_unsent_claim_frees_its_services_for_the_next_build(clinic, medicare):
    episode = billed_episode(clinic, medicare)
    attended(episode, DAY, _day(clinic))
    billable_days(episode, [DAY])
    (claim,) = _build(clinic, medicare)
    actions.do_void(claim, acting_user=clinic.billing, reason="Built before a late correction")
    (again,) = _build(clinic, medicare)
    assert again.lines.count() == 4


def test_the_claim_page_and_api_show_what_each_line_bills_and_who_led_it(client, clinic, plan):
    from django.urls import reverse

    from openiop.conftest import login

    _intern_day(clinic, plan, 40)
    (claim,) = _build(clinic, plan)
    login(client, clinic.billing)
    page = client.get(reverse("claims:detail", args=[claim.public_id])).content.decode()
    assert "Individual counseling, 40 min" in page and clinic.intern.display_name in page
    body = client.get(f"/api/v1/claims/{claim.public_id}").json()
    assert [(ln["procedure_code"], ln["description"]) for ln in body["lines"]] == [
        ("90853", "Process group, 60 min"),
        ("90834", "Individual counseling, 40 min"),
    ]
    assert body["lines"][1]["rendering"] == str(clinic.intern.public_id)


def _queries_to_build(clinic, payer, name, days):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    episode = billed_episode(clinic, payer, name)
    for day in days:
        attended(episode, day, _day(clinic))
    billable_days(episode, days)
    with CaptureQueriesContext(connection) as captured:
        (claim,) = actions.do_build_claims(
            acting_user=clinic.billing, program=clinic.mh, payer=payer, start=days[0], end=days[-1]
        ).created
    assert claim.lines.count() == 4 * len(days)
    return len(captured)


def test_a_claims_statements_do_not_grow_with_its_lines(clinic, medicare):
    """Fees are read once for the claim and the lines inserted at once: a week of services costs what a day does."""
    _queries_to_build(clinic, medicare, "Cy", [date(2026, 11, 2)])  # the first claim creates the claim counter
    one_day = _queries_to_build(clinic, medicare, "Ana", [date(2026, 11, 3)])
    five_days = _queries_to_build(clinic, medicare, "Ben", weekdays(date(2026, 11, 9), 5))
    assert five_days == one_day
