"""The FHIR shapes validate with fhir.resources (R4B models) for every shipped instrument, and say the right thing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from openiop.measures import fhir, instruments
from openiop.measures.instruments import Instrument

AUTHORED = datetime(2025, 3, 3, 15, 30, tzinfo=UTC)
PATIENT = "Patient/6f1c1e0a-8d0e-4f51-9d39-3b0c3f0c2a11"
QR_REF = "QuestionnaireResponse/qr-1"

ALL = sorted(instruments.REGISTRY)


def filled(instrument: Instrument, pick) -> dict[str, int | None]:
    """Answer every item the form would ask, choosing with ``pick`` (min or max), following the skip logic."""
    answers: dict[str, int | None] = {}
    while True:
        before = dict(answers)
        for item in instrument.visible_items(answers):
            answers.setdefault(item.code, pick(o.value for o in item.options))
        if answers == before:
            return answers


@pytest.mark.parametrize("code", ALL)
def test_questionnaire_validates_and_mirrors_the_registry(code):
    instrument = instruments.get(code)
    resource = fhir.questionnaire(instrument)
    parsed = Questionnaire.model_validate(resource)
    assert parsed.status == "active" and parsed.url == fhir.canonical(instrument)
    assert resource["name"][0].isalpha() and resource["name"].isalnum()
    link_ids = [item["linkId"] for item in resource["item"]]
    assert link_ids == list(instrument.item_codes)
    for position, item in enumerate(resource["item"]):
        # Skip logic points back at earlier questions only.
        for condition in item.get("enableWhen", []):
            assert link_ids.index(condition["question"]) < position
            assert condition["operator"] in {"=", "!=", ">"}
        source = instrument.item(item["linkId"])
        if item["type"] == "choice":
            ordinals = [o["extension"][0]["valueDecimal"] for o in item["answerOption"]]
            assert ordinals == [o.value for o in source.options]
        if source.loinc:
            assert item["code"][0] == {"system": fhir.LOINC, "code": source.loinc, "display": source.text}
    if instrument.loinc_panel:
        assert resource["code"][0]["code"] == instrument.loinc_panel
    assert resource["copyright"] == (instrument.notice or instrument.licence)


def test_questionnaire_skip_logic_examples():
    cssrs = fhir.questionnaire(instruments.get("cssrs_screener"))
    q3 = next(i for i in cssrs["item"] if i["linkId"] == "cssrs_screener_3")
    assert q3["enableWhen"] == [
        {
            "question": "cssrs_screener_2",
            "operator": "=",
            "answerCoding": {"system": fhir.LOINC, "code": "LA33-6", "display": "Yes"},
        }
    ]
    bam = fhir.questionnaire(instruments.get("bam"))
    q5 = next(i for i in bam["item"] if i["linkId"] == "bam_5")
    assert q5["type"] == "integer"
    assert q5["enableWhen"] == [{"question": "bam_4", "operator": ">", "answerInteger": 0}]
    audit = fhir.questionnaire(instruments.get("audit"))
    q4 = next(i for i in audit["item"] if i["linkId"] == "audit_4")
    assert q4["enableBehavior"] == "any" and len(q4["enableWhen"]) == 2
    phq9 = fhir.questionnaire(instruments.get("phq9"))
    assert phq9["item"][9]["required"] is False  # the difficulty question is not scored


@pytest.mark.parametrize("code", ALL)
@pytest.mark.parametrize("pick", [min, max], ids=["min", "max"])
def test_response_and_observations_validate(code, pick):
    instrument = instruments.get(code)
    answers = filled(instrument, pick)
    qr = fhir.questionnaire_response(instrument, answers, patient_ref=PATIENT, authored=AUTHORED, resource_id="qr-1")
    QuestionnaireResponse.model_validate(qr)
    assert qr["questionnaire"] == fhir.canonical(instrument)
    assert [i["linkId"] for i in qr["item"]] == [i.code for i in instrument.visible_items(answers)]
    score = instrument.score(answers)
    obs = fhir.observations(instrument, score, patient_ref=PATIENT, effective=AUTHORED, qr_ref=QR_REF)
    assert obs, code
    for resource in obs:
        Observation.model_validate(resource)
        assert resource["category"][0]["coding"][0]["code"] == "survey"
        assert resource["derivedFrom"] == [{"reference": QR_REF}]
        assert resource["subject"] == {"reference": PATIENT}
    if instrument.has_total:
        (total,) = obs
        assert total["valueInteger"] == score.total
        if instrument.loinc_total:
            assert total["code"]["coding"][0] == {
                "system": fhir.LOINC,
                "code": instrument.loinc_total,
                "display": f"{instrument.short_name} total score",
            }
        assert score.band is not None
        assert total["interpretation"][0]["text"] == score.band.label
    else:
        assert [o["valueInteger"] for o in obs] == list(score.subscores.values())


def test_phq9_observation_and_answers_in_detail():
    phq9 = instruments.get("phq9")
    answers = {f"phq9_{n}": 2 for n in range(1, 9)} | {"phq9_difficulty": 1}
    qr = fhir.questionnaire_response(phq9, answers, patient_ref=PATIENT, authored=AUTHORED)
    assert qr["item"][0]["answer"] == [
        {"valueCoding": {"system": fhir.LOINC, "code": "LA6570-1", "display": "More than half the days"}}
    ]
    assert "phq9_9" not in [i["linkId"] for i in qr["item"]]
    score = phq9.score(answers)
    (obs,) = fhir.observations(phq9, score, patient_ref=PATIENT, effective=AUTHORED, qr_ref=QR_REF)
    # 16 * 9 / 8 = 18, prorated; the note says so.
    assert obs["valueInteger"] == 18
    assert obs["code"]["coding"][0]["code"] == "44261-6"
    assert obs["interpretation"][0]["coding"][0]["code"] == "phq9.moderately_severe"
    assert "Prorated: 1 item(s) unanswered (phq9_9)." in obs["note"][0]["text"]
    assert obs["component"][0]["valueInteger"] == 4  # PHQ-2
    # No total, no Observation.
    assert fhir.observations(phq9, phq9.score({}), patient_ref=PATIENT, effective=AUTHORED) == []


def test_risk_flag_for_critical_answers_only():
    phq9 = instruments.get("phq9")
    calm = phq9.score({f"phq9_{n}": 1 for n in range(1, 10)} | {"phq9_9": 0})
    assert fhir.risk_flag(phq9, calm, patient_ref=PATIENT, start=AUTHORED) is None
    critical = phq9.score({f"phq9_{n}": 0 for n in range(1, 10)} | {"phq9_9": 1})
    flag = fhir.risk_flag(phq9, critical, patient_ref=PATIENT, start=AUTHORED, detail_ref=QR_REF)
    assert flag is not None
    Flag.model_validate(flag)
    assert flag["status"] == "active" and flag["code"]["text"] == "Suicide risk: PHQ-9 item 9"
    assert flag["extension"][0]["valueReference"] == {"reference": QR_REF}
    cssrs = instruments.get("cssrs_screener_slv")
    high = cssrs.score({"cssrs_screener_slv_1": 1, "cssrs_screener_slv_2": 0, "cssrs_screener_slv_6": 1})
    flag = fhir.risk_flag(cssrs, high, patient_ref=PATIENT, start=AUTHORED.date())
    assert flag is not None
    Flag.model_validate(flag)
    assert flag["code"]["text"] == "Suicide risk: C-SSRS (since last visit) high risk; C-SSRS (since last visit) item 6"
    low = cssrs.score({"cssrs_screener_slv_1": 1, "cssrs_screener_slv_2": 0, "cssrs_screener_slv_6": 0})
    assert fhir.risk_flag(cssrs, low, patient_ref=PATIENT, start=AUTHORED) is None


def test_bad_inputs_are_refused():
    phq9 = instruments.get("phq9")
    with pytest.raises(ValueError):
        fhir.questionnaire_response(phq9, {}, patient_ref=PATIENT, authored=AUTHORED, status="done")
    with pytest.raises(ValueError):
        fhir.questionnaire_response(phq9, {}, patient_ref=PATIENT, authored=datetime(2025, 3, 3, 15, 30))  # noqa: DTZ001
