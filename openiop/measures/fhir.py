"""FHIR R4 shapes of the instruments: Questionnaire, QuestionnaireResponse, Observation per total, Flag for risk.

Pure functions returning plain dicts (JSON-ready). Tests validate every one with ``fhir.resources`` (its R4B models:
the installed release ships R4B and R5, and these four resources are the same in R4 and R4B).

Codes: LOINC where docs/clinical-rules.md#loinc-codes (or a code seen across several FHIR implementations) gives one;
otherwise the item, answer or score is coded in OpenIOP's own code systems under ``BASE``, so every coding has a
system. Skip logic (``ShownIf``) becomes ``enableWhen``. Totals follow docs/clinical-rules.md#loinc-codes: one
Observation per total, category ``survey``, ``derivedFrom`` the QuestionnaireResponse, the band as
``interpretation``; subscores ride as components (the BAM, with no total, gets one Observation per subscore).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from openiop.measures.instruments import Instrument, Item, Option, Score, score_is_critical
from openiop.measures.instruments.base import ShownIf

BASE = "https://openiop.org/fhir"
LOINC = "http://loinc.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
FLAG_DETAIL = "http://hl7.org/fhir/StructureDefinition/flag-detail"
ITEM_SYSTEM = f"{BASE}/CodeSystem/instrument-item"
SCORE_SYSTEM = f"{BASE}/CodeSystem/instrument-score"
BAND_SYSTEM = f"{BASE}/CodeSystem/instrument-band"
FLAG_SYSTEM = f"{BASE}/CodeSystem/clinical-flag"

QR_STATUSES = frozenset({"in-progress", "completed", "amended", "entered-in-error", "stopped"})

SUBSCORE_NAMES = {
    "phq2": "PHQ-2 (items 1-2)",
    "gad2": "GAD-2 (items 1-2)",
    "auditc": "AUDIT-C (items 1-3)",
    "B": "Cluster B: intrusion (items 1-5)",
    "C": "Cluster C: avoidance (items 6-7)",
    "D": "Cluster D: negative alterations in cognition and mood (items 8-14)",
    "E": "Cluster E: arousal and reactivity (items 15-20)",
    "use": "Use (items 4, 5, 6)",
    "risk": "Risk (items 1, 2, 3, 8, 11, 15)",
    "protective": "Protective (items 9, 10, 12, 13, 14, 16)",
}


def canonical(instrument: Instrument) -> str:
    return f"{BASE}/Questionnaire/{instrument.code}"


def answer_system(instrument: Instrument) -> str:
    return f"{BASE}/CodeSystem/{instrument.code}-answer"


def option_coding(instrument: Instrument, option: Option) -> dict[str, str]:
    if option.loinc_answer:
        return {"system": LOINC, "code": option.loinc_answer, "display": option.label}
    return {"system": answer_system(instrument), "code": str(option.value), "display": option.label}


def _computer_name(instrument: Instrument) -> str:
    # Questionnaire.name must look like a programming identifier (invariant que-0).
    name = re.sub(r"[^A-Za-z0-9]", "", instrument.short_name.title())
    return name if name[:1].isalpha() else f"Q{name}"


def _when(instrument: Instrument, shown: ShownIf) -> dict[str, Any]:
    conditions = []
    for condition in shown.conditions:
        gate = instrument.item(condition.item)
        entry: dict[str, Any] = {"question": gate.code, "operator": condition.op}
        if gate.input == "integer":
            entry["answerInteger"] = condition.value
        else:
            entry["answerCoding"] = option_coding(instrument, gate.option(condition.value))
        conditions.append(entry)
    out: dict[str, Any] = {"enableWhen": conditions}
    if len(conditions) > 1:
        out["enableBehavior"] = shown.behavior
    return out


def _item_code(item: Item) -> list[dict[str, str]]:
    if item.loinc:
        return [{"system": LOINC, "code": item.loinc, "display": item.text}]
    return [{"system": ITEM_SYSTEM, "code": item.code, "display": item.text}]


def _questionnaire_item(instrument: Instrument, item: Item) -> dict[str, Any]:
    text = f"{item.stem} {item.text}" if item.stem else item.text
    entry: dict[str, Any] = {
        "linkId": item.code,
        "code": _item_code(item),
        "prefix": item.display_number,
        "text": text,
        "required": item.scored,
    }
    if item.input == "integer":
        values = [o.value for o in item.options]
        entry["type"] = "integer"
        entry["extension"] = [
            {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": min(values)},
            {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": max(values)},
        ]
    else:
        entry["type"] = "choice"
        entry["answerOption"] = [
            {
                "valueCoding": option_coding(instrument, option),
                "extension": [{"url": ORDINAL_VALUE, "valueDecimal": option.value}],
            }
            for option in item.options
        ]
    if isinstance(item.shown_if, ShownIf):
        entry.update(_when(instrument, item.shown_if))
    if item.help:
        entry["item"] = [{"linkId": f"{item.code}_help", "type": "display", "text": item.help}]
    return entry


def questionnaire(instrument: Instrument) -> dict[str, Any]:
    """The instrument as a FHIR Questionnaire, items in order with their codes, options and skip logic."""
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": instrument.code.replace("_", "-"),
        "url": canonical(instrument),
        "name": _computer_name(instrument),
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
        "description": " ".join(p for p in (instrument.lookback, instrument.instructions) if p),
        "copyright": instrument.notice or instrument.licence,
        "item": [_questionnaire_item(instrument, item) for item in instrument.items],
    }
    if instrument.loinc_panel:
        resource["code"] = [{"system": LOINC, "code": instrument.loinc_panel, "display": instrument.name}]
    return resource


def _instant(value: datetime | date) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("FHIR dateTimes with a time need a time zone; pass an aware datetime.")
        return value.isoformat()
    return value.isoformat()


def questionnaire_response(
    instrument: Instrument,
    answers: Mapping[str, int | None],
    *,
    patient_ref: str,
    authored: datetime | date,
    status: str = "completed",
    resource_id: str | None = None,
) -> dict[str, Any]:
    """The patient's answers to the items that were asked (skipped items and blanks are left out)."""
    if status not in QR_STATUSES:
        raise ValueError(f"status must be one of {sorted(QR_STATUSES)}, not {status!r}.")
    items = []
    asked = instrument.asked_answers(answers)
    for item in instrument.visible_items(answers):
        if item.code not in asked:
            continue
        value = asked[item.code]
        answer: dict[str, Any]
        if item.input == "integer":
            answer = {"valueInteger": value}
        else:
            answer = {"valueCoding": option_coding(instrument, item.option(value))}
        items.append({"linkId": item.code, "text": item.text, "answer": [answer]})
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": canonical(instrument),
        "status": status,
        "subject": {"reference": patient_ref},
        "authored": _instant(authored),
        "item": items,
    }
    if resource_id:
        resource["id"] = resource_id
    return resource


def _score_code(instrument: Instrument, key: str, display: str, loinc: str = "") -> dict[str, Any]:
    coding = [{"system": SCORE_SYSTEM, "code": f"{instrument.code}.{key}", "display": display}]
    if loinc:
        coding.insert(0, {"system": LOINC, "code": loinc, "display": display})
    return {"coding": coding, "text": display}


def _observation(
    instrument: Instrument,
    *,
    code: dict[str, Any],
    value: int,
    patient_ref: str,
    effective: datetime | date,
    qr_ref: str | None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}],
        "code": code,
        "subject": {"reference": patient_ref},
        "effectiveDateTime": _instant(effective),
        "valueInteger": value,
    }
    if qr_ref:
        resource["derivedFrom"] = [{"reference": qr_ref}]
    return resource


def observations(
    instrument: Instrument,
    score: Score,
    *,
    patient_ref: str,
    effective: datetime | date,
    qr_ref: str | None = None,
) -> list[dict[str, Any]]:
    """One Observation per total (none when there is no total), with its band and subscores."""
    if not instrument.has_total:
        return [
            _observation(
                instrument,
                code=_score_code(instrument, name, f"{instrument.short_name} {SUBSCORE_NAMES.get(name, name)}"),
                value=value,
                patient_ref=patient_ref,
                effective=effective,
                qr_ref=qr_ref,
            )
            for name, value in score.subscores.items()
            if value is not None
        ]
    if score.total is None:
        return []
    resource = _observation(
        instrument,
        code=_score_code(instrument, "total", f"{instrument.short_name} total score", instrument.loinc_total),
        value=score.total,
        patient_ref=patient_ref,
        effective=effective,
        qr_ref=qr_ref,
    )
    if score.band is not None:
        resource["interpretation"] = [
            {
                "coding": [
                    {"system": BAND_SYSTEM, "code": f"{instrument.code}.{score.band.key}", "display": score.band.label}
                ],
                "text": score.band.label,
            }
        ]
    components = [
        {
            "code": _score_code(instrument, name, f"{instrument.short_name} {SUBSCORE_NAMES.get(name, name)}"),
            "valueInteger": value,
        }
        for name, value in score.subscores.items()
        if value is not None
    ]
    if components:
        resource["component"] = components
    notes = []
    if score.prorated:
        notes.append(f"Prorated: {len(score.missing)} item(s) unanswered ({', '.join(score.missing)}).")
    notes.extend(f"Flag: {flag}." for flag in score.flags)
    if notes:
        resource["note"] = [{"text": " ".join(notes)}]
    return [resource]


def risk_flag(
    instrument: Instrument,
    score: Score,
    *,
    patient_ref: str,
    start: datetime | date,
    detail_ref: str | None = None,
    author_ref: str | None = None,
) -> dict[str, Any] | None:
    """A FHIR Flag for a critical answer (PHQ-9 item 9 above 0, C-SSRS moderate or high risk), else None."""
    if not score_is_critical(score):
        return None
    reasons = [f"{instrument.short_name} item {instrument.item(code).display_number}" for code in score.critical_items]
    if score.risk:
        reasons.insert(0, f"{instrument.short_name} {score.risk} risk")
    text = "Suicide risk: " + "; ".join(reasons)
    resource: dict[str, Any] = {
        "resourceType": "Flag",
        "status": "active",
        "category": [{"coding": [{"system": FLAG_CATEGORY, "code": "clinical", "display": "Clinical"}]}],
        "code": {
            "coding": [{"system": FLAG_SYSTEM, "code": "suicide-risk", "display": "Suicide risk"}],
            "text": text,
        },
        "subject": {"reference": patient_ref},
        "period": {"start": _instant(start)},
    }
    if detail_ref:
        resource["extension"] = [{"url": FLAG_DETAIL, "valueReference": {"reference": detail_ref}}]
    if author_ref:
        resource["author"] = {"reference": author_ref}
    return resource
