"""837I/837P writers: the files pyx12 validates with 0 errors, and the shapes the claims app relies on."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from openiop.lib.x12 import (
    Address,
    ClaimTransaction,
    Person,
    ServiceLine,
    group_by_payer,
    validate,
    write_837i,
    write_837p,
)
from openiop.lib.x12._syntax import amount, quantity
from openiop.lib.x12.tests import samples as s


def segs(text: str) -> list[list[str]]:
    return [seg.split("*") for seg in text.split("~") if seg.strip()]


def only(text: str, seg_id: str) -> list[list[str]]:
    return [seg for seg in segs(text) if seg[0].strip() == seg_id]


def assert_valid(text: str) -> None:
    problems = validate(text)
    assert problems == [], "\n".join(str(p) for p in problems)


def assert_se_counts(text: str) -> None:
    """SE01 counts ST through SE; checked independently of pyx12."""
    start = 0
    for i, seg in enumerate(segs(text)):
        if seg[0] == "ST":
            start = i
        elif seg[0] == "SE":
            assert int(seg[1]) == i - start + 1


def test_amounts_have_no_trailing_zeros() -> None:
    assert amount(Decimal("150.00000")) == "150"
    assert amount(Decimal("150.50")) == "150.5"
    assert amount(Decimal("150.25")) == "150.25"
    assert amount(Decimal("0")) == "0"
    assert amount(Decimal("-12.10")) == "-12.1"
    assert amount(Decimal("99.999")) == "100"
    assert quantity(Decimal("1.000")) == "1"
    assert quantity(Decimal("2.5")) == "2.5"


def test_isa_is_fixed_width_and_control_numbers_are_the_callers() -> None:
    text = write_837i(s.interchange(ClaimTransaction("0417", (s.institutional_claim(),))))
    isa = text[: text.index("~") + 1]
    assert len(isa) == 106
    elements = isa[:-1].split("*")
    assert [len(e) for e in elements[1:]] == [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1]
    assert elements[13] == "000000042"
    assert elements[11] == "^" and elements[16] == ":"
    gs = only(text, "GS")[0]
    assert gs[6] == "7" and gs[8] == "005010X223A2"
    assert only(text, "ST")[0] == ["ST", "837", "0417", "005010X223A2"]
    assert only(text, "IEA")[0] == ["IEA", "1", "000000042"]
    assert only(text, "GE")[0] == ["GE", "1", "7"]


@pytest.mark.parametrize("bad", ["Do*e", "Do~e", "Do:e", "Do^e", "Do\ne", "Núñez", "Do\te"])
def test_text_with_a_delimiter_is_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(ValueError, match=r"Person\.last_name"):
        Person(bad, "Jordan")


def test_codes_inside_tuples_are_checked_too() -> None:
    with pytest.raises(ValueError, match=r"ServiceLine\.modifiers contains ':'"):
        ServiceLine("90853", Decimal(75), s.MONDAY, modifiers=("HQ:95",))


def test_per_diem_claim_with_30_days_of_lines_validates() -> None:
    claim = s.institutional_claim("OIOP-3000", days=30)
    text = write_837i(s.interchange(ClaimTransaction("0001", (claim,))))
    assert_valid(text)
    assert_se_counts(text)
    assert [seg[1] for seg in only(text, "LX")] == [str(n) for n in range(1, 31)]
    assert only(text, "SV2")[0] == ["SV2", "0905", "HC:S9480", "450", "DA", "1"]
    clm = only(text, "CLM")[0]
    assert clm[1:3] == ["OIOP-3000", "13500"] and clm[5] == "13:A:1"
    assert ["DTP", "434", "RD8", "20260202-20260303"] in segs(text)
    assert ["HI", "BG:92"] in segs(text)
    assert ["HI", "ABK:F331"] in segs(text) and ["HI", "ABF:F411", "ABF:F1020"] in segs(text)
    assert ["CL1", "3", "1", "30"] in segs(text)
    assert ["REF", "G1", "AUTH-5521"] in segs(text)
    assert ["NM1", "71", "1", "Rivera", "Ana", "", "", "", "XX", "1679576722"] in segs(text)


def test_secondary_claim_carries_the_primary_payers_adjudication() -> None:
    text = write_837i(s.interchange(ClaimTransaction("0001", (s.secondary_claim(),))))
    assert_valid(text)
    all_segs = segs(text)
    assert only(text, "SBR")[0][1] == "S"  # the claim goes to Acme as secondary
    assert ["SBR", "P", "18", "", "", "", "", "", "", "MA"] in all_segs
    assert ["AMT", "D", "600"] in all_segs
    assert ["NM1", "PR", "2", "Medicare Part A", "", "", "", "", "PI", "MCRA03"] in all_segs
    assert ["SVD", "MCRA03", "300", "HC:S9480", "0905", "1"] in all_segs
    assert ["CAS", "CO", "45", "100"] in all_segs and ["CAS", "PR", "2", "50"] in all_segs
    assert ["DTP", "573", "D8", "20260220"] in all_segs
    assert ["HI", "BI:74:RD8:20260202-20260203"] in all_segs


def test_replacement_and_void_carry_the_payer_claim_number() -> None:
    corrected = s.institutional_claim("OIOP-1001", frequency_code="7", original_claim_number="PAY2026000999")
    void = s.institutional_claim("OIOP-1004", frequency_code="8", original_claim_number="PAY2026000777")
    text = write_837i(s.interchange(ClaimTransaction("0001", (corrected, void))))
    assert_valid(text)
    assert [seg[5] for seg in only(text, "CLM")] == ["13:A:7", "13:A:8"]
    assert [seg[2] for seg in only(text, "REF") if seg[1] == "F8"] == ["PAY2026000999", "PAY2026000777"]


def test_replacement_without_the_original_claim_number_is_refused() -> None:
    with pytest.raises(ValueError, match="original_claim_number"):
        s.institutional_claim(frequency_code="8")
    with pytest.raises(ValueError, match="frequency_code"):
        s.institutional_claim(frequency_code="5")


def test_patient_who_is_not_the_subscriber_gets_hl_23() -> None:
    text = write_837i(s.interchange(ClaimTransaction("0001", (s.institutional_claim(), s.dependent_claim()))))
    assert_valid(text)
    hls = only(text, "HL")
    assert [hl[3] for hl in hls] == ["20", "22", "22", "23"]
    assert hls[2][4] == "1" and hls[3][2] == hls[2][1]
    assert ["PAT", "19"] in segs(text)
    assert ["NM1", "QC", "1", "Doe", "Sam"] in segs(text)
    # The subscriber of a dependent's claim: SBR02 empty and no DMG (the patient's DMG is in 2010CA).
    assert ["SBR", "P", "", "GRP777", "", "", "", "", "", "CI"] in segs(text)


def test_professional_claims_with_iop_codes_modifiers_and_supervisor_validate() -> None:
    office = s.professional_claim("OIOP-2001")
    php = s.professional_claim("OIOP-2002", subscriber=s.ACME_SUBSCRIBER, place_of_service="52")
    text = write_837p(s.interchange(ClaimTransaction("0001", (office, php))))
    assert_valid(text)
    all_segs = segs(text)
    assert [seg[5] for seg in only(text, "CLM")] == ["11:B:1", "52:B:1"]
    codes = [seg[1] for seg in only(text, "SV1")][:5]
    assert codes == ["HC:90791:HO", "HC:90853:HQ", "HC:90837:95", "HC:90834:HN", "HC:90847:HO"]
    assert ["SV1", "HC:90853:HQ", "75.5", "UN", "1", "", "", "1:2"] in all_segs
    assert ["SV1", "HC:90837:95", "180", "UN", "1", "10", "", "1"] in all_segs  # line POS differs: telehealth
    assert ["NM1", "DQ", "1", "Lindqvist", "Carla", "", "", "", "XX", "1093817645"] in all_segs
    assert ["PRV", "PE", "PXC", "101YM0800X"] in all_segs
    assert ["HI", "ABK:F331", "ABF:F411"] in all_segs
    assert only(text, "GS")[0][8] == "005010X222A1"


def test_several_payers_one_transaction_set_each_in_one_group() -> None:
    claims = [s.professional_claim("P-1"), s.professional_claim("P-2", subscriber=s.ACME_SUBSCRIBER)]
    claims.append(s.professional_claim("P-3"))
    transactions = tuple(
        ClaimTransaction(f"{n:04d}", batch) for n, (_, batch) in enumerate(group_by_payer(claims), start=1)
    )
    text = write_837p(s.interchange(*transactions))
    assert_valid(text)
    assert_se_counts(text)
    assert len(only(text, "GS")) == 1 and only(text, "GE")[0][1] == "2"
    assert [seg[2] for seg in only(text, "ST")] == ["0001", "0002"]
    payers = [seg[9] for seg in only(text, "NM1") if seg[1] == "PR"]
    assert payers == ["BLUE02", "ACME01"]
    assert [seg[1] for seg in only(text, "CLM")] == ["P-1", "P-3", "P-2"]


def test_more_than_100_claims_for_one_subscriber_repeat_the_hl() -> None:
    claims = tuple(s.institutional_claim(f"C{i}", days=1) for i in range(101))
    text = write_837i(s.interchange(ClaimTransaction("0001", claims)))
    assert_valid(text)
    assert [hl[3] for hl in only(text, "HL")] == ["20", "22", "22"]


def test_missing_institutional_fields_and_pos_are_refused() -> None:
    claim = s.institutional_claim(patient_status="")
    with pytest.raises(ValueError, match="patient_status"):
        write_837i(s.interchange(ClaimTransaction("0001", (claim,))))
    with pytest.raises(ValueError, match="place_of_service"):
        write_837p(s.interchange(ClaimTransaction("0001", (s.professional_claim(place_of_service=""),))))
    pointing = (ServiceLine("90853", Decimal(75), s.MONDAY, diagnosis_pointers=(1, 3)),)
    with pytest.raises(ValueError, match="diagnosis_pointers"):
        write_837p(s.interchange(ClaimTransaction("0001", (s.professional_claim(lines=pointing),))))
    too_many = tuple(ServiceLine("90853", Decimal(75), s.MONDAY) for _ in range(51))
    with pytest.raises(ValueError, match="50 lines"):
        write_837p(s.interchange(ClaimTransaction("0001", (s.professional_claim(lines=too_many),))))


def test_total_charge_is_the_sum_of_the_lines() -> None:
    claim = s.professional_claim()
    assert claim.total_charge == Decimal("755.5")
    text = write_837p(s.interchange(ClaimTransaction("0001", (claim,))))
    assert only(text, "CLM")[0][2] == "755.5"


def test_newlines_option_keeps_the_file_valid() -> None:
    text = write_837p(s.interchange(ClaimTransaction("0001", (s.professional_claim(),))), newlines=True)
    assert "~\nST*837" in text
    assert_valid(text)


def test_dependent_without_birth_date_is_refused() -> None:
    claim = s.dependent_claim()
    assert claim.patient is not None
    claim = replace(claim, patient=replace(claim.patient, person=replace(claim.patient.person, birth_date=None)))
    with pytest.raises(ValueError, match="birth_date") as refused:
        write_837i(s.interchange(ClaimTransaction("0001", (claim,))))
    assert "OIOP-1003" in str(refused.value) and "Sam" not in str(refused.value)


def test_patient_address_and_billing_zip_plus_4_are_required() -> None:
    no_address = replace(s.ACME_SUBSCRIBER, person=replace(s.SUBSCRIBER, address=None))
    with pytest.raises(ValueError, match="address of the patient"):
        write_837p(s.interchange(ClaimTransaction("0001", (s.professional_claim(subscriber=no_address),))))
    short_zip = replace(s.BILLING, address=replace(s.CLINIC_ADDRESS, postal_code="62701"))
    with pytest.raises(ValueError, match="ZIP"):
        write_837i(s.interchange(ClaimTransaction("0001", (s.institutional_claim(billing_provider=short_zip),))))


def test_professional_secondary_claim_with_line_and_claim_level_cob_validates() -> None:
    text = write_837p(s.interchange(ClaimTransaction("0001", (s.professional_secondary_claim(),))))
    assert_valid(text)
    all_segs = segs(text)
    assert ["SBR", "P", "01", "GRP777", "", "", "", "", "", "CI"] in all_segs
    assert ["CAS", "CO", "45", "255.5"] in all_segs and ["AMT", "D", "400"] in all_segs
    assert ["SVD", "ACME01", "150", "HC:90791:HO", "", "1"] in all_segs
    assert len(only(text, "SVD")) == 1  # only line 1 was adjudicated line by line


def test_claim_level_adjudication_date_goes_in_2330b() -> None:
    claim = s.professional_secondary_claim()
    (coverage,) = claim.other_coverages
    coverage = replace(coverage, line_adjudications=(), adjudication_date=s.MONDAY)
    text = write_837p(s.interchange(ClaimTransaction("0001", (replace(claim, other_coverages=(coverage,)),))))
    assert_valid(text)
    assert ["DTP", "573", "D8", "20260202"] in segs(text) and not only(text, "SVD")


def test_pay_to_address_and_reason_for_visit() -> None:
    billing = replace(s.BILLING, pay_to=Address("PO Box 55", "Springfield", "IL", "627050055"))
    claim = s.institutional_claim(billing_provider=billing, reason_for_visit=("F33.1",))
    text = write_837i(s.interchange(ClaimTransaction("0001", (claim,))))
    assert_valid(text)
    all_segs = segs(text)
    i = all_segs.index(["NM1", "87", "2"])
    assert all_segs[i + 1] == ["N3", "PO Box 55"] and all_segs[i - 1][:2] == ["REF", "EI"]
    assert ["HI", "APR:F331"] in all_segs


def test_medicare_secondary_insurance_type_is_sbr05_in_837p_only() -> None:
    subscriber = replace(s.ACME_SUBSCRIBER, insurance_type="12")
    p = write_837p(s.interchange(ClaimTransaction("0001", (s.professional_claim(subscriber=subscriber),))))
    i = write_837i(s.interchange(ClaimTransaction("0001", (s.institutional_claim(subscriber=subscriber),))))
    assert only(p, "SBR")[0][5] == "12"
    assert only(i, "SBR")[0][5] == ""
    assert_valid(p)
    assert_valid(i)


def test_two_billing_providers_in_one_transaction_set() -> None:
    annex = replace(s.BILLING, name="Harbor Annex Clinic", npi="1497758544")
    claims = (s.professional_claim("P-1"), s.professional_claim("P-2", billing_provider=annex))
    text = write_837p(s.interchange(ClaimTransaction("0001", claims)))
    assert_valid(text)
    hls = only(text, "HL")
    assert [hl[3] for hl in hls] == ["20", "22", "20", "22"]
    assert hls[3][2] == hls[2][1] == "3"


def test_a_line_rendered_by_another_clinician_names_them_in_its_own_loop() -> None:
    """837P 2420A/2420D and 837I 2420C: a per-service line led by someone other than the claim's clinician."""
    other = replace(s.THERAPIST, last_name="Mensah", first_name="Ada", npi="1093817645")
    base = s.professional_claim("OIOP-2003")
    lines = (
        replace(base.lines[0], rendering=other, supervising=s.SUPERVISOR),  # supervisor as on the claim: not repeated
        replace(base.lines[1], rendering=s.THERAPIST),  # the claim's own renderer: not repeated
        *base.lines[2:],
    )
    text = write_837p(s.interchange(ClaimTransaction("0001", (replace(base, lines=lines),))))
    assert_valid(text)
    renderers = [seg for seg in only(text, "NM1") if seg[1] == "82"]
    assert [seg[3] for seg in renderers] == ["Okafor", "Mensah"]  # 2310B, then one 2420A
    assert len([seg for seg in only(text, "NM1") if seg[1] == "DQ"]) == 1  # 2310D only

    inst = s.institutional_claim("OIOP-1003", days=2)
    inst = replace(inst, lines=(replace(inst.lines[0], rendering=other), inst.lines[1]))
    text = write_837i(s.interchange(ClaimTransaction("0001", (inst,))))
    assert_valid(text)
    assert [seg[3] for seg in only(text, "NM1") if seg[1] == "82"] == ["Mensah"]
