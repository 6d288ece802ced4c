"""Lab results in: the sample HL7 v2 ORU^R01 message and CSV file post their results against the collected
specimen; a malformed message is refused with the segment and field named and nothing saved; the same message twice
is refused; a specimen or MRN that does not match posts nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from openiop.labs.imports import DuplicateImport, do_import, parse_hl7
from openiop.labs.models import LabImport, Result, TestOrder
from openiop.labs.tests.support import collected, su_episode, take
from openiop.patients.models import Patient
from openiop.worklist.models import WorkTask

DATA = Path(__file__).parent / "data"


def _sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.fixture
def specimen(clinic) -> TestOrder:
    """The collected cup the sample files report on: specimen SPC-26-0001 of MRN RR-900001, on buprenorphine."""
    episode = su_episode(clinic)
    Patient.objects.filter(pk=episode.patient_id).update(mrn="RR-900001")
    take(episode, "buprenorphine-naloxone-film")
    return collected(episode, "SPC-26-0001", kind="lab")


def _errors(caught) -> dict[str, list[str]]:
    return caught.value.message_dict


def test_the_sample_oru_posts_every_result_and_raises_the_review(clinic, specimen):
    row = do_import(_sample("oru_r01_results.hl7"), fmt="hl7", organization=clinic.org, acting_user=clinic.director)
    assert (row.control_id, row.result_count, row.format) == ("RL-20261203-0001", 4, "hl7")
    assert row.sending_facility == "RIVERSIDE LAB"
    got = {r.analyte: (r.outcome, r.interpretation, r.value, r.cutoff) for r in Result.objects.filter(lab_import=row)}
    assert got["BUP"][:2] == ("positive", "expected")
    assert (
        got["FTY"][:2] == ("positive", "unexpected") and str(got["FTY"][2]) == "4.200" and str(got["FTY"][3]) == "1.000"
    )
    assert got["COC"][:2] == got["ETG"][:2] == ("negative", "expected")
    specimen.refresh_from_db()
    assert specimen.status == TestOrder.Status.RESULTED
    assert WorkTask.objects.get(patient=specimen.patient).kind == WorkTask.Kind.DRUG_TEST_REVIEW


def test_the_same_message_twice_is_refused_and_nothing_is_posted_twice(clinic, specimen):
    content = _sample("oru_r01_results.hl7")
    do_import(content, fmt="hl7", organization=clinic.org, acting_user=clinic.director)
    with pytest.raises(DuplicateImport) as caught:
        do_import(content, fmt="hl7", organization=clinic.org, acting_user=clinic.director)
    assert "MSH-10" in _errors(caught)
    # The same results under a new control id: each analyte already has its result, so nothing is posted again.
    renamed = content.replace(b"RL-20261203-0001", b"RL-20261203-0009")
    with pytest.raises(ValidationError) as again:
        do_import(renamed, fmt="hl7", organization=clinic.org, acting_user=clinic.director)
    assert "OBX[1]-3" in _errors(again)
    assert Result.objects.count() == 4 and LabImport.objects.count() == 1


def test_the_same_file_twice_is_refused_by_its_content(clinic, specimen):
    content = _sample("results.csv")
    do_import(content, fmt="csv", organization=clinic.org, acting_user=clinic.director)
    with pytest.raises(DuplicateImport) as caught:
        do_import(content, fmt="csv", organization=clinic.org, acting_user=clinic.director)
    assert "file" in _errors(caught)
    assert Result.objects.count() == 3


def test_a_malformed_message_names_each_segment_and_field_and_saves_nothing(clinic, specimen):
    with pytest.raises(ValidationError) as caught:
        do_import(_sample("oru_r01_malformed.hl7"), fmt="hl7", organization=clinic.org, acting_user=clinic.director)
    assert set(_errors(caught)) == {"OBX[2]-3", "OBX[3]-5"}
    assert not Result.objects.exists() and not LabImport.objects.exists()


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda m: m.replace(b"ORU^R01^ORU_R01", b"ADT^A01"), "MSH-9"),
        (lambda m: m.replace(b"|RL-20261203-0001|", b"||"), "MSH-10"),
        (lambda m: m.replace(b"||F\r", b"||P\r", 1), "OBX[1]-11"),
        (lambda m: m.replace(b"RR-900001^^^", b"^^^"), "PID-3"),
        (lambda m: m.replace(b"4.2|ng/mL", b"lots|ng/mL"), "OBX[2]-5"),
        (lambda m: b"PID|1||X\rOBX|1", "MSH"),
        (lambda m: b"\xff\xfe", "file"),
    ],
)
def test_each_kind_of_malformed_message_names_its_field(mutate, field):
    with pytest.raises(ValidationError) as caught:
        parse_hl7(mutate(_sample("oru_r01_results.hl7")))
    assert field in _errors(caught)


def test_a_result_for_an_unknown_specimen_or_another_patient_posts_nothing(clinic, specimen):
    other = _sample("oru_r01_results.hl7").replace(b"RR-900001", b"RR-900002")
    with pytest.raises(ValidationError) as caught:
        do_import(other, fmt="hl7", organization=clinic.org, acting_user=clinic.director)
    assert "OBX[1] PID-3" in _errors(caught)
    unknown = _sample("oru_r01_results.hl7").replace(b"SPC-26-0001", b"SPC-26-0404")
    with pytest.raises(ValidationError) as caught:
        do_import(unknown, fmt="hl7", organization=clinic.org, acting_user=clinic.director)
    assert "OBX[1] OBR-3" in _errors(caught)
    # Another organization's import never reaches this clinic's specimen.
    assert clinic.other_org is not None
    with pytest.raises(ValidationError):
        do_import(_sample("oru_r01_results.hl7"), fmt="hl7", organization=clinic.other_org, acting_user=clinic.stranger)
    assert not Result.objects.exists() and not LabImport.objects.exists()


def test_a_result_not_on_the_orders_panel_posts_none_of_the_message(clinic, specimen):
    TestOrder.objects.filter(pk=specimen.pk).update(analytes=["BUP", "COC", "ETG"])
    with pytest.raises(ValidationError) as caught:
        do_import(_sample("oru_r01_results.hl7"), fmt="hl7", organization=clinic.org, acting_user=clinic.director)
    assert "OBX[2]-3" in _errors(caught)
    assert not Result.objects.exists() and not LabImport.objects.exists()


def test_the_sample_csv_posts_its_rows(clinic, specimen):
    row = do_import(_sample("results.csv"), fmt="csv", organization=clinic.org, acting_user=clinic.director)
    got = {r.analyte: (r.outcome, r.interpretation) for r in row.results.all()}
    assert got == {"BUP": ("positive", "expected"), "MTD": ("negative", "expected"), "THC": ("positive", "unexpected")}


def test_a_bad_csv_names_row_and_column(clinic, specimen):
    with pytest.raises(ValidationError) as caught:
        do_import(b"specimen_id,analyte\nX,BUP\n", fmt="csv", organization=clinic.org, acting_user=clinic.director)
    assert "header" in _errors(caught)
    bad = b"specimen_id,mrn,analyte,result,value\nSPC-26-0001,RR-900001,BUP,positive,\n,RR-900001,XYZ,so-so,\n"
    with pytest.raises(ValidationError) as caught:
        do_import(bad, fmt="csv", organization=clinic.org, acting_user=clinic.director)
    assert set(_errors(caught)) == {"row 3.specimen_id", "row 3.analyte", "row 3.result"}
    value = b"specimen_id,mrn,analyte,result,value\nSPC-26-0001,RR-900001,BUP,positive,lots\n"
    with pytest.raises(ValidationError) as caught:
        do_import(value, fmt="csv", organization=clinic.org, acting_user=clinic.director)
    assert set(_errors(caught)) == {"row 2.value"}
    assert not Result.objects.exists()
