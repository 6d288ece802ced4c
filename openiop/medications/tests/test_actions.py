"""Writes of the medication list: formulary fill and free entry, stop, allergies and "no known allergies", the
signed reconciliation and what it says changed, and the MOUD coordination with its Part 2 release check."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.medications import actions
from openiop.medications.models import Allergy, Medication, NoKnownAllergies, Reconciliation
from openiop.testing.medications import add_medication, part2_to_provider
from openiop.testing.scheduling import admit

TODAY = date(2026, 11, 20)


@pytest.fixture
def su(clinic):
    return admit(clinic, "Casey", program=clinic.su)


def test_a_formulary_item_fills_its_codes_and_a_free_entry_has_none(clinic, su):
    bup = add_medication(su, clinic.director, "buprenorphine-naloxone-film", strength="8 mg/2 mg", dose="1 film")
    assert (bup.name, bup.ingredients, bup.rxcuis, bup.form, bup.route, bup.is_moud) == (
        "Buprenorphine/naloxone sublingual film", ["buprenorphine", "naloxone"], ["1819", "7242"], "film",
        "sublingual", True,
    )  # fmt: skip
    typed = add_medication(su, clinic.director, name="Melatonin", dose="3 mg")
    assert (typed.formulary_key, typed.rxcuis, typed.is_moud) == ("", [], False)
    row = AuditEvent.objects.filter(object_id=str(typed.public_id)).get()
    assert row.action == AuditAction.CREATED and "Melatonin" not in str(row.changed_fields)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"formulary_key": "no-such-thing"}, "formulary_key"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "A", "source": "rumour"}, "source"),
        ({"name": "A", "start_date": TODAY + timedelta(days=1)}, "start_date"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(clinic, su, fields, field):
    with pytest.raises(ValidationError) as caught:
        actions.do_add_medication(su.patient, acting_user=clinic.director, episode=su, today=TODAY, **fields)
    assert field in caught.value.message_dict
    assert not Medication.objects.exists()


def test_stopping_needs_a_date_not_before_the_start_and_a_reason(clinic, su):
    med = add_medication(su, clinic.director, "sertraline", start_date=date(2026, 11, 1))
    refused = (
        (None, "x", "stop_date"),
        (date(2026, 10, 1), "x", "stop_date"),
        (date(2026, 11, 10), "", "stop_reason"),
        (TODAY + timedelta(days=1), "x", "stop_date"),
    )
    for stop, reason, field in refused:
        with pytest.raises(ValidationError) as caught:
            actions.do_stop_medication(
                med, acting_user=clinic.director, stop_date=stop, stop_reason=reason, today=TODAY
            )
        assert field in caught.value.message_dict
    actions.do_stop_medication(med, acting_user=clinic.director, stop_date=date(2026, 11, 10), stop_reason="Nausea",
                               today=TODAY)  # fmt: skip
    med.refresh_from_db()
    assert (med.stop_date, med.stop_reason, med.active_on(TODAY)) == (date(2026, 11, 10), "Nausea", False)
    with pytest.raises(ValidationError, match="already stopped"):
        actions.do_stop_medication(med, acting_user=clinic.director, stop_date=TODAY, stop_reason="x", today=TODAY)


def test_no_known_allergies_is_a_statement_an_allergy_withdraws(clinic, su):
    patient = su.patient
    actions.do_state_no_known_allergies(patient, acting_user=clinic.director)
    assert NoKnownAllergies.objects.filter(patient=patient).exists()
    allergy = actions.do_add_allergy(patient, acting_user=clinic.director, substance="Penicillin", reaction="Hives",
                                     severity="moderate")  # fmt: skip
    assert not NoKnownAllergies.objects.filter(patient=patient).exists()
    with pytest.raises(ValidationError) as caught:
        actions.do_state_no_known_allergies(patient, acting_user=clinic.director)
    assert "no_known_allergies" in caught.value.message_dict
    actions.do_remove_allergy(allergy, acting_user=clinic.director)
    assert Allergy.objects.get().is_active is False
    actions.do_state_no_known_allergies(patient, acting_user=clinic.director)
    with pytest.raises(ValidationError) as caught:
        actions.do_add_allergy(patient, acting_user=clinic.director, substance="", severity="deadly")
    assert set(caught.value.message_dict) == {"substance", "severity"}


def test_a_reconciliation_lists_what_started_stopped_and_changed_since_the_last(clinic, su):
    today = timezone.localdate()
    bup = add_medication(su, clinic.director, "buprenorphine-naloxone-film", dose="1 film")
    lorazepam = add_medication(su, clinic.director, "lorazepam", dose="1 mg")
    first = actions.do_sign_reconciliation(su.patient, acting_user=clinic.director, episode=su, occasion="intake")
    assert [(c["change"], c["name"]) for c in first.changes] == [
        ("started", "Buprenorphine/naloxone sublingual film"),
        ("started", "Lorazepam"),
    ]
    actions.do_stop_medication(lorazepam, acting_user=clinic.director, stop_date=today - timedelta(days=1),
                               stop_reason="Tapered off")  # fmt: skip
    actions.do_update_medication(bup, acting_user=clinic.director, dose="2 films")
    add_medication(su, clinic.director, "sertraline")
    second = actions.do_sign_reconciliation(su.patient, acting_user=clinic.director, episode=su,
                                            occasion="level_of_care", note="Checked with the pharmacy.")  # fmt: skip
    assert [(c["change"], c["name"], c["fields"]) for c in second.changes] == [
        ("started", "Sertraline", []), ("stopped", "Lorazepam", []),
        ("changed", "Buprenorphine/naloxone sublingual film", ["dose"]),
    ]  # fmt: skip
    assert (second.signed_by, second.occasion) == (clinic.director, "level_of_care")
    second.note = "Rewritten"
    with pytest.raises(ValueError, match="never changed"):
        second.save()
    assert Reconciliation.objects.get(pk=second.pk).note == "Checked with the pharmacy."


def test_only_a_clinician_within_scope_signs_and_the_occasion_must_be_known(clinic, su):
    with pytest.raises(ValidationError) as caught:
        actions.do_sign_reconciliation(su.patient, acting_user=clinic.intake, episode=su, occasion="intake")
    assert "signed_by" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        actions.do_sign_reconciliation(su.patient, acting_user=clinic.director, episode=su, occasion="whenever")
    assert "occasion" in caught.value.message_dict
    assert not Reconciliation.objects.exists()


def test_moud_coordination_notes_the_part2_consent_naming_the_otp_and_not_a_missing_one(clinic, su):
    patient = su.patient
    coordination = actions.do_save_moud_coordination(
        su, acting_user=clinic.director, otp_name="Harbor OTP", otp_phone="555-0199", last_dose_on=timezone.localdate(),
        last_dose_how="otp_call", last_dose_confirmed_by="Dosing nurse",
    )  # fmt: skip
    release = actions.coordination_release(coordination, "otp")
    assert coordination.consent is None and release is not None and not release.allowed
    assert actions.coordination_release(coordination, "prescriber") is None  # not named
    consent = part2_to_provider(patient, clinic.director, "Harbor OTP", clinic.su)
    coordination = actions.do_save_moud_coordination(su, acting_user=clinic.director, otp_phone="555-0198")
    assert coordination.consent == consent and coordination.otp_name == "Harbor OTP"
    allowed = actions.coordination_release(coordination, "otp")
    assert allowed is not None and allowed.allowed


def test_moud_coordination_refuses_what_it_cannot_use(clinic, su):
    with pytest.raises(ValidationError) as caught:
        actions.do_save_moud_coordination(su, acting_user=clinic.director, otp_phone="call me",
                                          last_dose_on=timezone.localdate())  # fmt: skip
    assert set(caught.value.message_dict) == {"prescriber_name", "otp_phone", "last_dose_how"}
