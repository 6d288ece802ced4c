"""Secondary claims (coordination of benefits): built after the primary payer's 835 answer, refused by field
otherwise, 837I and 837P files carrying the primary's answer that pyx12 validates, the scrubber naming a missing
answer, one live secondary claim even under concurrency, money counted once (ledger and reports), the pages and the
API with who may use them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from openiop.billing.models import PayerProgramSetting
from openiop.claims import actions, reports, secondary
from openiop.claims.models import Claim, ClaimLine
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.core.roles import Role
from openiop.demo.claims import ensure_demo_claims
from openiop.ledger.ledger import build_ledger
from openiop.lib import x12
from openiop.lib.x12.simulate import Outcome
from openiop.patients.actions import do_add_coverage
from openiop.patients.models import Coverage, Payer
from openiop.programs.models import Program
from openiop.testing.claims import (
    RATE,
    accepted_claims,
    ack_277ca,
    billable_days,
    billed_episode,
    remit,
    set_up_billing,
    weekdays,
)
from openiop.testing.fixtures import build_clinic, staff
from openiop.testing.threads import together

CHARGE = RATE * 3  # three days at $450
# The primary allows $400 a day (CO-45 $50 a day) and leaves $120 coinsurance (PR-2) on the first line.
PRIMARY = Outcome(allowed=Decimal(400), coinsurance=Decimal(120), payer_claim_number="BHH-9001")
PRIMARY_PAID = Decimal(1200) - 120


def _post(clinic, text):
    return actions.do_import_acknowledgement(text, acting_user=clinic.billing, organization=clinic.org)


def second_payer(clinic, claim_type="837I", *, program=None):
    payer = Payer.objects.create(
        organization=clinic.org, payer_id="GVM02", name="Green Valley Mutual", kind="commercial",
        claim_filing_indicator="CI",
    )  # fmt: skip
    PayerProgramSetting.objects.create(
        payer=payer,
        program=program or clinic.mh,
        claim_type=claim_type,
        type_of_bill="013" if claim_type == "837I" else "",
        revenue_code="0905" if claim_type == "837I" else "",
        code_standard="S9480",
        place_of_service="" if claim_type == "837I" else "11",
    )
    return payer


def add_secondary_coverage(claim, payer, **fields):
    values = {"relationship_to_subscriber": "self", "priority": Coverage.Priority.SECONDARY, **fields}
    return do_add_coverage(
        claim.patient, acting_user=None, payer=payer, payer_kind=payer.kind, payer_name=payer.name,
        member_id="GV-555", **values,
    )  # fmt: skip


def primary_claim(clinic, claim_type="837I", outcome=PRIMARY):
    """One claim of 3 days sent to Blue Harbor and answered by its 835 with ``outcome``; the patient has Green
    Valley Mutual as secondary coverage."""
    payer = set_up_billing(clinic, claim_type=claim_type)
    (claim,), sent = accepted_claims(clinic, payer, ["Jordan"])
    if outcome is not None:
        _post(clinic, remit(sent, {claim.control_number: outcome}))
    add_secondary_coverage(claim, second_payer(clinic, claim_type))
    claim.refresh_from_db()
    return claim, sent


@pytest.fixture
def paid(clinic):
    return primary_claim(clinic)[0]


def _export(clinic, claim):
    return actions.do_export_claims([claim], acting_user=clinic.billing, organization=clinic.org).file


def test_a_claim_paid_with_a_patient_share_is_billed_to_the_secondary_payer(clinic, paid):
    made = secondary.build_secondary(paid, clinic.billing)
    assert made.primary_claim == paid and made.payer.payer_id == "GVM02"
    assert made.coverage.priority == Coverage.Priority.SECONDARY and made.frequency == Claim.Frequency.ORIGINAL
    assert made.status == Claim.Status.READY and made.problems == []
    assert made.type_of_bill == "0131" and made.total_charge == CHARGE and made.diagnoses == paid.diagnoses
    lines = list(made.lines.order_by("line_number"))
    originals = list(paid.lines.order_by("line_number"))
    copied = ("line_number", "service_date", "procedure_code", "revenue_code", "units", "unit_basis", "charge")
    assert [[getattr(li, f) for f in copied] for li in lines] == [[getattr(li, f) for f in copied] for li in originals]
    # The days stay on the primary's lines: the copies hold none.
    assert all(li.billable_day_id is None for li in lines)
    assert ClaimLine.objects.filter(billable_day__isnull=False, released=False).count() == 3
    assert "secondary to claim " + paid.control_number in made.events.all()[0].note
    assert AuditEvent.objects.filter(action=AuditAction.CREATED, object_id=str(made.public_id)).exists()


@pytest.mark.parametrize("claim_type", ["837I", "837P"])
def test_the_secondary_837_carries_the_primary_answer_and_passes_pyx12(clinic, claim_type):
    claim, _ = primary_claim(clinic, claim_type)
    made = secondary.build_secondary(claim, clinic.billing)
    assert made.status == Claim.Status.READY, made.problems
    file = _export(clinic, made)
    assert file.kind == claim_type
    assert x12.validate(file.content) == []
    segments = file.content.split("~")
    assert "SBR*S*18*G-77" not in segments  # the secondary's own SBR, with its own member, no group
    assert any(s.startswith("SBR*S*18") for s in segments) and any(s.startswith("SBR*P*18*G-77") for s in segments)
    assert f"AMT*D*{PRIMARY_PAID}" in segments and "AMT*EAF*120" in segments
    assert "REF*F8*BHH-9001" in segments and "NM1*PR*2*Blue Harbor Health*****PI*BHH01" in segments
    # One 2430 per line: what Blue Harbor paid on it, its CAS and the remittance's date.
    answers = [s for s in segments if s.startswith("SVD*BHH01*")]
    assert len(answers) == 3 and answers[0].startswith("SVD*BHH01*280*")  # $400 allowed less $120 coinsurance
    assert "CAS*PR*2*120" in segments and segments.count("CAS*CO*45*50") == 3
    assert sum(s.startswith("DTP*573*D8*") for s in segments) == 3


def test_a_denied_primary_is_billed_with_its_denial(clinic):
    claim, _ = primary_claim(clinic, outcome=Outcome("denied", carc="50", rarc="N130"))
    made = secondary.build_secondary(claim, clinic.billing)
    file = _export(clinic, made)
    assert x12.validate(file.content) == []
    assert "AMT*D*0" in file.content.split("~") and "CAS*CO*50*450" in file.content


def _field(call):
    with pytest.raises(ValidationError) as caught:
        call()
    return list(caught.value.message_dict)


def test_each_refusal_names_its_field(clinic):
    claim, sent = primary_claim(clinic, outcome=None)
    build = lambda: secondary.build_secondary(claim, clinic.billing)  # noqa: E731
    assert _field(build) == ["status"]  # accepted, not answered yet
    _post(clinic, remit(sent, {claim.control_number: PRIMARY}))
    claim.refresh_from_db()
    coverage = Coverage.objects.get(priority=Coverage.Priority.SECONDARY)
    Coverage.objects.filter(pk=coverage.pk).update(effective_from=claim.period_end)
    assert _field(build) == ["coverage"]  # starts after the claim's first day
    Coverage.objects.filter(pk=coverage.pk).update(effective_from=None)
    setting = PayerProgramSetting.objects.get(payer=coverage.payer)
    PayerProgramSetting.objects.filter(pk=setting.pk).update(is_active=False)
    assert _field(build) == ["payer"]
    PayerProgramSetting.objects.filter(pk=setting.pk).update(is_active=True, claim_type="837P")
    assert _field(build) == ["claim_type"]
    PayerProgramSetting.objects.filter(pk=setting.pk).update(claim_type="837I")
    made = build()
    assert _field(build) == ["primary_claim"]  # one live secondary claim
    assert "Already billed" in secondary.why_not(claim)
    # Voided, it no longer counts: the secondary payer may be billed again.
    actions.do_void(made, acting_user=clinic.billing, reason="Wrong member id")
    assert secondary.build_secondary(claim, clinic.billing).primary_claim == claim


def test_nothing_left_to_the_patient_is_nothing_to_bill(clinic):
    claim, _ = primary_claim(clinic, outcome=Outcome())
    assert _field(lambda: secondary.build_secondary(claim, clinic.billing)) == ["primary_claim"]


def test_a_reversed_primary_answer_refuses_and_the_scrubber_names_it(clinic):
    claim, sent = primary_claim(clinic)
    made = secondary.build_secondary(claim, clinic.billing)
    _post(clinic, remit(sent, {claim.control_number: Outcome(allowed=Decimal(400), coinsurance=Decimal(120),
                                                              reversal=True)}, number=907))  # fmt: skip
    claim.refresh_from_db()
    assert claim.status == Claim.Status.ACCEPTED
    problems = actions.do_rescrub(made, acting_user=clinic.billing)
    made.refresh_from_db()
    assert made.status == Claim.Status.DRAFT and [p["field"] for p in problems] == ["primary_claim"]
    assert made.lines.count() == 3  # scrubbing again keeps the copied lines
    with pytest.raises(ValidationError):
        _export(clinic, made)


def test_a_tertiary_claim_carries_both_earlier_payers(clinic, paid):
    made = secondary.build_secondary(paid, clinic.billing)
    sent = _export(clinic, made)
    _post(clinic, remit(sent, {made.control_number: Outcome(allowed=Decimal(40), coinsurance=Decimal(20))}))
    made.refresh_from_db()
    third = Payer.objects.create(
        organization=clinic.org, payer_id="TRI03", name="Third Trust", kind="commercial", claim_filing_indicator="CI"
    )
    PayerProgramSetting.objects.create(
        payer=third, program=clinic.mh, claim_type="837I", type_of_bill="013", revenue_code="0905",
        code_standard="S9480",
    )  # fmt: skip
    add_secondary_coverage(paid, third, priority=Coverage.Priority.TERTIARY)
    tertiary = secondary.build_secondary(made, clinic.billing)
    content = _export(clinic, tertiary).content
    assert x12.validate(content) == []
    segments = content.split("~")
    assert any(s.startswith("SBR*T*") for s in segments)
    assert {s[:5] for s in segments if s.startswith(("SBR*P", "SBR*S"))} == {"SBR*P", "SBR*S"}


def test_money_is_counted_once_in_the_ledger(clinic, paid):
    made = secondary.build_secondary(paid, clinic.billing)
    sent = _export(clinic, made)
    ledger = build_ledger(paid.patient)
    assert ledger.charges == CHARGE and [li.kind for li in ledger.lines].count("charge") == 1
    assert ledger.patient_responsibility == 120 and ledger.balance == 120
    # Green Valley allows $40 a day: pays $100 of the $120 left and leaves $20 coinsurance. Its CO-45 restates the
    # primary's answer on the whole charge and is not a second write-off.
    _post(clinic, remit(sent, {made.control_number: Outcome(allowed=Decimal(40), coinsurance=Decimal(20))}))
    ledger = build_ledger(paid.patient)
    assert ledger.charges == CHARGE and ledger.insurance_paid == PRIMARY_PAID + 100
    assert ledger.adjustments == Decimal(150)  # the primary's CO-45 only
    assert ledger.patient_responsibility == 20 and ledger.balance == ledger.patient_balance == 20


def test_reports_count_billed_once_and_paid_from_both_payers(clinic, paid):
    made = secondary.build_secondary(paid, clinic.billing)
    sent = _export(clinic, made)
    aging = reports.aging(clinic.billing)
    # Blue Harbor owes nothing; Green Valley owes what Blue Harbor left, not the charge again.
    assert [(row.payer, row.total) for row in aging.rows] == [("Green Valley Mutual", Decimal(120))]
    assert aging.daily_charges == (CHARGE / 90).quantize(Decimal("0.01"))  # one charge sent, not two
    today = timezone.localdate()
    (row,) = reports.billed_and_paid(clinic.billing, today, today)
    assert (row.billed, row.paid) == (CHARGE, PRIMARY_PAID)
    _post(clinic, remit(sent, {made.control_number: Outcome(allowed=Decimal(40), coinsurance=Decimal(20))}))
    assert reports.aging(clinic.billing).rows == []
    (row,) = reports.billed_and_paid(clinic.billing, today, today)
    assert (row.billed, row.paid) == (CHARGE, PRIMARY_PAID + 100)


def test_a_billing_user_bills_the_secondary_payer_from_the_claim_page(client, clinic, paid):
    login(client, clinic.billing)
    page = client.get(reverse("claims:detail", args=[paid.public_id]))
    assert b"Bill the secondary payer" in page.content
    answer = client.post(reverse("claims:secondary", args=[paid.public_id]))
    made = Claim.objects.get(primary_claim=paid)
    assert answer.status_code == 302 and answer["Location"] == reverse("claims:detail", args=[made.public_id])
    page = client.get(answer["Location"]).content.decode()
    link = reverse("claims:detail", args=[paid.public_id])
    assert f'Secondary to claim <a href="{link}">{paid.control_number}</a>' in page
    assert "Blue Harbor Health" in page and "BHH-9001" in page  # the primary payer's payment summary
    page = client.get(reverse("claims:detail", args=[paid.public_id])).content.decode()
    assert made.control_number in page and "Bill the secondary payer" not in page
    # A second post is refused with the reason, and builds nothing.
    again = client.post(reverse("claims:secondary", args=[paid.public_id]), follow=True)
    assert b"Already billed" in again.content and Claim.objects.filter(primary_claim=paid).count() == 1


def test_the_page_says_why_not_yet(client, clinic):
    claim, _ = primary_claim(clinic, outcome=None)
    login(client, clinic.billing)
    page = client.get(reverse("claims:detail", args=[claim.public_id])).content.decode()
    assert "Bill the secondary payer" not in page and "must answer it first" in page


def _outsider(clinic):
    program = Program.objects.filter(site__organization=clinic.other_org).get()
    return staff(clinic.other_org, "otherbilling", Role.BILLING, [program])


@pytest.mark.parametrize(
    ("who", "status"), [("billing", 302), ("director", 403), ("auditor", 403), ("clinician", 403), ("outsider", 404)]
)
def test_who_may_bill_the_secondary_payer_on_the_page(client, clinic, paid, who, status):
    login(client, _outsider(clinic) if who == "outsider" else getattr(clinic, who))
    assert client.post(reverse("claims:secondary", args=[paid.public_id])).status_code == status
    assert Claim.objects.filter(primary_claim=paid).exists() == (status == 302)


def test_the_page_shows_no_button_to_readers(client, clinic, paid):
    login(client, clinic.director)
    page = client.get(reverse("claims:detail", args=[paid.public_id]))
    assert page.status_code == 200 and b"Bill the secondary payer" not in page.content


def test_the_api_builds_the_secondary_claim_and_names_the_field(client, clinic):
    claim, sent = primary_claim(clinic, outcome=None)
    login(client, clinic.billing)
    url = f"/api/v1/claims/{claim.public_id}/secondary"
    refused = client.post(url, content_type="application/json")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "status"
    _post(clinic, remit(sent, {claim.control_number: PRIMARY}))
    made = client.post(url, content_type="application/json")
    assert made.status_code == 201
    body = made.json()
    assert body["primary_claim"] == str(claim.public_id) and body["status"] == "ready" and len(body["lines"]) == 3
    again = client.post(url, content_type="application/json")
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "primary_claim"
    assert client.get(f"/api/v1/claims/{claim.public_id}").json()["secondary_claims"] == [body["id"]]
    listed = {c["id"]: c["primary_claim"] for c in client.get("/api/v1/claims").json()}
    assert listed == {body["id"]: str(claim.public_id), str(claim.public_id): None}


@pytest.mark.parametrize(("who", "status"), [("director", 403), ("clinician", 403), ("outsider", 404)])
def test_who_may_bill_the_secondary_payer_through_the_api(client, clinic, paid, who, status):
    login(client, _outsider(clinic) if who == "outsider" else getattr(clinic, who))
    answer = client.post(f"/api/v1/claims/{paid.public_id}/secondary", content_type="application/json")
    assert answer.status_code == status and not Claim.objects.filter(primary_claim=paid).exists()


def test_another_program_is_not_billed_with_a_professional_setting(clinic):
    """A payer set up for another program only has no setting here: refused by payer, not built by accident."""
    payer = set_up_billing(clinic)
    (claim,), sent = accepted_claims(clinic, payer, ["Jordan"])
    _post(clinic, remit(sent, {claim.control_number: PRIMARY}))
    add_secondary_coverage(claim, second_payer(clinic, "837P", program=clinic.su))
    claim.refresh_from_db()
    assert _field(lambda: secondary.build_secondary(claim, clinic.billing)) == ["payer"]


@pytest.mark.django_db(transaction=True)
def test_two_builds_at_once_make_one_secondary_claim():
    clinic = build_clinic()
    claim, _ = primary_claim(clinic)

    def build() -> str:
        try:
            return secondary.build_secondary(claim, clinic.billing).control_number
        except ValidationError as exc:
            return next(iter(exc.message_dict))

    made = together([build, build])
    # The second waits for the first one's row lock on the primary, then finds its claim and refuses.
    assert sorted(made) == [Claim.objects.get(primary_claim=claim).control_number, "primary_claim"]


def test_the_demo_bills_the_partly_paid_patients_secondary_payer(client, clinic):
    """The demo's month of claims (openiop/demo/claims.py) on the test clinic: four patients' November days, so the
    835 pays one claim in part; that patient's secondary payer is billed what the primary left."""
    payer = set_up_billing(clinic)
    for name in ("Ana", "Ben", "Cy", "Dee"):
        billable_days(billed_episode(clinic, payer, name), weekdays(date(2026, 11, 2), 3))
    second_payer(clinic)
    counts = ensure_demo_claims(clinic.org, date(2026, 12, 5))
    assert counts is not None and counts["secondary"] == 1 and counts["claims"] == 5
    made = Claim.objects.select_related("primary_claim", "coverage").get(primary_claim__isnull=False)
    assert made.primary_claim is not None
    assert made.status == Claim.Status.READY and made.coverage.priority == Coverage.Priority.SECONDARY
    assert made.payer.name == "Green Valley Mutual" and made.primary_claim.status == Claim.Status.PAID
    assert secondary.handed_over(made) == made.primary_claim.payments.get().patient_responsibility > 0
    login(client, clinic.billing)
    assert made.control_number in client.get(reverse("claims:list")).content.decode()
    page = client.get(reverse("claims:detail", args=[made.public_id])).content.decode()
    assert "Secondary to claim <a" in page and made.primary_claim.control_number in page


def test_a_secondary_claim_is_voided_not_replaced(client, clinic, paid):
    made = secondary.build_secondary(paid, clinic.billing)
    _post(clinic, ack_277ca(_export(clinic, made), number=911))
    made.refresh_from_db()
    assert made.status == Claim.Status.ACCEPTED
    assert _field(lambda: actions.do_replace(made, acting_user=clinic.billing, reason="Typo")) == ["status"]
    login(client, clinic.billing)
    page = client.get(reverse("claims:detail", args=[made.public_id])).content.decode()
    assert "Build the replacement" not in page and "Void the claim" in page


def test_a_secondary_claim_after_a_medicare_claim_listing_services_copies_its_service_lines(clinic):
    """Medicare bills each service; the secondary copies the lines (not the services, which the primary holds)."""
    from openiop.scheduling.models import SessionType
    from openiop.testing.claims import Service, attended, rates

    payer = set_up_billing(clinic, code_standard="", type_of_bill="076", condition_code_92=True)
    rates(clinic.org, None, {"90853": "95.00", "90834": "120.00"})
    episode = billed_episode(clinic, payer)
    kind = SessionType.ServiceKind
    attended(
        episode,
        date(2026, 11, 3),
        [
            Service("Process group", kind.GROUP_PSYCHOTHERAPY, 60, clinic.clinician, hour=9),
            Service("Individual counseling", kind.INDIVIDUAL_PSYCHOTHERAPY, 45, clinic.clinician, hour=10),
        ],
    )
    billable_days(episode, [date(2026, 11, 3)])
    (claim,) = actions.do_build_claims(
        acting_user=clinic.billing, program=clinic.mh, payer=payer, start=date(2026, 11, 1), end=date(2026, 11, 30)
    ).created
    sent = actions.do_export_claims([claim], acting_user=clinic.billing, organization=clinic.org).file
    _post(clinic, ack_277ca(sent))
    _post(clinic, remit(sent, {claim.control_number: Outcome(coinsurance=Decimal(40))}))
    claim.refresh_from_db()
    add_secondary_coverage(claim, second_payer(clinic))
    copy = secondary.build_secondary(claim, clinic.billing)
    assert list(copy.lines.values_list("procedure_code", "attendance_record", "billable_day")) == [
        ("90853", None, None),
        ("90834", None, None),
    ]
    assert copy.status == Claim.Status.READY, copy.problems
    file = actions.do_export_claims([copy], acting_user=clinic.billing, organization=clinic.org).file
    assert x12.validate(file.content) == [] and file.content.count("~SVD*") == 2


def test_the_secondary_payers_filing_limit_runs_from_the_primary_remittance(clinic, paid):
    from datetime import timedelta

    from openiop.claims.build import apply_scrub
    from openiop.claims.models import Remittance

    Payer.objects.filter(payer_id="GVM02").update(timely_filing_days=10)  # days of November are months past 10 days
    made = secondary.build_secondary(paid, clinic.billing)
    assert made.problems == []  # the primary's 835 came today: ten days left
    Remittance.objects.update(payment_date=timezone.localdate() - timedelta(days=11))
    made.refresh_from_db()
    problems = apply_scrub(made, acting_user=clinic.billing)
    assert [p["field"] for p in problems] == ["period_start"] and "timely-filing" in problems[0]["message"]
