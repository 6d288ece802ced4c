"""The medication list as FHIR R4 MedicationStatements, one per medication, in a collection Bundle (pure: plain,
JSON-ready dicts; tests validate them with ``fhir.resources``, R4B models, which match R4 for these resources).

- ``status``: ``active`` while taken on the day asked about (or not yet started), ``completed`` once stopped.
- The medication: a formulary item with one ingredient is a ``medicationCodeableConcept`` coded in RxNorm
  (the ingredient's RxCUI); one with several ingredients (buprenorphine/naloxone) points at a contained Medication
  whose ingredients are each coded, since the codings of one CodeableConcept must name the same concept; a free
  entry is text only, never a guessed code.
- ``effectivePeriod`` from the start and stop dates when known; ``dosage`` as text with the route; ``reasonCode``
  and, once stopped, ``statusReason`` as text.
- ``informationSource``: the patient for a self-report, else the named prescriber or the kind of source.
- A medication recorded in a substance-use program's episode carries the 42 CFR Part 2 security label.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from openiop.medications.models import Medication

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
IDENTIFIER_SYSTEM = "https://openiop.org/fhir/medication-statement"
PART2_LABEL = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2"}


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _codings(medication: Medication) -> list[dict[str, str]]:
    return [
        {"system": RXNORM, "code": rxcui, "display": name}
        for rxcui, name in zip(medication.rxcuis or [], medication.ingredients or [], strict=False)
    ]


def _medication(medication: Medication, resource: dict[str, Any]) -> None:
    codings = _codings(medication)
    if len(codings) > 1:
        resource["contained"] = [
            {
                "resourceType": "Medication",
                "id": "med",
                "code": {"text": medication.name},
                **({"form": {"text": medication.form}} if medication.form else {}),
                "ingredient": [{"itemCodeableConcept": {"coding": [c], "text": c["display"]}} for c in codings],
            }
        ]
        resource["medicationReference"] = {"reference": "#med", "display": medication.name}
    else:
        resource["medicationCodeableConcept"] = {**({"coding": codings} if codings else {}), "text": medication.name}


def _source(medication: Medication, patient_ref: str) -> dict[str, str]:
    if medication.source == Medication.Source.SELF_REPORT:
        return {"reference": patient_ref, "display": "Patient (self-report)"}
    if medication.source == Medication.Source.EXTERNAL_PRESCRIBER and medication.prescriber:
        return {"display": medication.prescriber}
    return {"display": medication.get_source_display()}


def medication_statement(medication: Medication, *, on: date) -> dict[str, Any]:
    """One medication as a MedicationStatement, its status as of ``on``."""
    patient_ref = f"Patient/{medication.patient.public_id}"
    stopped = medication.stop_date is not None and medication.stop_date < on
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": str(medication.public_id),
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": str(medication.public_id)}],
        "status": "completed" if stopped else "active",
    }
    _medication(medication, resource)
    resource["subject"] = {"reference": patient_ref}
    period = {
        key: value.isoformat()
        for key, value in (("start", medication.start_date), ("end", medication.stop_date))
        if value is not None
    }
    if period:
        resource["effectivePeriod"] = period
    resource["dateAsserted"] = _instant(medication.created_at)
    resource["informationSource"] = _source(medication, patient_ref)
    if stopped and medication.stop_reason:
        resource["statusReason"] = [{"text": medication.stop_reason}]
    if medication.reason:
        resource["reasonCode"] = [{"text": medication.reason}]
    dosage_text = " ".join(filter(None, (medication.strength, medication.dose, medication.frequency)))
    dosage: dict[str, Any] = {"text": dosage_text} if dosage_text else {}
    if medication.route:
        dosage["route"] = {"text": medication.route}
    if dosage:
        resource["dosage"] = [dosage]
    episode = medication.episode
    if episode is not None and episode.program.is_substance_use:
        resource["meta"] = {"security": [dict(PART2_LABEL)]}
    return resource


def medication_bundle(medications: list[Medication], *, on: date) -> dict[str, Any]:
    """The medications as a collection Bundle (each entry named by its urn:uuid)."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:uuid:{m.public_id}", "resource": medication_statement(m, on=on)} for m in medications
        ],
    }
