"""Intake assessment writes: section saves, ratings as entered, diagnoses, signing, the lock and addenda."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from openiop.core.models import AuditAction, AuditEvent
from openiop.intake.actions import (
    do_add_addendum,
    do_add_diagnosis,
    do_rate_level_of_care,
    do_remove_diagnosis,
    do_save_section,
    do_sign_assessment,
)
from openiop.intake.frameworks import FRAMEWORKS
from openiop.intake.models import Diagnosis, IntakeAssessment, normalize_icd10, validate_icd10
from openiop.referrals.actions import do_link_patient
from openiop.referrals.models import Referral
from openiop.testing.fixtures import make_patient
from openiop.testing.intake import ASAM3_RATINGS, complete, signed, start
from openiop.testing.referrals import make_referral


def test_a_section_save_keeps_other_sections_and_audits_field_names_only(clinic, patient):
    assessment = start(patient, clinic.clinician)
    do_save_section(assessment, acting_user=clinic.clinician, presenting_problem="Panic attacks at work.")
    changed = do_save_section(assessment, acting_user=clinic.clinician, strengths="Close to her sister.")
    assert changed == ["strengths"]
    assessment.refresh_from_db()
    assert (assessment.presenting_problem, assessment.strengths) == ("Panic attacks at work.", "Close to her sister.")
    event = AuditEvent.objects.filter(action=AuditAction.UPDATED, object_id=str(assessment.public_id)).last()
    assert event is not None and event.changed_fields == ["strengths"]
    assert "sister" not in str(event.changed_fields)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"substance": "Alcohol", "route": "teleported"}], "route must be one of"),
        ([{"substance": "", "frequency": "daily"}], "name the substance"),
        ([{"substance": "Alcohol", "last_use": "yesterday"}], "must be a date"),
        ([{"substance": "Alcohol", "last_use": "2999-01-01"}], "cannot be in the future"),
        ([{"substance": "Alcohol", "age_first_use": "twelve"}], "must be a number"),
        ([{"substance": "Alcohol", "colour": "blue"}], "use only"),
        ("Alcohol", "as a list"),
    ],
)
def test_substances_are_checked_row_by_row(clinic, patient, rows, message):
    assessment = start(patient, clinic.clinician)
    with pytest.raises(ValidationError) as exc:
        do_save_section(assessment, acting_user=clinic.clinician, substances=rows)
    assert message in exc.value.message_dict["substances"][0]


def test_substance_rows_are_cleaned_and_blank_rows_dropped(clinic, patient):
    assessment = start(patient, clinic.clinician)
    do_save_section(
        assessment,
        acting_user=clinic.clinician,
        substances=[
            {"substance": " Cannabis ", "route": "smoked", "frequency": "weekends", "age_first_use": "16"},
            {"substance": "", "route": "", "frequency": "", "last_use": "", "age_first_use": ""},
        ],
    )
    assessment.refresh_from_db()
    assert assessment.substances == [
        {"substance": "Cannabis", "route": "smoked", "frequency": "weekends", "last_use": "", "age_first_use": 16}
    ]


@pytest.mark.parametrize(
    ("framework", "ratings", "field"),
    [
        ("asam3", {"d1": "5"}, "rating_d1"),
        ("asam4", {"d1": "3C"}, "rating_d1"),
        ("asam4", {"d6": "2"}, "rating_d6"),  # person-centered considerations are not risk-rated
        ("locus", {"risk_of_harm": "0"}, "rating_risk_of_harm"),
        ("asam3", {"d9": "1"}, "ratings"),
        ("dsm", {}, "framework"),
    ],
)
def test_ratings_must_be_values_of_their_framework(clinic, patient, framework, ratings, field):
    assessment = start(patient, clinic.clinician)
    with pytest.raises(ValidationError) as exc:
        do_rate_level_of_care(assessment, acting_user=clinic.clinician, framework=framework, ratings=ratings)
    assert field in exc.value.message_dict


def test_ratings_are_stored_exactly_as_entered_with_the_chosen_level(clinic, patient):
    assessment = start(patient, clinic.clinician)
    rating = do_rate_level_of_care(
        assessment,
        acting_user=clinic.clinician,
        framework="asam4",
        ratings={"d1": "any", "d2": "0", "d3": "3A", "d4": "EVAL", "d5": "2"},
        notes={"d6": "Prefers evening groups; caring for a parent."},
        chosen_level="2.1",
        modifiers=["COE"],
        rationale="Clinician's judgement.",
    )
    values = {d.dimension: (d.value, d.note) for d in rating.dimensions.all()}
    assert values["d1"] == ("ANY", "")
    assert values["d3"] == ("3A", "")
    assert values["d6"] == ("", "Prefers evening groups; caring for a parent.")
    assert (rating.chosen_level, rating.modifiers) == ("2.1", ["COE"])
    # The level is whatever the clinician chose; nothing is derived from the ratings.
    again = do_rate_level_of_care(
        assessment, acting_user=clinic.clinician, framework="asam4", ratings={"d1": "4"}, chosen_level="1.0"
    )
    assert again.pk == rating.pk and again.chosen_level == "1.0"
    with pytest.raises(ValidationError) as exc:
        do_rate_level_of_care(
            assessment, acting_user=clinic.clinician, framework="asam4", ratings={}, chosen_level="3.3"
        )
    assert "chosen_level" in exc.value.message_dict


def test_adolescents_are_rated_on_the_third_edition(clinic):
    teen = make_patient(clinic, clinic.teen, legal_first_name="Riley", date_of_birth=date(2011, 3, 4))
    assessment = start(teen, clinic.outsider, clinic.teen)
    for code in ("asam4", "locus"):
        with pytest.raises(ValidationError) as exc:
            do_rate_level_of_care(assessment, acting_user=clinic.outsider, framework=code, ratings={})
        assert "3rd edition" in exc.value.message_dict["framework"][0]
    do_rate_level_of_care(assessment, acting_user=clinic.outsider, framework="asam3", ratings=ASAM3_RATINGS)


def test_frameworks_list_the_domain_dimensions():
    assert [d.code for d in FRAMEWORKS["asam3"].dimensions] == ["d1", "d2", "d3", "d4", "d5", "d6"]
    assert FRAMEWORKS["asam4"].rating_values == {"0", "ANY", "EVAL", "2", "3A", "3B", "4"}
    assert FRAMEWORKS["locus"].rating_values == {"1", "2", "3", "4", "5"}
    assert "2.5 High-Intensity Outpatient" in dict(FRAMEWORKS["asam4"].levels).values()


@pytest.mark.parametrize(
    ("typed", "stored"), [("f33.1", "F33.1"), ("F1020", "F10.20"), ("F41", "F41"), (" z63.0 ", "Z63.0")]
)
def test_icd10_codes_are_normalized(typed, stored):
    assert normalize_icd10(typed) == stored
    validate_icd10(stored)


@pytest.mark.parametrize("bad", ["33.1", "FF3.1", "F3", "F33.12345", "F33-1", "F3!.1"])
def test_malformed_icd10_codes_are_refused(clinic, patient, bad):
    assessment = start(patient, clinic.clinician)
    with pytest.raises(ValidationError) as exc:
        do_add_diagnosis(assessment, acting_user=clinic.clinician, code=bad, description="Something")
    assert "code" in exc.value.message_dict


def test_one_primary_diagnosis_and_removal_keeps_the_row(clinic, patient):
    assessment = start(patient, clinic.clinician)
    first = do_add_diagnosis(assessment, acting_user=clinic.clinician, code="F33.1", description="MDD", is_primary=True)
    second = do_add_diagnosis(
        assessment, acting_user=clinic.clinician, code="F10.20", description="AUD", is_primary=True
    )
    first.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)
    with pytest.raises(ValidationError):
        do_add_diagnosis(assessment, acting_user=clinic.clinician, code="f1020", description="AUD again")
    do_remove_diagnosis(second, acting_user=clinic.clinician)
    second.refresh_from_db()
    assert (second.is_active, second.is_primary) == (False, False)
    assert Diagnosis.objects.filter(assessment=assessment).count() == 2
    with pytest.raises(IntegrityError):
        Diagnosis.objects.filter(pk=first.pk).update(is_primary=True)
        Diagnosis.objects.create(
            assessment=assessment, code="F41.1", description="GAD", is_primary=True, recorded_by=clinic.clinician
        )


def test_signing_lists_everything_missing_by_field(clinic, patient):
    assessment = start(patient, clinic.clinician)
    with pytest.raises(ValidationError) as exc:
        do_sign_assessment(assessment, acting_user=clinic.clinician)
    assert set(exc.value.message_dict) >= {
        "presenting_problem",
        "risk_suicidal_ideation",
        "code",
        "chosen_level",
        "recommendation",
    }
    assessment.refresh_from_db()
    assert assessment.status == IntakeAssessment.Status.DRAFT


def test_flagged_risk_needs_a_narrative_and_other_levels_a_reason(clinic, patient):
    assessment = complete(
        start(patient, clinic.clinician),
        clinic.clinician,
        risk_suicidal_ideation=True,
        recommendation="other_level",
        other_level_of_care="",
    )
    with pytest.raises(ValidationError) as exc:
        do_sign_assessment(assessment, acting_user=clinic.clinician)
    assert set(exc.value.message_dict) == {"risk_narrative", "other_level_of_care", "recommendation_reason"}


def test_signing_locks_the_assessment_and_changes_become_addenda(clinic, patient):
    assessment = signed(patient, clinic.clinician)
    assert assessment.status == IntakeAssessment.Status.SIGNED
    assert assessment.signed_by == clinic.clinician and assessment.signed_at is not None
    for write in (
        lambda: do_save_section(assessment, acting_user=clinic.clinician, strengths="More."),
        lambda: do_rate_level_of_care(assessment, acting_user=clinic.clinician, framework="asam3", ratings={}),
        lambda: do_add_diagnosis(assessment, acting_user=clinic.clinician, code="F41.1", description="GAD"),
        lambda: do_sign_assessment(assessment, acting_user=clinic.clinician),
    ):
        with pytest.raises(ValidationError) as exc:
            write()
        assert "addendum" in str(exc.value)
    addendum = do_add_addendum(assessment, acting_user=clinic.director, text="Collateral from sister confirms history.")
    assert addendum.author == clinic.director
    assert AuditEvent.objects.filter(action=AuditAction.STATUS_CHANGED, object_id=str(assessment.public_id)).exists()


def test_signing_moves_the_referral_to_assessed(clinic, patient):
    referral = make_referral(clinic, stage=Referral.Stage.SCREENING)
    do_link_patient(referral, acting_user=clinic.intake, patient=patient)
    # The intake coordinator drafts; the clinician signs (scope of practice).
    draft = complete(start(patient, clinic.intake, referral=referral), clinic.intake)
    assessment = do_sign_assessment(draft, acting_user=clinic.clinician)
    referral.refresh_from_db()
    assert referral.stage == Referral.Stage.ASSESSED
    assert assessment.referral == referral


def test_a_referral_for_someone_else_is_refused(clinic, patient):
    other = make_patient(clinic, legal_first_name="Other", legal_last_name="Person")
    referral = do_link_patient(make_referral(clinic), acting_user=clinic.intake, patient=other)
    with pytest.raises(ValidationError) as exc:
        start(patient, clinic.intake, referral=referral)
    assert "referral" in exc.value.message_dict


def test_an_assessment_started_from_the_chart_belongs_to_the_referral_waiting_for_it(client, clinic, patient):
    """The chart's Start (no referral named) links the patient's referral to the same program that awaits its
    assessment, so signing moves it to "assessed"; a referral to another program or already assessed is left."""
    elsewhere = do_link_patient(make_referral(clinic, program=clinic.su), acting_user=clinic.intake, patient=patient)
    waiting = do_link_patient(
        make_referral(clinic, stage=Referral.Stage.SCREENING), acting_user=clinic.intake, patient=patient
    )
    client.force_login(clinic.clinician)
    response = client.post(
        f"/intake/patients/{patient.public_id}/new/",
        {"program": str(clinic.mh.public_id), "assessed_on": clinic.mh.now().date().isoformat()},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assessment = IntakeAssessment.objects.get(patient=patient)
    assert assessment.referral == waiting
    created = AuditEvent.objects.get(object_id=str(assessment.public_id), action=AuditAction.CREATED)
    assert "referral" in created.changed_fields
    complete(assessment, clinic.clinician)
    assessment = do_sign_assessment(assessment, acting_user=clinic.clinician)
    waiting.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (waiting.stage, elsewhere.stage) == (Referral.Stage.ASSESSED, Referral.Stage.INQUIRY)
    # The next assessment finds no referral waiting any more.
    assert start(patient, clinic.clinician).referral is None
