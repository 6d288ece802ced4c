"""Scope of practice: an assessment (with its diagnoses and level-of-care ratings), a plan and a note are signed only
by a clinical role with a credential the program accepts; the sign buttons say why for everyone else."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from openiop.conftest import login
from openiop.intake.actions import do_sign_assessment
from openiop.intake.models import IntakeAssessment
from openiop.plans import actions as plan_actions
from openiop.plans.models import PlanVersion
from openiop.programs.actions import do_update_program
from openiop.programs.signing import signing_refusal
from openiop.testing.intake import complete, start
from openiop.testing.plans import draft, fill

pytestmark = pytest.mark.django_db


def test_the_intake_coordinator_drafts_but_cannot_sign_an_assessment(clinic, patient):
    assessment = complete(start(patient, clinic.intake), clinic.intake)
    assert assessment.diagnoses.exists() and assessment.level_ratings.exists()
    with pytest.raises(ValidationError) as exc:
        do_sign_assessment(assessment, acting_user=clinic.intake)
    message = exc.value.message_dict["signed_by"][0]
    assert message.startswith("Signing an assessment needs a clinical credential this program accepts (")
    assert "yours: none" in message and "Save it as a draft and hand it over." in message
    assessment.refresh_from_db()
    assert assessment.status == IntakeAssessment.Status.DRAFT and assessment.signed_by is None
    # The clinician it is handed to signs it.
    signed = do_sign_assessment(assessment, acting_user=clinic.clinician)
    assert signed.is_signed and signed.signed_by == clinic.clinician


def test_a_clinical_role_is_needed_even_with_a_credential(clinic):
    clinic.intake.credentials = "LCSW"
    assert "not a clinical role" in signing_refusal(clinic.intake, clinic.mh, "an assessment")
    assert signing_refusal(clinic.clinician, clinic.mh, "an assessment") == ""
    assert signing_refusal(clinic.director, clinic.mh, "an assessment") == ""
    # The intern's pre-licensure MSW is accepted because their signature waits for the supervisor.
    assert signing_refusal(clinic.intern, clinic.mh, "a progress note") == ""


def test_the_programs_list_is_configurable(clinic, patient):
    do_update_program(clinic.mh, acting_user=clinic.sysadmin, signing_credentials=["MD"])
    clinic.mh.refresh_from_db()
    assessment = complete(start(patient, clinic.clinician), clinic.clinician)
    with pytest.raises(ValidationError) as exc:
        do_sign_assessment(assessment, acting_user=clinic.clinician)
    message = exc.value.message_dict["signed_by"][0]
    assert "(MD)" in message and "yours: LCSW" in message


def test_the_sign_view_refuses_and_the_page_offers_the_hand_over(client, clinic, patient):
    assessment = complete(start(patient, clinic.intake), clinic.intake)
    client = login(client, clinic.intake)
    page = client.get(reverse("intake:edit", args=[assessment.public_id])).content.decode()
    # No page offers an action the user cannot take: the hand-over instead of the sign button, saying why.
    assert "Sign and lock the assessment" not in page and "Hand over for signing" in page
    assert "Signing an assessment needs a clinical credential" in page
    response = client.post(reverse("intake:sign", args=[assessment.public_id]), follow=True)
    assert response.status_code == 200 and "Save it as a draft and hand it over." in response.content.decode()
    assessment.refresh_from_db()
    assert not assessment.is_signed
    clinician_page = login(client, clinic.clinician).get(reverse("intake:edit", args=[assessment.public_id]))
    assert 'type="submit">Sign and lock the assessment' in clinician_page.content.decode()


def test_a_plan_is_signed_only_within_scope(client, clinic, patient):
    version = draft(patient, clinic.intake)
    fill(version, clinic.intake)
    with pytest.raises(ValidationError) as exc:
        plan_actions.do_sign_version(version, acting_user=clinic.intake)
    assert "Signing a treatment plan needs a clinical credential" in exc.value.message_dict["author"][0]
    page = login(client, clinic.intake).get(reverse("plans:version", args=[version.public_id])).content.decode()
    assert "Sign as the clinician" not in page and "Signing a treatment plan needs" in page
    assert "Hand over for signing" in page
    # The intern signs within scope, and the version waits for the supervisor as before.
    signed = plan_actions.do_sign_version(version, acting_user=clinic.intern)
    assert signed.status == PlanVersion.Status.AWAITING_COSIGN


def test_a_note_author_outside_scope_is_not_offered_the_sign_button(client, clinic):
    from openiop.notes.actions import do_create_note
    from openiop.testing.notes import attend, individual_session
    from openiop.testing.scheduling import admit

    session = individual_session(clinic.mh, days_ago=1, facilitators=(clinic.clinician,))
    episode = admit(clinic, "Robin", program=clinic.mh, admitted_days_ago=5)
    attend(session, episode, clinic.frontdesk)
    note = do_create_note(episode.patient, acting_user=clinic.clinician, episode=episode, session=session)
    url = reverse("notes:edit", args=[note.public_id])
    assert 'value="sign">Sign and lock' in login(client, clinic.clinician).get(url).content.decode()
    do_update_program(clinic.mh, acting_user=clinic.sysadmin, signing_credentials=["MD"])
    page = client.get(url).content.decode()
    # A note is the author's own record: no sign button and no hand-over, only why.
    assert "Sign and lock" not in page and "Signing a progress note needs" in page
    assert "hand it over" not in page and "A clinician within scope writes and signs it." in page
