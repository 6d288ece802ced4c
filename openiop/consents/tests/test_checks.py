"""The disclosure rule table: every recipient x data class x consent state, for Part 2 and other records.

The expectations are written out here as the rule reads in words, independently of the implementation.
"""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from openiop.consents.actions import do_record_expiry_event, do_revoke_consent
from openiop.consents.checks import Recipient, RecipientType, may_disclose, part2_programs, redisclosure_notice
from openiop.consents.models import ConsentStatus, DataClass, ExpiryKind, Purpose, RecipientKind
from openiop.consents.notices import LONG_NOTICE, SHORT_NOTICE
from openiop.patients.actions import do_add_support_contact, do_open_episode
from openiop.programs.actions import do_create_program
from openiop.testing.consents import part2_tpo, record, release_to_contact
from openiop.testing.fixtures import make_patient

STATES = ["active", "expired", "revoked", "none"]
ALL_CLASSES = list(DataClass.values)


def _recipients(contact, other_contact) -> dict[str, Recipient]:
    return {
        "patient": Recipient.patient(),
        "named contact": Recipient.contact(contact),
        "other contact": Recipient.contact(other_contact),
        "named provider": Recipient.provider("Valley Clinic"),
        "other provider": Recipient.provider("Hill Clinic"),
        "treating provider": Recipient.treating_provider(),
        "payer": Recipient.payer(),
    }


def _in_state(state, make, user):
    """Record the consent for ``state`` and return the moment to ask at."""
    if state == "none":
        return None
    consent = make()
    if state == "revoked":
        do_revoke_consent(consent, acting_user=user, statement="I revoke my consent. (signed)")
    if state == "expired":
        assert consent.expires_on is not None
        return datetime.combine(consent.expires_on + timedelta(days=1), time(12), tzinfo=consent.program.tz())
    return None


@pytest.mark.parametrize("state", STATES)
def test_release_rule_table_for_mental_health_records(clinic, patient, contact, state):
    other = do_add_support_contact(patient, acting_user=None, name="Alex Kim", relationship="friend")
    expires = timezone.localdate() + timedelta(days=30)
    on = _in_state(
        state,
        lambda: release_to_contact(
            patient, clinic.clinician, contact, expiry_kind=ExpiryKind.DATE, expires_on=expires, expiry_event=""
        ),
        clinic.clinician,
    )
    covered = {DataClass.ATTENDANCE, DataClass.TREATMENT_PLAN}
    for label, recipient in _recipients(contact, other).items():
        for data_class in ALL_CLASSES:
            for purpose in Purpose.values:
                if label == "patient":
                    expected = data_class != DataClass.COUNSELING_NOTES
                else:
                    expected = (
                        state == "active"
                        and label == "named contact"
                        and data_class in covered
                        and purpose == Purpose.TREATMENT
                    )
                decision = may_disclose(patient, recipient=recipient, data_class=data_class, purpose=purpose, on=on)
                assert decision.allowed is expected, (label, data_class, purpose, decision.reason)
                assert decision.part2 is False
                assert decision.redisclosure_notice == ""


@pytest.mark.parametrize("state", STATES)
def test_part2_tpo_rule_table_for_substance_use_records(clinic, sud_patient, sud_contact, state):
    other = do_add_support_contact(sud_patient, acting_user=None, name="Alex Kim", relationship="friend")
    expires = timezone.localdate() + timedelta(days=30)
    on = _in_state(
        state,
        lambda: part2_tpo(
            sud_patient,
            clinic.director,
            expiry_kind=ExpiryKind.DATE if state == "expired" else ExpiryKind.NONE,
            expires_on=expires if state == "expired" else None,
        ),
        clinic.director,
    )
    for label, recipient in _recipients(sud_contact, other).items():
        for data_class in ALL_CLASSES:
            for purpose in Purpose.values:
                if label == "patient":
                    expected = data_class != DataClass.COUNSELING_NOTES
                else:
                    expected = (
                        state == "active"
                        and label in ("treating provider", "payer")
                        and data_class != DataClass.COUNSELING_NOTES
                        and purpose != Purpose.OTHER
                    )
                decision = may_disclose(sud_patient, recipient=recipient, data_class=data_class, purpose=purpose, on=on)
                assert decision.allowed is expected, (label, data_class, purpose, decision.reason)
                assert decision.part2 is True
                if expected and label != "patient":
                    assert decision.redisclosure_notice == SHORT_NOTICE
                    assert decision.consent is not None
                    assert "A copy of the consent, or a clear explanation of its scope" in decision.scope
                else:
                    assert decision.redisclosure_notice == ""


def test_a_general_release_is_not_enough_for_part2_records(clinic, sud_patient, sud_contact):
    release_to_contact(sud_patient, clinic.director, sud_contact)
    decision = may_disclose(
        sud_patient, recipient=Recipient.contact(sud_contact), data_class="attendance", purpose="treatment"
    )
    assert not decision.allowed
    assert "general release is not enough" in decision.reason


def test_a_part2_consent_to_a_support_contact_allows_what_it_names(clinic, sud_patient, sud_contact):
    record(
        sud_patient,
        clinic.director,
        "part2",
        information_description="Attendance and participation in the Adult Substance Use IOP.",
        data_classes=["attendance"],
        recipient_kind=RecipientKind.SUPPORT_CONTACT,
        recipient_contact=sud_contact,
        purposes=["other"],
        purpose_other="Support my recovery at home",
        expiry_kind="event",
        expiry_event="Discharge",
        redisclosure_form="long",
    )
    who = Recipient.contact(sud_contact)
    allowed = may_disclose(sud_patient, recipient=who, data_class="attendance", purpose="other")
    assert allowed.allowed
    assert allowed.redisclosure_notice == LONG_NOTICE
    assert "Support my recovery at home" in allowed.scope
    assert not may_disclose(sud_patient, recipient=who, data_class="diagnoses", purpose="other")
    assert not may_disclose(sud_patient, recipient=who, data_class="attendance", purpose="treatment")


def test_counseling_notes_need_a_consent_of_their_own(clinic, sud_patient):
    part2_tpo(sud_patient, clinic.director)
    provider = Recipient.treating_provider()
    assert may_disclose(sud_patient, recipient=provider, data_class="progress_notes", purpose="treatment")
    assert not may_disclose(sud_patient, recipient=provider, data_class="counseling_notes", purpose="treatment")
    part2_tpo(sud_patient, clinic.director, data_classes=["counseling_notes"])
    assert may_disclose(sud_patient, recipient=provider, data_class="counseling_notes", purpose="treatment")


def test_outside_providers_are_matched_by_organization_and_named_person(clinic, patient):
    record(
        patient,
        clinic.clinician,
        "release",
        data_classes=["diagnoses"],
        recipient_kind=RecipientKind.OUTSIDE_PROVIDER,
        recipient_name="Dr. Ana Lee",
        recipient_organization="Valley Clinic",
        purposes=["treatment"],
        expiry_kind="date",
        expires_on=timezone.localdate() + timedelta(days=90),
    )

    def ask(org, name=""):
        return may_disclose(
            patient, recipient=Recipient.provider(org, name), data_class="diagnoses", purpose="treatment"
        ).allowed

    assert ask("  valley   CLINIC ", "dr. ana lee")
    assert not ask("Valley Clinic", "Dr. Bo Chan")
    assert not ask("Valley Clinic")
    assert not ask("Valley Clinics", "Dr. Ana Lee")


def test_expiry_dates_are_read_in_the_programs_time_zone(clinic, patient, contact):
    expires = timezone.localdate() + timedelta(days=10)
    release_to_contact(patient, clinic.clinician, contact, expiry_kind="date", expires_on=expires, expiry_event="")
    tz = clinic.mh.tz()  # America/New_York
    who = Recipient.contact(contact)
    last_evening = datetime.combine(expires, time(23, 30), tzinfo=tz)
    next_morning = datetime.combine(expires + timedelta(days=1), time(0, 30), tzinfo=tz)
    assert may_disclose(patient, recipient=who, data_class="attendance", purpose="treatment", on=last_evening)
    # 00:30 in New York is still the expiry day in UTC-minus-anything servers; it is the program's day that counts.
    assert not may_disclose(patient, recipient=who, data_class="attendance", purpose="treatment", on=next_morning)


def test_an_expiry_event_ends_the_consent_from_its_day(clinic, patient, contact):
    consent = release_to_contact(patient, clinic.clinician, contact)
    who = Recipient.contact(contact)
    assert may_disclose(patient, recipient=who, data_class="attendance", purpose="treatment")
    do_record_expiry_event(consent, acting_user=clinic.clinician, occurred_on=timezone.localdate())
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.EXPIRED
    decision = may_disclose(patient, recipient=who, data_class="attendance", purpose="treatment")
    assert not decision.allowed
    assert "expired" in decision.reason


def test_revocation_takes_effect_at_once_and_says_so(clinic, patient, contact):
    consent = release_to_contact(patient, clinic.clinician, contact)
    who = Recipient.contact(contact)
    assert may_disclose(patient, recipient=who, data_class="attendance", purpose="treatment")
    do_revoke_consent(consent, acting_user=clinic.frontdesk, statement="Please stop sharing with my brother.")
    decision = may_disclose(patient, recipient=who, data_class="attendance", purpose="treatment")
    assert not decision.allowed
    assert "revoked" in decision.reason
    # Asking about a moment before the revocation still shows what was allowed then (for audits of past sharing).
    consent.refresh_from_db()
    assert consent.revoked_at is not None and consent.signed_at < consent.revoked_at
    assert may_disclose(patient, recipient=who, data_class="attendance", purpose="treatment", on=consent.signed_at)


@pytest.mark.django_db(transaction=True)
def test_a_revocation_committed_by_another_connection_is_seen_by_the_next_check():
    from openiop.testing.fixtures import build_clinic

    clinic = build_clinic()
    patient = make_patient(clinic)
    contact = do_add_support_contact(patient, acting_user=None, name="Sam Rivera", relationship="sibling")
    consent = release_to_contact(patient, clinic.clinician, contact)
    who = Recipient.contact(contact)
    assert may_disclose(patient, recipient=who, data_class="attendance", purpose="treatment")
    errors: list[BaseException] = []

    def revoke_elsewhere() -> None:
        try:
            do_revoke_consent(consent, acting_user=clinic.frontdesk, statement="Revoked by letter.")
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=revoke_elsewhere)
    worker.start()
    worker.join()
    assert not errors
    assert not may_disclose(patient, recipient=who, data_class="attendance", purpose="treatment")


def test_a_part2_consent_must_come_from_the_program_whose_records_go_out(clinic, sud_patient):
    second = do_create_program(acting_user=None, site=clinic.site, name="Co-occurring IOP", focus="co_occurring")
    do_open_episode(sud_patient, acting_user=None, program=second, status="waitlist")
    assert {p.pk for p in part2_programs(sud_patient)} == {clinic.su.pk, second.pk}
    part2_tpo(sud_patient, clinic.director, program=clinic.su)  # from the substance-use program only
    provider = Recipient.treating_provider()
    decision = may_disclose(sud_patient, recipient=provider, data_class="attendance", purpose="treatment")
    assert not decision.allowed
    assert "Co-occurring IOP" in decision.reason
    su_episode = sud_patient.episodes.get(program=clinic.su)
    assert may_disclose(
        sud_patient, recipient=provider, data_class="attendance", purpose="treatment", episode=su_episode
    )


def test_mental_health_records_of_a_patient_also_in_sud_care_follow_the_release_rules(clinic, sud_patient, sud_contact):
    mh_episode = do_open_episode(sud_patient, acting_user=None, program=clinic.mh, status="waitlist")
    release_to_contact(sud_patient, clinic.clinician, sud_contact, program=clinic.mh)
    who = Recipient.contact(sud_contact)
    assert may_disclose(sud_patient, recipient=who, data_class="attendance", purpose="treatment", episode=mh_episode)
    # Without an episode the disclosure may include SUD records, so Part 2 applies to the whole record.
    assert not may_disclose(sud_patient, recipient=who, data_class="attendance", purpose="treatment")


def test_unknown_data_classes_and_purposes_are_programming_errors(patient):
    with pytest.raises(ValueError, match="data class"):
        may_disclose(patient, recipient=Recipient.patient(), data_class="everything", purpose="treatment")
    with pytest.raises(ValueError, match="purpose"):
        may_disclose(patient, recipient=Recipient.patient(), data_class="attendance", purpose="marketing")


def test_recipients_parse_from_the_api_spelling(patient, contact):
    assert Recipient.parse("patient", patient).type == RecipientType.PATIENT
    assert Recipient.parse("payer", patient).type == RecipientType.PAYER
    assert Recipient.parse(f"contact:{contact.public_id}", patient).contact_id == contact.pk
    parsed = Recipient.parse("provider:Valley Clinic|Dr. Ana Lee", patient)
    assert (parsed.organization, parsed.name) == ("Valley Clinic", "Dr. Ana Lee")
    for bad in ("contact:nope", "contact:00000000-0000-0000-0000-000000000000", "provider:", "someone", "patient:x"):
        with pytest.raises(ValueError):
            Recipient.parse(bad, patient)


def test_the_redisclosure_notice_comes_in_two_forms():
    assert redisclosure_notice("short") == "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
    long = redisclosure_notice("long")
    assert long.startswith(
        "This record which has been disclosed to you is protected by Federal confidentiality rules (42 CFR part 2)"
    )
    assert "is NOT sufficient" in long
    assert "proceeding against the patient" in long
    with pytest.raises(ValueError):
        redisclosure_notice("medium")
