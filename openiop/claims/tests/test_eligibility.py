"""Eligibility (270/271): the inquiry follows 005010X279A1 for a subscriber and a dependent, its control numbers are
unique and kept, the answer is read into the check and shown on the Insurance tab, a duplicate or foreign 271 is
refused, bad uploads keep the page, the dates are applied only when asked, and the access matrix."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from openiop.claims import eligibility
from openiop.claims.eligibility_models import EligibilityCheck
from openiop.claims.models import ControlCounter, X12File
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.lib.x12 import validate_envelope
from openiop.lib.x12.reading import segments
from openiop.lib.x12.simulate import answer_270
from openiop.lib.x12.tests.test_eligibility import assert_x279a1_order
from openiop.patients.actions import do_add_coverage
from openiop.testing.claims import set_up_billing
from openiop.testing.consents import part2_tpo
from openiop.testing.fixtures import make_patient

SUBSCRIBER_LOOPS = ["HEADER", "2000A", "2000B", "2000C", "2110C", "TRAILER"]
DEPENDENT_LOOPS = ["HEADER", "2000A", "2000B", "2000C", "2000D", "2110D", "TRAILER"]


@pytest.fixture
def payer(clinic):
    return set_up_billing(clinic)


def _coverage(clinic, plan, program=None, **fields):
    patient = make_patient(clinic, program, sex_assigned_at_birth="female")
    values = {"payer": plan, "payer_kind": plan.kind, "payer_name": plan.name, "member_id": "BH123456"}
    values.update(fields)
    return do_add_coverage(patient, acting_user=None, **values)


@pytest.fixture
def coverage(clinic, payer):
    return _coverage(clinic, payer, group_number="G-77")


@pytest.fixture
def check(clinic, coverage):
    return eligibility.do_request_eligibility(coverage, acting_user=clinic.billing)


def _answer(check, number=5001, **kwargs):
    return answer_270(check.request_file.content, at=timezone.now(), number=number, **kwargs)


def _tab(client, patient):
    return client.get(patient.get_absolute_url() + "?tab=insurance").content.decode()


def test_the_270_for_a_subscriber_follows_x279a1_and_is_kept(clinic, check, coverage):
    file = check.request_file
    assert (file.kind, file.direction) == ("270", "out") and check.status == "requested"
    assert validate_envelope(file.content) == []
    assert assert_x279a1_order(file.content) == SUBSCRIBER_LOOPS
    segs, _ = segments(file.content, expect="270")
    by_id = {seg.id: seg for seg in segs}
    assert [seg.get(1) for seg in segs if seg.id == "EQ"] == ["30", "MH", "A8"]  # no AI: not a substance-use patient
    assert by_id["TRN"].get(2) == check.trace_number and by_id["TRN"].get(3) == "1123456789"
    assert int(by_id["ISA"].get(13)) == file.interchange_control_number
    names = [(s.get(1), s.get(9)) for s in segs if s.id == "NM1"]
    assert names == [("PR", "BHH01"), ("1P", "1234567893"), ("IL", "BH123456")]
    assert by_id["REF"].get(2) == "G-77" and by_id["GS"].get(8) == "005010X279A1"
    assert AuditEvent.objects.filter(action=AuditAction.CREATED, object_id=str(check.public_id)).count() == 1


def test_the_270_for_a_dependent_asks_under_hl_23_and_a_substance_use_patient_adds_ai(clinic, payer):
    coverage = _coverage(
        clinic,
        payer,
        clinic.su,
        relationship_to_subscriber="child",
        subscriber_name="Morgan Rivera",
        subscriber_date_of_birth=date(1970, 1, 2),
    )
    # Asking about a person of a substance-use program is a Part 2 disclosure: it waits for the consent.
    with pytest.raises(ValidationError) as refused:
        eligibility.do_request_eligibility(coverage, acting_user=clinic.billing)
    assert "Part 2" in refused.value.message_dict["consent"][0]
    part2_tpo(coverage.patient, clinic.director)
    check = eligibility.do_request_eligibility(coverage, acting_user=clinic.billing)
    text = check.request_file.content
    assert assert_x279a1_order(text) == DEPENDENT_LOOPS
    segs, _ = segments(text, expect="270")
    assert [(s.get(1), s.get(3)) for s in segs if s.id == "NM1"][2:] == [("IL", "Rivera"), ("03", "Rivera")]
    assert [s.get(2) for s in segs if s.id == "INS"] == ["19"]
    assert [s.get(1) for s in segs if s.id == "EQ"] == ["30", "MH", "A8", "AI"]
    assert check.service_types == ["30", "MH", "A8", "AI"]


def test_control_and_trace_numbers_are_unique_and_persisted(clinic, coverage):
    first = eligibility.do_request_eligibility(coverage, acting_user=clinic.billing)
    second = eligibility.do_request_eligibility(coverage, acting_user=clinic.billing)
    a, b = first.request_file, second.request_file
    assert a.interchange_control_number != b.interchange_control_number
    assert a.group_control_number != b.group_control_number
    assert a.transaction_control_numbers[0]["control_number"] != b.transaction_control_numbers[0]["control_number"]
    assert first.trace_number != second.trace_number
    counters = dict(ControlCounter.objects.filter(organization=clinic.org).values_list("name", "value"))
    assert counters["isa"] == b.interchange_control_number and counters["eligibility"] == 2


def test_billing_checks_from_the_tab_uploads_the_271_and_the_tab_shows_it(client, clinic, coverage):
    login(client, clinic.billing)
    patient = coverage.patient
    assert "Check eligibility" in _tab(client, patient)
    asked = client.post(reverse("claims:eligibility_request", args=[coverage.public_id]))
    check = EligibilityCheck.objects.get()
    assert asked.status_code == 302
    assert asked["Location"] == reverse("claims:eligibility_detail", args=[check.public_id])
    page = client.get(asked["Location"])
    assert page.status_code == 200 and "Upload the payer" in page.content.decode()
    download = client.get(reverse("claims:eligibility_download", args=[check.public_id]))
    assert download.status_code == 200 and download.content.decode().startswith("ISA*")
    assert "Rivera" not in download["Content-Disposition"]
    assert "waiting for the payer" in _tab(client, patient)

    text = _answer(
        check,
        copay="25",
        coinsurance="0.2",
        visits=18,
        plan="Harbor Gold",
        group="G-77",
        coverage_from=date(2026, 1, 1),
    )
    upload = SimpleUploadedFile("answer.x12", text.encode())
    done = client.post(reverse("claims:eligibility_response", args=[check.public_id]), {"file": upload})
    assert done.status_code == 302
    check.refresh_from_db()
    response = check.response_file
    assert check.status == "answered" and response is not None and (response.kind, response.direction) == ("271", "in")
    result = check.result
    assert result["active"] and (result["copay"], result["remaining_visits"]) == ("25", "18")
    assert (result["plan_name"], result["group_number"]) == ("Harbor Gold", "G-77")
    assert result["coverage_from"] == "2026-01-01"
    assert [b["code"] for b in result["benefits"]] == ["1", "B", "A", "F"]
    assert "20%" in client.get(reverse("claims:eligibility_detail", args=[check.public_id])).content.decode()
    tab = _tab(client, patient)
    assert "active, copay $25, coinsurance 20%, 18 visits left" in tab and "Eligible as of" in tab
    reads = AuditEvent.objects.filter(action=AuditAction.RECORD_VIEWED, object_id=str(check.public_id))
    assert reads.exists() and set(reads.values_list("patient_id", flat=True)) == {patient.pk}


def test_a_duplicate_271_and_one_for_another_inquiry_are_refused_keeping_the_page(client, clinic, coverage, check):
    login(client, clinic.billing)
    url = reverse("claims:eligibility_response", args=[check.public_id])
    other = eligibility.do_request_eligibility(coverage, acting_user=clinic.billing)
    foreign = client.post(url, {"content": _answer(other)})
    assert foreign.status_code == 400 and "answers another inquiry" in foreign.content.decode()
    assert "ISA*" in foreign.content.decode()  # what was pasted is still in the box
    text = _answer(check)
    assert client.post(url, {"content": text}).status_code == 302
    again = client.post(url, {"content": text})
    assert again.status_code == 400 and "imported already" in again.content.decode()
    assert X12File.objects.filter(kind="271").count() == 1


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("x.bin", b"\xff\xfe\x00binary"), "not text"),
        (SimpleUploadedFile("x.txt", b"hello"), "not an X12 file"),
        (SimpleUploadedFile("x.x12", b"ISA*00*\x00~"), "NUL character"),
        (None, "Choose the 271 file"),
    ],
)
def test_a_bad_upload_is_a_400_on_the_page(client, clinic, check, upload, message):
    login(client, clinic.billing)
    data = {"file": upload} if upload is not None else {}
    answer = client.post(reverse("claims:eligibility_response", args=[check.public_id]), data)
    assert answer.status_code == 400 and message in answer.content.decode()
    check.refresh_from_db()
    assert check.status == "requested"


def test_a_999_is_not_a_271(client, clinic, check):
    from openiop.lib.x12.tests.test_readers import DATA

    login(client, clinic.billing)
    text = (DATA / "999_accepted.x12").read_text()
    answer = client.post(reverse("claims:eligibility_response", args=[check.public_id]), {"content": text})
    assert answer.status_code == 400 and "not a 271" in answer.content.decode()


def test_dates_are_applied_only_when_asked_and_audited(client, clinic, coverage, check):
    eligibility.do_record_response(
        check, _answer(check, coverage_from=date(2026, 2, 1), coverage_to=date(2026, 12, 31)), acting_user=None
    )
    coverage.refresh_from_db()
    assert coverage.effective_from is None  # never silently
    login(client, clinic.clinician)
    assert client.post(reverse("claims:eligibility_apply", args=[check.public_id])).status_code == 403
    login(client, clinic.frontdesk)
    assert client.post(reverse("claims:eligibility_apply", args=[check.public_id])).status_code == 302
    coverage.refresh_from_db()
    assert (coverage.effective_from, coverage.effective_to) == (date(2026, 2, 1), date(2026, 12, 31))
    updated = AuditEvent.objects.filter(action=AuditAction.UPDATED, object_id=str(coverage.public_id)).get()
    assert set(updated.changed_fields) == {"effective_from", "effective_to"}
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATED, object_id=str(check.public_id), changed_fields=["dates_applied_at"]
    ).exists()


def test_a_clinician_sees_eligible_yes_or_no_only_on_the_tab(client, clinic, coverage, check):
    eligibility.do_record_response(check, _answer(check, copay="25", visits=18), acting_user=None)
    login(client, clinic.clinician)
    tab = _tab(client, coverage.patient)
    assert "Eligible as of" in tab and "copay" not in tab and "Check eligibility" not in tab
    assert reverse("claims:eligibility_detail", args=[check.public_id]) not in tab


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [
        ("billing", 200, 302),
        ("frontdesk", 200, 302),
        ("intake", 200, 302),
        ("director", 200, 302),
        ("auditor", 200, 403),
        ("clinician", 403, 403),
        ("intern", 403, 403),
        ("outsider", 403, 403),
        ("stranger", 404, 404),
    ],
)
def test_access_matrix(client, clinic, coverage, check, who, read, write):
    login(client, getattr(clinic, who))
    assert client.get(reverse("claims:eligibility_detail", args=[check.public_id])).status_code == read
    assert client.get(reverse("claims:eligibility_download", args=[check.public_id])).status_code == read
    assert client.post(reverse("claims:eligibility_request", args=[coverage.public_id])).status_code == write
    answer = client.post(reverse("claims:eligibility_response", args=[check.public_id]), {"content": "x"})
    assert answer.status_code == (400 if write == 302 else write)


def test_another_program_s_patient_is_404_for_billing_staff_of_other_programs(client, clinic, payer):
    teen = _coverage(clinic, payer, clinic.teen)
    check = eligibility.do_request_eligibility(teen, acting_user=clinic.director)
    login(client, clinic.billing)  # billing works in Adult MH and Adult SU, not the adolescent program
    assert client.get(reverse("claims:eligibility_detail", args=[check.public_id])).status_code == 404
    assert client.post(reverse("claims:eligibility_request", args=[teen.public_id])).status_code == 404


def test_the_api_asks_reads_and_records_an_answer(client, clinic, coverage):
    login(client, clinic.billing)
    made = client.post(f"/api/v1/coverages/{coverage.public_id}/eligibility")
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["status"] == "requested" and body["service_types"] == ["30", "MH", "A8"]
    check = EligibilityCheck.objects.get(public_id=body["id"])
    sent = client.get(f"/api/v1/eligibility/{check.public_id}/270").json()["content"]
    assert sent == check.request_file.content
    text = answer_270(sent, at=timezone.now(), number=6001, copay="40", visits=None)
    url = f"/api/v1/eligibility/{check.public_id}/response"
    answered = client.post(url, {"content": text}, content_type="application/json")
    assert answered.status_code == 200 and answered.json()["result"]["copay"] == "40"
    assert answered.json()["headline"].endswith("active, copay $40")
    again = client.post(url, {"content": text}, content_type="application/json")
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "content"
    assert client.get(f"/api/v1/eligibility/{check.public_id}").json()["status"] == "answered"


def test_the_api_names_the_field_that_stops_a_270_and_checks_access(client, clinic, payer):
    bare = _coverage(clinic, payer, payer=None, payer_name="Typed on Book Now", payer_kind="commercial")
    login(client, clinic.billing)
    refused = client.post(f"/api/v1/coverages/{bare.public_id}/eligibility")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "payer"
    login(client, clinic.clinician)
    assert client.post(f"/api/v1/coverages/{bare.public_id}/eligibility").status_code == 403
    login(client, clinic.stranger)
    assert client.post(f"/api/v1/coverages/{bare.public_id}/eligibility").status_code == 404


def test_a_payer_rejection_is_an_error_with_its_reason(clinic, check):
    text = _answer(check, active=False).replace("EB*6*IND*30^MH^A8~", "AAA*N**75*C~")
    eligibility.do_record_response(check, text, acting_user=clinic.billing)
    check.refresh_from_db()
    assert check.status == "error" and check.result["rejections"][0]["text"] == "Subscriber not found"
    assert "could not answer (Subscriber not found)" in eligibility.headline(check)
