"""Claims end to end on the models: built from billable days, scrubbed, exported as pyx12-valid 837 files with
persisted control numbers, answered by 999 and 277CA files (each applied once), corrected by replacement (7) and
void (8) claims."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from openiop.billing.models import BillingProvider, FeeScheduleRate, PayerProgramSetting
from openiop.claims import actions, build
from openiop.claims.models import Claim, ClaimLine, ControlCounter, X12File
from openiop.core.models import AuditAction, AuditEvent
from openiop.lib import x12
from openiop.testing.claims import RATE, ack_277ca, ack_999, billable_days, billed_episode, set_up_billing, weekdays
from openiop.utilization.models import Authorization

MONTH = (date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def payer(clinic):
    return set_up_billing(clinic)


@pytest.fixture
def episode(clinic, payer):
    return billed_episode(clinic, payer)


def _build(clinic, payer, start=MONTH[0], end=MONTH[1]):
    return actions.do_build_claims(acting_user=clinic.billing, program=clinic.mh, payer=payer, start=start, end=end)


def test_a_month_of_billable_days_becomes_one_ready_claim_a_line_a_day(clinic, payer, episode):
    days = weekdays(date(2026, 11, 2), 6)
    billable_days(episode, days)
    billable_days(episode, [date(2026, 11, 10)], billable=False)
    result = _build(clinic, payer)
    (claim,) = result.created
    assert claim.status == Claim.Status.READY and claim.problems == []
    assert [line.service_date for line in claim.lines.all()] == days
    line = claim.lines.first()
    assert (line.revenue_code, line.procedure_code, line.unit_basis, line.units) == ("0905", "S9480", "DA", 1)
    assert claim.total_charge == RATE * 6
    assert (claim.type_of_bill, claim.diagnoses, claim.period_start, claim.period_end) == (
        "0131",
        ["F33.1"],
        days[0],
        days[-1],
    )
    assert claim.control_number == f"OI{claim.number:010d}"
    assert [e.to_status for e in claim.events.all()] == ["draft", "ready"]  # built, then scrubbed clean
    assert AuditEvent.objects.filter(action=AuditAction.CREATED, object_id=str(claim.public_id)).exists()
    # Its days are held: building again makes nothing.
    assert _build(clinic, payer).created == []


def test_days_of_another_payer_or_outside_the_period_stay_out(clinic, payer, episode):
    billable_days(episode, [date(2026, 10, 30), date(2026, 11, 3), date(2026, 12, 1)])
    other = set_up_billing(clinic)  # same payer: its setting is idempotent
    assert other == payer
    (claim,) = _build(clinic, payer).created
    assert [line.service_date for line in claim.lines.all()] == [date(2026, 11, 3)]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (None, MONTH[1], "period_start"),
        (MONTH[1], MONTH[0], "period_end"),
        (MONTH[0], date(2026, 12, 15), "period_end"),
    ],
)
def test_a_period_that_makes_no_sense_is_refused_by_field(clinic, payer, start, end, field):
    with pytest.raises(ValidationError) as caught:
        _build(clinic, payer, start, end)
    assert field in caught.value.message_dict


def test_the_scrubber_names_each_problem_and_a_rescrub_clears_them(clinic, payer, episode):
    billable_days(episode, [date(2026, 11, 3), date(2026, 11, 4)])
    BillingProvider.objects.filter(organization=clinic.org).delete()
    FeeScheduleRate.objects.all().delete()
    PayerProgramSetting.objects.filter(payer=payer).update(authorization_required=True)
    (claim,) = _build(clinic, payer).created
    fields = {p["field"] for p in claim.problems}
    assert claim.status == Claim.Status.DRAFT
    assert {"billing_provider", "lines.1", "lines.2", "authorization"} <= fields

    set_up_billing(clinic)
    Authorization.objects.create(
        episode=episode,
        coverage=episode.patient.coverages.get(),
        number="AUTH-77",
        level_of_care=episode.program.level_of_care,
        start_date=date(2026, 11, 1),
        end_date=date(2026, 11, 30),
        units_authorized=20,
        status=Authorization.Status.APPROVED,
    )
    assert actions.do_rescrub(claim, acting_user=clinic.billing) == []
    claim.refresh_from_db()
    assert claim.status == Claim.Status.READY and claim.authorization_number == "AUTH-77"
    assert claim.total_charge == RATE * 2


def test_a_day_no_longer_billable_is_named(clinic, payer, episode):
    (day,) = billable_days(episode, [date(2026, 11, 3)])
    (claim,) = _build(clinic, payer).created
    day.is_billable = False
    day.reason = "2 services, 110 min: needs 3 services"
    day.save()
    problems = actions.do_rescrub(claim, acting_user=clinic.billing)
    assert any("no longer billable" in p["message"] for p in problems)


def _ready(clinic, payer, episode, days=3):
    billable_days(episode, weekdays(date(2026, 11, 2), days))
    (claim,) = _build(clinic, payer).created
    assert claim.status == Claim.Status.READY, claim.problems
    return claim


def test_the_export_writes_a_pyx12_valid_837i_and_numbers_every_envelope(clinic, payer, episode):
    claim = _ready(clinic, payer, episode)
    exported = actions.do_export_claims([claim], acting_user=clinic.billing, organization=clinic.org)
    file = exported.file
    assert x12.validate(file.content) == []
    assert file.kind == "837I" and "CLM*" + claim.control_number in file.content
    assert "SV2*0905*HC:S9480*450*DA*1" in file.content
    assert (file.interchange_control_number, file.group_control_number) == (1, 1)
    assert file.transaction_control_numbers == [{"control_number": "0001", "claims": [claim.control_number]}]
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED and list(claim.files.all()) == [file]

    second = billed_episode(clinic, payer, "Casey")
    other = _ready(clinic, payer, second, days=2)
    again = actions.do_export_claims([other], acting_user=clinic.billing, organization=clinic.org).file
    assert (again.interchange_control_number, again.group_control_number) == (2, 2)
    assert again.transaction_control_numbers[0]["control_number"] == "0002"


def test_a_professional_setting_exports_a_valid_837p(clinic):
    payer = set_up_billing(clinic, claim_type="837P")
    episode = billed_episode(clinic, payer)
    claim = _ready(clinic, payer, episode)
    file = actions.do_export_claims([claim], acting_user=clinic.billing, organization=clinic.org).file
    assert file.kind == "837P" and x12.validate(file.content) == []
    assert "SV1*HC:S9480*450*UN*1" in file.content and "CLM*" + claim.control_number + "*1350***11:B:1" in file.content


def test_a_file_pyx12_refuses_is_not_written_and_names_the_segment(clinic, payer, episode, monkeypatch):
    claim = _ready(clinic, payer, episode)
    real = x12.write_837i

    def broken(interchange, **kwargs):  # a writer bug: the billing provider's NM1 loses its NPI
        return real(interchange, **kwargs).replace("*XX*1234567893~", "*XX*~")

    monkeypatch.setattr(x12, "write_837i", broken)
    with pytest.raises(actions.ExportBlocked) as blocked:
        actions.do_export_claims([claim], acting_user=clinic.billing, organization=clinic.org)
    assert any(p.startswith("NM1") for p in blocked.value.problems)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.READY
    assert not X12File.objects.exists() and not ControlCounter.objects.filter(name="isa", value__gt=0).exists()


def test_only_ready_claims_of_one_type_go_in_a_file(clinic, payer, episode):
    claim = _ready(clinic, payer, episode)
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.DRAFT)
    with pytest.raises(ValidationError, match="Only ready claims"):
        actions.do_export_claims([claim], acting_user=clinic.billing, organization=clinic.org)


def _submitted(clinic, payer, episode):
    claim = _ready(clinic, payer, episode)
    file = actions.do_export_claims([claim], acting_user=clinic.billing, organization=clinic.org).file
    claim.refresh_from_db()
    return claim, file


def test_a_999_rejection_rejects_its_claims_with_the_reason_and_is_applied_once(clinic, payer, episode):
    claim, sent = _submitted(clinic, payer, episode)
    text = ack_999(sent, rejected=True)
    result = actions.do_import_acknowledgement(text, acting_user=clinic.billing, organization=clinic.org)
    claim.refresh_from_db()
    assert result.rejected == [claim] and claim.status == Claim.Status.REJECTED
    assert "NM1" in claim.status_reason
    with pytest.raises(ValidationError, match="imported already"):
        actions.do_import_acknowledgement(text, acting_user=clinic.billing, organization=clinic.org)
    assert claim.events.filter(to_status=Claim.Status.REJECTED).count() == 1


def test_a_999_acceptance_leaves_claims_for_the_277ca_to_judge(clinic, payer, episode):
    claim, sent = _submitted(clinic, payer, episode)
    actions.do_import_acknowledgement(
        ack_999(sent, rejected=False), acting_user=clinic.billing, organization=clinic.org
    )
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED and "999" in claim.events.last().note


def test_a_277ca_accepts_one_claim_with_its_payer_number_and_rejects_another(clinic, payer, episode):
    billable_days(episode, weekdays(date(2026, 11, 2), 3))
    billable_days(billed_episode(clinic, payer, "Casey"), weekdays(date(2026, 11, 2), 2))
    first, second = _build(clinic, payer).created
    sent = actions.do_export_claims([first, second], acting_user=clinic.billing, organization=clinic.org).file
    text = ack_277ca(sent, rejected={second.control_number: "Billing provider NPI is not on file"})
    result = actions.do_import_acknowledgement(text, acting_user=clinic.billing, organization=clinic.org)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.payer_claim_number) == (Claim.Status.ACCEPTED, f"ICN{first.control_number}")
    assert second.status == Claim.Status.REJECTED and "NPI is not on file" in second.status_reason
    assert set(result.file.claims.all()) == {first, second}


@pytest.mark.parametrize("text", ["", "hello", "ISA" + "*" * 200, "GS*HC~ST*835*0001~"])
def test_a_file_that_is_not_an_acknowledgement_is_refused_by_field(clinic, text):
    with pytest.raises(ValidationError) as caught:
        actions.do_import_acknowledgement(text, acting_user=clinic.billing, organization=clinic.org)
    assert "file" in caught.value.message_dict
    assert not X12File.objects.exists()


def _accepted(clinic, payer, episode):
    claim, sent = _submitted(clinic, payer, episode)
    actions.do_import_acknowledgement(ack_277ca(sent), acting_user=clinic.billing, organization=clinic.org)
    claim.refresh_from_db()
    return claim


def test_a_replacement_claim_carries_the_payer_number_and_takes_the_days(clinic, payer, episode):
    claim = _accepted(clinic, payer, episode)
    replacement = actions.do_replace(claim, acting_user=clinic.billing, reason="Diagnosis corrected")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.REPLACED and replacement.frequency == Claim.Frequency.REPLACEMENT
    assert replacement.type_of_bill == "0137" and replacement.status == Claim.Status.READY
    assert ClaimLine.objects.filter(claim=claim, released=True).count() == 3
    file = actions.do_export_claims([replacement], acting_user=clinic.billing, organization=clinic.org).file
    assert x12.validate(file.content) == [] and f"REF*F8*ICN{claim.control_number}" in file.content
    assert "CLM*" + replacement.control_number + "*1350***13:A:7" in file.content


def test_a_void_claim_withdraws_an_accepted_one_and_frees_its_days(clinic, payer, episode):
    claim = _accepted(clinic, payer, episode)
    void = actions.do_void(claim, acting_user=clinic.billing, reason="Billed to the wrong payer")
    assert void is not None and void.frequency == Claim.Frequency.VOID and void.status == Claim.Status.READY
    file = actions.do_export_claims([void], acting_user=clinic.billing, organization=clinic.org).file
    assert x12.validate(file.content) == [] and ":A:8" in file.content
    # The days are free: a new build bills them again as an original claim.
    (again,) = _build(clinic, payer).created
    assert again.frequency == Claim.Frequency.ORIGINAL and again.lines.count() == 3


def test_a_claim_never_sent_is_voided_in_place(clinic, payer, episode):
    claim = _ready(clinic, payer, episode)
    assert actions.do_void(claim, acting_user=clinic.billing, reason="Duplicate") is None
    claim.refresh_from_db()
    assert claim.status == Claim.Status.VOIDED
    with pytest.raises(ValidationError) as caught:
        actions.do_void(claim, acting_user=clinic.billing, reason="Again")
    assert "status" in caught.value.message_dict


def test_denial_and_appeal_are_recorded_with_their_reasons(clinic, payer, episode):
    claim = _accepted(clinic, payer, episode)
    with pytest.raises(ValidationError) as caught:
        actions.do_set_status(claim, acting_user=clinic.billing, status=Claim.Status.DENIED)
    assert "note" in caught.value.message_dict
    actions.do_set_status(claim, acting_user=clinic.billing, status=Claim.Status.DENIED, note="CO-50 not necessary")
    actions.do_set_status(claim, acting_user=clinic.billing, status=Claim.Status.APPEALED, note="Records sent")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.APPEALED
    assert [e.to_status for e in claim.events.all()][-2:] == ["denied", "appealed"]


def test_control_numbers_come_from_one_counter_per_organization(clinic):
    first = build.next_number(clinic.org, "isa")
    second = build.next_number(clinic.org, "isa")
    assert (first, second) == (1, 2)
    assert build.next_number(clinic.other_org, "isa") == 1
    assert sum(ControlCounter.objects.filter(name="isa").values_list("value", flat=True)) == 3


def test_a_supervised_clinicians_episode_names_the_supervisor_as_attending(clinic, payer, episode):
    from openiop.patients.models import EpisodeOfCare

    EpisodeOfCare.objects.filter(pk=episode.pk).update(primary_clinician=clinic.intern)
    billable_days(episode, [date(2026, 11, 3)])
    (claim,) = _build(clinic, payer).created
    assert (claim.attending, claim.supervising, claim.status) == (clinic.clinician, None, Claim.Status.READY)


def test_a_professional_claim_names_the_supervised_clinician_and_the_supervisor(clinic):
    from openiop.billing.models import ClinicianBillingIdentity
    from openiop.patients.models import EpisodeOfCare

    payer = set_up_billing(clinic, claim_type="837P")
    episode = billed_episode(clinic, payer)
    EpisodeOfCare.objects.filter(pk=episode.pk).update(primary_clinician=clinic.intern)
    billable_days(episode, [date(2026, 11, 3)])
    (claim,) = _build(clinic, payer).created
    assert (claim.attending, claim.supervising) == (clinic.intern, clinic.clinician)
    assert [p["field"] for p in claim.problems] == ["rendering"]  # the intern has no NPI yet
    ClinicianBillingIdentity.objects.create(
        organization=clinic.org, user=clinic.intern, npi="1497758544", taxonomy_code="101YM0800X", may_render=True
    )
    assert actions.do_rescrub(claim, acting_user=clinic.billing) == []
    file = actions.do_export_claims([claim], acting_user=clinic.billing, organization=clinic.org).file
    assert x12.validate(file.content) == [] and "NM1*DQ*1*Tester*Clinician" in file.content


def _sud_claim(clinic, payer):
    PayerProgramSetting.objects.create(
        payer=payer,
        program=clinic.su,
        claim_type="837I",
        type_of_bill="013",
        revenue_code="0906",
        code_standard="H0015",
    )
    FeeScheduleRate.objects.create(
        organization=clinic.org, payer=payer, code="H0015", rate=RATE, effective_from=date(2026, 1, 1)
    )
    episode = billed_episode(clinic, payer, "Casey", program=clinic.su)
    billable_days(episode, [date(2026, 11, 3), date(2026, 11, 4)])
    (claim,) = actions.do_build_claims(
        acting_user=clinic.billing, program=clinic.su, payer=payer, start=MONTH[0], end=MONTH[1]
    ).created
    return episode, claim


def test_a_substance_use_claim_waits_for_a_part2_consent_and_is_accounted_for(clinic, payer):
    from openiop.consents.actions import do_revoke_consent
    from openiop.consents.models import Disclosure
    from openiop.testing.consents import part2_tpo

    episode, claim = _sud_claim(clinic, payer)
    assert claim.status == Claim.Status.DRAFT
    assert [p["field"] for p in claim.problems] == ["consent"] and "Part 2" in claim.problems[0]["message"]

    consent = part2_tpo(episode.patient, clinic.director)
    assert actions.do_rescrub(claim, acting_user=clinic.billing) == []
    actions.do_export_claims([claim], acting_user=clinic.billing, organization=clinic.org)
    disclosure = Disclosure.objects.get(patient=episode.patient)
    assert (disclosure.recipient_type, disclosure.channel, disclosure.consent) == ("payer", "export", consent)
    assert claim.control_number in disclosure.description

    # A consent revoked after the claim was ready stops the file, naming the claim; nothing is written.
    again = billable_days(episode, [date(2026, 11, 5)])
    (second,) = actions.do_build_claims(
        acting_user=clinic.billing, program=clinic.su, payer=payer, start=MONTH[0], end=MONTH[1]
    ).created
    assert second.status == Claim.Status.READY and again
    do_revoke_consent(consent, acting_user=clinic.director, statement="I revoke my consent. (signed)")
    with pytest.raises(actions.ExportBlocked) as blocked:
        actions.do_export_claims([second], acting_user=clinic.billing, organization=clinic.org)
    assert blocked.value.problems[0].startswith(second.control_number) and "Part 2" in blocked.value.problems[0]
    assert X12File.objects.count() == 1


def test_a_mental_health_claim_needs_no_consent_to_go_to_the_payer(clinic, payer, episode):
    from openiop.consents.models import Disclosure

    claim = _ready(clinic, payer, episode)
    actions.do_export_claims([claim], acting_user=clinic.billing, organization=clinic.org)
    assert not Disclosure.objects.exists()  # HIPAA permits payment disclosures; Part 2 is what needs the consent


def test_another_payers_authorization_does_not_cover_the_claim(clinic, payer, episode):
    from openiop.patients.actions import do_add_coverage
    from openiop.patients.models import Payer

    PayerProgramSetting.objects.filter(payer=payer).update(authorization_required=True)
    other = Payer.objects.create(organization=clinic.org, payer_id="OTH01", name="Other Plan", kind="commercial")
    secondary = do_add_coverage(
        episode.patient, acting_user=None, payer=other, payer_kind="commercial", payer_name="Other Plan",
        member_id="OT-1", priority=2,
    )  # fmt: skip
    Authorization.objects.create(
        episode=episode, coverage=secondary, number="OTHER-1", level_of_care=episode.program.level_of_care,
        start_date=date(2026, 11, 1), end_date=date(2026, 11, 30), units_authorized=20,
        status=Authorization.Status.APPROVED,
    )  # fmt: skip
    billable_days(episode, [date(2026, 11, 3)])
    (claim,) = _build(clinic, payer).created
    assert claim.authorization_number == "" and "authorization" in {p["field"] for p in claim.problems}
