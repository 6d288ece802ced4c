"""Individual notes: required fields named at signing, lock and addendum, the co-signature queue, the deadline
command's tasks (idempotent, closed on signing), Part 2 scoping, and access for every page and endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.core.models import AuditAction, AuditEvent
from openiop.notes import actions
from openiop.testing.notes import active_plan, attend, diagnose, individual_session
from openiop.testing.scheduling import admit
from openiop.worklist.models import WorkTask

pytestmark = pytest.mark.django_db
JSON = "application/json"
COMPLETE: dict[str, Any] = {
    "behavior": "Arrived on time, tearful at first.",
    "intervention": "Behavioral activation planning.",
    "response": "Chose two activities for the week.",
    "plan": "Review the activity log next session.",
    "risk_level": "low",
}


@pytest.fixture
def visit(clinic):
    """A past individual session with one attended patient who has a plan in force."""
    session = individual_session(clinic.mh, days_ago=1, facilitators=(clinic.clinician,))
    episode = admit(clinic, "Robin", program=clinic.mh, legal_last_name="Okafor", admitted_days_ago=20)
    objectives = active_plan(episode, clinic.clinician)
    diagnose(episode, clinic.clinician, "F33.1", "F41.1")
    attend(session, episode, clinic.frontdesk)
    return session, episode, objectives


def _draft(clinic, visit, user=None):
    session, episode, _ = visit
    return actions.do_create_note(
        episode.patient, acting_user=user or clinic.clinician, episode=episode, session=session
    )


def _complete(note, user, objectives):
    return actions.do_update_note(note, acting_user=user, objectives=objectives[:1], **COMPLETE)


def test_a_draft_from_a_session_takes_its_times_and_attendance(clinic, visit):
    session, _, _ = visit
    note = _draft(clinic, visit)
    assert (note.start_time, note.stop_time) == (session.starts_at, session.ends_at)
    assert note.format == "birp" and note.place_of_service == "53" and note.status == "draft"
    assert note.attendance_status == "present" and note.minutes_attended == 50


def test_signing_names_every_missing_field(clinic, visit):
    note = _draft(clinic, visit)
    with pytest.raises(ValidationError) as exc:
        actions.do_sign_note(note, acting_user=clinic.clinician)
    assert {"behavior", "intervention", "response", "plan", "risk_level", "objectives"} <= set(exc.value.message_dict)
    note.refresh_from_db()
    assert note.status == "draft"


def test_soap_still_requires_intervention_and_response(clinic, visit):
    note = _draft(clinic, visit)
    note = actions.do_update_note(note, acting_user=clinic.clinician, format="soap", subjective="Felt better.")
    problems = actions.signing_problems(note)
    assert {"objective", "assessment", "intervention", "response", "plan"} <= set(problems)
    assert "subjective" not in problems and "behavior" not in problems


def test_signing_locks_and_later_text_is_an_addendum(clinic, visit):
    _, _, objectives = visit
    note = _complete(_draft(clinic, visit), clinic.clinician, objectives)
    actions.do_sign_note(note, acting_user=clinic.clinician)
    note.refresh_from_db()
    assert note.status == "signed" and note.author_credentials == "LCSW" and note.signed_at
    with pytest.raises(ValidationError, match="addendum"):
        actions.do_update_note(note, acting_user=clinic.clinician, plan="Changed my mind.")
    actions.do_add_addendum(note, acting_user=clinic.clinician, text="Patient called to confirm the plan.")
    note.refresh_from_db()
    assert note.plan == COMPLETE["plan"] and note.addenda.count() == 1
    with pytest.raises(ValidationError):
        actions.do_add_addendum(note, acting_user=clinic.clinician, text="  ")


def test_a_moderate_risk_needs_its_narrative(clinic, visit):
    _, _, objectives = visit
    note = _complete(_draft(clinic, visit), clinic.clinician, objectives)
    note = actions.do_update_note(note, acting_user=clinic.clinician, risk_level="moderate")
    assert "risk_notes" in actions.signing_problems(note)


def test_only_the_plan_in_force_may_be_linked(clinic, visit):
    note = _draft(clinic, visit)
    other = admit(clinic, "Other", program=clinic.mh)
    foreign = active_plan(other, clinic.clinician)
    with pytest.raises(ValidationError) as exc:
        actions.do_update_note(note, acting_user=clinic.clinician, objectives=foreign)
    assert "objectives" in exc.value.message_dict


def test_a_supervised_clinicians_note_waits_in_the_co_signature_queue(client, clinic, visit):
    _, _, objectives = visit
    note = _complete(_draft(clinic, visit, clinic.intern), clinic.intern, objectives)
    actions.do_sign_note(note, acting_user=clinic.intern)
    note.refresh_from_db()
    assert note.status == "awaiting_cosign"
    task = WorkTask.objects.get(kind=WorkTask.Kind.COSIGN_NEEDED)
    assert task.assigned_to == clinic.clinician and task.status == "open"
    client.force_login(clinic.clinician)
    page = client.get(reverse("notes:queue")).content.decode()
    assert 'Waiting for my co-signature <span class="text-muted fs-6">(1)' in page
    client.force_login(clinic.director)  # not the intern's supervisor
    assert (
        'Waiting for my co-signature <span class="text-muted fs-6">(0)'
        in client.get(reverse("notes:queue")).content.decode()
    )
    with pytest.raises(ValidationError, match="supervisor"):
        actions.do_cosign_note(note, acting_user=clinic.director)
    client.force_login(clinic.clinician)
    assert client.post(reverse("notes:cosign", args=[note.public_id])).status_code == 302
    note.refresh_from_db()
    task.refresh_from_db()
    assert note.status == "signed" and note.cosigned_by == clinic.clinician and note.cosigner_credentials == "LCSW"
    assert task.status == "done" and task.outcome == "not_needed"


def test_the_deadline_command_raises_once_and_signing_closes(clinic, visit):
    _session, episode, objectives = visit
    old = individual_session(clinic.mh, days_ago=9, facilitators=(clinic.clinician,))
    attend(old, episode, clinic.frontdesk)
    call_command("note_deadlines")
    call_command("note_deadlines")
    tasks = WorkTask.objects.filter(kind=WorkTask.Kind.NOTE_DUE)
    assert tasks.count() == 1  # the one overdue; yesterday's is not due yet
    task = tasks.get()
    assert task.trigger_key == f"note_due:{old.public_id}:{episode.patient.public_id}"
    assert "Robin" not in task.reason and task.assigned_to == clinic.clinician
    note = actions.do_create_note(episode.patient, acting_user=clinic.clinician, episode=episode, session=old)
    _complete(note, clinic.clinician, objectives)
    actions.do_sign_note(note, acting_user=clinic.clinician)
    task.refresh_from_db()
    assert task.status == "done"


def test_the_queue_lists_my_due_and_the_directors_overdue(client, clinic, visit):
    _session, episode, _ = visit
    old = individual_session(clinic.mh, days_ago=9, facilitators=(clinic.clinician,))
    attend(old, episode, clinic.frontdesk)
    client.force_login(clinic.clinician)
    page = client.get(reverse("notes:queue")).content.decode()
    assert 'My notes <span class="text-muted fs-6">(2)' in page and "Overdue" in page
    client.force_login(clinic.director)
    page = client.get(reverse("notes:queue")).content.decode()
    assert 'Overdue in my programs <span class="text-muted fs-6">(1)' in page
    assert AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED, object_type="note_queue").exists()


def test_the_queue_costs_the_same_queries_for_1_or_5_sessions(client, clinic, visit):
    _, episode, _ = visit
    first = individual_session(clinic.mh, days_ago=6, facilitators=(clinic.director,))
    attend(first, episode, clinic.frontdesk)
    client.force_login(clinic.director)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("notes:queue"))
    for days in (2, 3, 4, 5):
        s = individual_session(clinic.mh, days_ago=days, facilitators=(clinic.director,))
        attend(s, episode, clinic.frontdesk)
    with CaptureQueriesContext(connection) as five:
        assert client.get(reverse("notes:queue")).status_code == 200
    assert len(five) == len(one)


def test_substance_use_notes_are_part_2_and_only_for_that_programs_staff(client, clinic):
    episode = admit(clinic, "Sam", program=clinic.su, legal_last_name="Ruiz")
    note = actions.do_create_note(episode.patient, acting_user=clinic.director, episode=episode)
    client.force_login(clinic.director)
    body = client.get(f"/api/v1/notes/{note.public_id}").json()
    assert body["part2"] is True
    # The clinician works in mental health only: the patient is registered there too, the SUD note is not theirs.
    from openiop.patients.actions import do_open_episode

    do_open_episode(episode.patient, acting_user=None, program=clinic.mh, admitted_on=episode.admitted_on)
    client.force_login(clinic.clinician)
    assert client.get(f"/api/v1/notes/{note.public_id}").status_code == 404
    assert client.get(f"/api/v1/patients/{episode.patient.public_id}/notes").json() == []


PAGES_READ = [("clinician", 200), ("auditor", 200), ("frontdesk", 403), ("billing", 403), ("sysadmin", 403),
              ("outsider", 404), ("stranger", 404)]  # fmt: skip


@pytest.mark.parametrize(("who", "expected"), PAGES_READ)
def test_who_may_read_a_note(client, clinic, visit, who, expected):
    note = _draft(clinic, visit)
    client.force_login(getattr(clinic, who))
    assert client.get(reverse("notes:detail", args=[note.public_id])).status_code == expected
    assert client.get(f"/api/v1/notes/{note.public_id}").status_code == expected
    patient = note.patient
    assert client.get(f"/api/v1/patients/{patient.public_id}/notes").status_code == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [("clinician", 200), ("auditor", 403), ("frontdesk", 403), ("outsider", 404), ("stranger", 404)],
)
def test_who_may_write_a_note(client, clinic, visit, who, expected):
    _session, episode, _ = visit
    note = _draft(clinic, visit)
    client.force_login(getattr(clinic, who))
    edit = client.get(reverse("notes:edit", args=[note.public_id]))
    assert edit.status_code == expected
    api = client.patch(f"/api/v1/notes/{note.public_id}", {"plan": "See next week."}, content_type=JSON)
    assert api.status_code == expected
    new = client.post(
        f"/api/v1/patients/{episode.patient.public_id}/notes", {"episode": str(episode.public_id)}, content_type=JSON
    )
    assert new.status_code == (201 if expected == 200 else expected)
    for name in ("addendum", "cosign"):
        assert client.post(reverse(f"notes:{name}", args=[note.public_id])).status_code in (
            {200: (302, 422)}.get(expected, (expected,))
        )


@pytest.mark.parametrize(
    ("who", "expected"), [("clinician", 200), ("auditor", 200), ("frontdesk", 403), ("sysadmin", 403)]
)
def test_who_may_open_the_queue(client, clinic, who, expected):
    client.force_login(getattr(clinic, who))
    assert client.get(reverse("notes:queue")).status_code == expected


def test_the_note_form_signs_or_names_what_is_missing(client, clinic, visit):
    _, _, objectives = visit
    note = _draft(clinic, visit)
    client.force_login(clinic.clinician)
    url = reverse("notes:edit", args=[note.public_id])
    base = {"format": "birp", "service_date": note.service_date.isoformat(), "start": "09:00", "stop": "09:50",
            "mode": "in_person", "place_of_service": "53"}  # fmt: skip
    missing = client.post(url, {**base, "behavior": "Typed text kept.", "action": "sign"})
    assert missing.status_code == 422
    page = missing.content.decode()
    assert "Typed text kept." in page and "Write the response section." in page
    assert "Choose the diagnosis this service addressed." in page  # the box was left unticked
    primary = note.episode.diagnoses.get(is_primary=True)
    done = client.post(
        url, {**base, **COMPLETE, "objectives": [objectives[0].pk], "diagnoses": [primary.pk], "action": "sign"}
    )
    assert done.status_code == 302
    note.refresh_from_db()
    assert note.status == "signed"
    assert note.stop_time.astimezone(clinic.mh.tz()).hour == 9


def test_the_api_names_missing_fields_on_sign(client, clinic, visit):
    note = _draft(clinic, visit)
    client.force_login(clinic.clinician)
    response = client.post(f"/api/v1/notes/{note.public_id}/sign")
    assert response.status_code == 422
    assert {"response", "risk_level", "objectives"} <= {e["field"] for e in response.json()["errors"]}


def test_only_the_author_is_offered_continue_the_draft(client, clinic, visit):
    # The edit view refuses anyone but the author, so the note page offers the button by the same rule.
    note = _draft(clinic, visit)
    client.force_login(clinic.director)
    page = client.get(reverse("notes:detail", args=[note.public_id])).content.decode()
    assert "Continue the draft" not in page
    assert reverse("notes:edit", args=[note.public_id]) not in page
    assert client.get(reverse("notes:edit", args=[note.public_id])).status_code == 403
    client.force_login(clinic.clinician)
    page = client.get(reverse("notes:detail", args=[note.public_id])).content.decode()
    assert "Continue the draft" in page
    assert client.get(reverse("notes:edit", args=[note.public_id])).status_code == 200


def test_the_directors_overdue_list_opens_others_drafts_read_only(client, clinic, visit):
    _session, episode, _ = visit
    old = individual_session(clinic.mh, days_ago=9, facilitators=(clinic.clinician,))
    attend(old, episode, clinic.frontdesk)
    note = actions.do_create_note(episode.patient, acting_user=clinic.clinician, episode=episode, session=old)
    client.force_login(clinic.director)
    page = client.get(reverse("notes:queue")).content.decode()
    assert reverse("notes:detail", args=[note.public_id]) in page
    assert reverse("notes:edit", args=[note.public_id]) not in page
