"""The diagnosis on a note: the episode's diagnoses from intake are offered (primary first), a new note starts with
the primary one, signing needs one (and says so when the episode has none), and a participant's part of a group
note starts with that participant's own primary diagnosis."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from openiop.core.models import AuditAction, AuditEvent
from openiop.intake.actions import do_add_diagnosis, do_start_assessment
from openiop.notes import actions, group_actions
from openiop.notes.diagnoses import episode_diagnoses
from openiop.testing.notes import active_plan, attend, diagnose, group_session, individual_session, participants
from openiop.testing.scheduling import admit

pytestmark = pytest.mark.django_db
COMPLETE: dict[str, Any] = {
    "behavior": "Arrived on time.",
    "intervention": "Behavioral activation planning.",
    "response": "Chose two activities.",
    "plan": "Review the log next session.",
    "risk_level": "none",
}


@pytest.fixture
def visit(clinic):
    session = individual_session(clinic.mh, facilitators=(clinic.clinician,))
    episode = admit(clinic, "Robin", program=clinic.mh, legal_last_name="Okafor", admitted_days_ago=20)
    objectives = active_plan(episode, clinic.clinician)
    attend(session, episode, clinic.frontdesk)
    return session, episode, objectives


def _note(clinic, visit):
    session, episode, objectives = visit
    note = actions.do_create_note(episode.patient, acting_user=clinic.clinician, episode=episode, session=session)
    return actions.do_update_note(note, acting_user=clinic.clinician, objectives=objectives[:1], **COMPLETE)


def test_a_new_note_addresses_the_primary_diagnosis_and_offers_the_others(client, clinic, visit):
    _, episode, _ = visit
    primary, other = diagnose(episode, clinic.clinician, "F41.1", "F33.1")
    note = _note(clinic, visit)
    assert list(note.diagnoses.all()) == [primary]
    assert [d.pk for d in episode_diagnoses(episode)] == [primary.pk, other.pk]
    created = AuditEvent.objects.get(action=AuditAction.CREATED, object_id=str(note.public_id))
    assert "diagnoses" in created.changed_fields
    client.force_login(clinic.clinician)
    html = client.get(reverse("notes:edit", args=[note.public_id])).content.decode()
    assert "Diagnoses addressed" in html
    assert html.index("F41.1 Generalized anxiety disorder (primary)") < html.index("F33.1 Major depressive")


def test_signing_needs_the_diagnosis_addressed(clinic, visit):
    _, episode, _ = visit
    diagnose(episode, clinic.clinician, "F33.1")
    note = actions.do_update_note(_note(clinic, visit), acting_user=clinic.clinician, diagnoses=[])
    with pytest.raises(ValidationError) as exc:
        actions.do_sign_note(note, acting_user=clinic.clinician)
    assert exc.value.message_dict == {"diagnoses": ["Choose the diagnosis this service addressed."]}
    updated = AuditEvent.objects.filter(action=AuditAction.UPDATED, object_id=str(note.public_id)).last()
    assert updated is not None and updated.changed_fields == ["diagnoses"]


def test_signing_says_so_when_the_episode_has_no_diagnosis(client, clinic, visit):
    note = _note(clinic, visit)
    assert not note.diagnoses.exists()
    with pytest.raises(ValidationError) as exc:
        actions.do_sign_note(note, acting_user=clinic.clinician)
    assert list(exc.value.message_dict) == ["diagnoses"]
    assert "no diagnosis recorded" in exc.value.message_dict["diagnoses"][0]
    client.force_login(clinic.clinician)
    html = client.get(reverse("notes:edit", args=[note.public_id])).content.decode()
    assert "No diagnosis is recorded for this episode yet" in html


def test_only_the_episodes_own_diagnoses_are_offered_or_accepted(clinic, visit):
    _, episode, _ = visit
    own = diagnose(episode, clinic.clinician, "F33.1")
    other = admit(clinic, "Other", program=clinic.mh, legal_last_name="Person")
    foreign = diagnose(other, clinic.clinician, "F41.1")
    # An assessment of the same person by another program (the substance-use one) is not this episode's, while
    # one by the episode's own program before admission (no episode yet) is.
    sud = do_start_assessment(episode.patient, acting_user=clinic.director, program=clinic.su)
    do_add_diagnosis(sud, acting_user=clinic.director, code="F10.20", description="Alcohol use disorder")
    before = do_start_assessment(episode.patient, acting_user=clinic.clinician, program=clinic.mh)
    earlier = do_add_diagnosis(before, acting_user=clinic.clinician, code="F43.10", description="PTSD")
    assert episode_diagnoses(episode) == [*own, earlier]
    note = _note(clinic, visit)
    with pytest.raises(ValidationError) as exc:
        actions.do_update_note(note, acting_user=clinic.clinician, diagnoses=foreign)
    assert "diagnoses" in exc.value.message_dict
    assert list(note.diagnoses.all()) == own


def test_the_form_and_the_api_record_the_diagnoses_chosen(client, clinic, visit):
    _, episode, objectives = visit
    primary, other = diagnose(episode, clinic.clinician, "F33.1", "F41.1")
    note = _note(clinic, visit)
    client.force_login(clinic.clinician)
    base = {"format": "birp", "service_date": note.service_date.isoformat(), "start": "10:00", "stop": "10:50",
            "mode": "in_person", "place_of_service": "53", "objectives": [objectives[0].pk], **COMPLETE}  # fmt: skip
    response = client.post(reverse("notes:edit", args=[note.public_id]), {**base, "diagnoses": [other.pk]})
    assert response.status_code == 302
    assert list(note.diagnoses.all()) == [other]
    api = client.patch(
        f"/api/v1/notes/{note.public_id}",
        {"diagnoses": [str(primary.public_id), str(other.public_id)]},
        content_type="application/json",
    )
    assert api.status_code == 200
    assert [d["code"] for d in api.json()["diagnoses"]] == ["F33.1", "F41.1"]
    bad = client.patch(
        f"/api/v1/notes/{note.public_id}", {"diagnoses": [str(note.public_id)]}, content_type="application/json"
    )
    assert bad.status_code == 422 and "diagnoses" in {e["field"] for e in bad.json()["errors"]}


def test_each_part_starts_with_its_own_participants_primary_diagnosis(client, clinic):
    session = group_session(clinic.mh, facilitators=(clinic.clinician,))
    episodes = participants(clinic, session, 3)
    gn = group_actions.do_start_group_note(session, acting_user=clinic.clinician)
    codes = {}
    for part in gn.parts.select_related("episode").prefetch_related("diagnoses"):
        mine = episode_diagnoses(part.episode)
        assert [d.pk for d in part.diagnoses.all()] == [mine[0].pk]
        codes[part.patient_id] = mine[0].code
    assert len(set(codes.values())) == 3
    client.force_login(clinic.clinician)
    for episode in episodes:
        chart = client.get(f"{episode.patient.get_absolute_url()}?tab=notes").content.decode()
        assert codes[episode.patient_id] in chart
        assert not any(code in chart for pid, code in codes.items() if pid != episode.patient_id)
