"""MedicationStatement shapes validate with fhir.resources (R4B models) and say the right thing: RxNorm codes only
when coded, a contained Medication for several ingredients, status by the stop date, the source, the Part 2 label."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone
from fhir.resources.R4B.medicationstatement import MedicationStatement

from openiop.medications import fhir
from openiop.medications.actions import do_stop_medication
from openiop.testing.medications import add_medication
from openiop.testing.scheduling import admit


def _statement(medication, on=None):
    resource = fhir.medication_statement(medication, on=on or timezone.localdate())
    MedicationStatement.model_validate(resource)
    return resource


def test_a_single_ingredient_is_coded_in_rxnorm_and_self_report_points_at_the_patient(clinic):
    episode = admit(clinic, "Avery")
    med = add_medication(episode, clinic.clinician, "sertraline", strength="50 mg", dose="1 tablet",
                         frequency="daily", reason="Depression", start_date=date(2026, 1, 5))  # fmt: skip
    resource = _statement(med)
    assert resource["status"] == "active"
    assert resource["medicationCodeableConcept"] == {
        "coding": [{"system": fhir.RXNORM, "code": "36437", "display": "sertraline"}], "text": "Sertraline"
    }  # fmt: skip
    assert resource["effectivePeriod"] == {"start": "2026-01-05"}
    assert resource["dosage"] == [{"text": "50 mg 1 tablet daily", "route": {"text": "oral"}}]
    assert resource["informationSource"]["reference"] == f"Patient/{episode.patient.public_id}"
    assert resource["reasonCode"] == [{"text": "Depression"}] and "meta" not in resource  # not a Part 2 program


def test_a_combination_is_a_contained_medication_and_part2_is_labelled(clinic):
    episode = admit(clinic, "Casey", program=clinic.su)
    med = add_medication(episode, clinic.director, "buprenorphine-naloxone-film", source="external_prescriber",
                         prescriber="Dr. Ana Ortiz")  # fmt: skip
    resource = _statement(med)
    contained = resource["contained"][0]
    assert resource["medicationReference"]["reference"] == "#med" and contained["resourceType"] == "Medication"
    assert [i["itemCodeableConcept"]["coding"][0]["code"] for i in contained["ingredient"]] == ["1819", "7242"]
    assert resource["informationSource"] == {"display": "Dr. Ana Ortiz"}
    assert resource["meta"]["security"][0]["code"] == "42CFRPart2"


def test_a_free_entry_is_text_only_and_a_stopped_one_is_completed_with_its_reason(clinic):
    episode = admit(clinic, "Drew")
    med = add_medication(episode, clinic.clinician, name="Melatonin", source="pharmacy",
                         start_date=timezone.localdate() - timedelta(days=10))  # fmt: skip
    assert _statement(med)["medicationCodeableConcept"] == {"text": "Melatonin"}
    stopped_on = timezone.localdate() - timedelta(days=2)
    do_stop_medication(med, acting_user=clinic.clinician, stop_date=stopped_on, stop_reason="Not helping")
    med.refresh_from_db()
    resource = _statement(med)
    assert resource["status"] == "completed" and resource["statusReason"] == [{"text": "Not helping"}]
    assert resource["effectivePeriod"]["end"] == stopped_on.isoformat()
    assert resource["informationSource"] == {"display": "Pharmacy record"}
    # Asked about the day it stopped, it was still taken that day.
    assert _statement(med, on=stopped_on)["status"] == "active"
