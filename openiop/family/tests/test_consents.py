"""The consent rules behind the family pages: a revocation committed on another connection, Part 2 records."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.conftest import login
from openiop.consents.actions import do_revoke_consent
from openiop.consents.notices import SHORT_NOTICE
from openiop.family.tests.conftest import fill_record
from openiop.patients.actions import do_add_support_contact
from openiop.testing.family import family_account, family_release, part2_to_contact
from openiop.testing.fixtures import build_clinic, make_patient
from openiop.testing.scheduling import local_at, make_booking, make_session


@pytest.mark.django_db(transaction=True)
def test_a_revocation_committed_on_another_connection_cuts_access_on_the_next_request(client):
    clinic = build_clinic()
    patient = make_patient(clinic)
    contact = do_add_support_contact(patient, acting_user=None, name="Sam Rivera", relationship="sibling")
    account = family_account(patient, contact)
    release = family_release(patient, clinic.clinician, contact)
    fill_record(clinic, patient)
    login(client, account.user)
    assert client.get(reverse("family:attendance")).status_code == 200
    errors: list[BaseException] = []

    def revoke_elsewhere() -> None:
        try:
            do_revoke_consent(release, acting_user=clinic.frontdesk, statement="Revoked by letter.")
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=revoke_elsewhere)
    worker.start()
    worker.join()
    assert not errors
    assert client.get(reverse("family:attendance")).status_code == 403
    assert "Nothing is shared with you right now" in client.get(reverse("family:home")).content.decode()


@pytest.fixture
def sud(clinic):
    patient = make_patient(clinic, clinic.su, legal_first_name="Casey", legal_last_name="Morgan")
    contact = do_add_support_contact(patient, acting_user=None, name="Robin Morgan", relationship="partner")
    return patient, contact, family_account(patient, contact, username="robin")


def test_a_general_release_opens_nothing_for_a_substance_use_patient(client, clinic, sud):
    patient, contact, account = sud
    family_release(patient, clinic.director, contact, ["schedule", "attendance", "education"], program=clinic.su)
    login(client, account.user)
    assert "Nothing is shared with you right now" in client.get(reverse("family:home")).content.decode()
    for page in ("schedule", "attendance", "education"):
        assert client.get(reverse(f"family:{page}")).status_code == 403


def test_a_part2_consent_naming_the_contact_opens_its_pages_with_the_redisclosure_notice(client, clinic, sud):
    patient, contact, account = sud
    part2_to_contact(patient, clinic.director, contact, ["schedule", "attendance"])
    login(client, account.user)
    for page in ("home", "schedule", "attendance"):
        response = client.get(reverse(f"family:{page}"))
        assert response.status_code == 200
        assert SHORT_NOTICE in response.content.decode(), page
    assert client.get(reverse("family:education")).status_code == 403


def test_a_release_from_one_program_shows_only_that_programs_records(client, clinic, patient, contact, account):
    """Sessions of a program the release does not come from stay out (here a teen-program session)."""
    from openiop.patients.actions import do_open_episode
    from openiop.scheduling.models import SessionType
    from openiop.testing.scheduling import make_session_type

    record = fill_record(clinic, patient)
    teen = do_open_episode(
        patient, acting_user=None, program=clinic.teen, status="active", admitted_on=record.episode.admitted_on
    )
    family = make_session_type(
        clinic.teen, "Teen family night", kind=SessionType.Kind.FAMILY, service_kind="family_psychotherapy"
    )
    make_booking(make_session(clinic.teen, local_at(clinic.teen, 5, 16), session_type=family), patient, episode=teen)
    family_release(patient, clinic.clinician, contact, ["schedule"])
    login(client, account.user)
    body = client.get(reverse("family:schedule")).content.decode()
    assert "Family session" in body and "Teen family night" not in body
    assert record.family_session.room is not None


def test_family_pages_read_in_a_fixed_number_of_queries(client, clinic, patient, contact, account):
    from openiop.testing.notes import attend, group_session

    family_release(patient, clinic.clinician, contact, ["schedule", "attendance", "education"])
    record = fill_record(clinic, patient)
    login(client, account.user)
    counts = {}
    for page in ("schedule", "attendance", "education", "home"):
        with CaptureQueriesContext(connection) as before:
            client.get(reverse(f"family:{page}"))
        counts[page] = len(before)
    for days in (3, 4, 5):
        attend(group_session(clinic.mh, days_ago=days), record.episode, clinic.frontdesk)
    second = make_session(clinic.mh, local_at(clinic.mh, 6, 17, 30), session_type=record.family_session.session_type)
    make_booking(second, patient, episode=record.episode)
    for page in counts:
        with CaptureQueriesContext(connection) as after:
            response = client.get(reverse(f"family:{page}"))
        assert response.status_code == 200
        assert len(after) == counts[page], page
