"""Group notes written once: ten participants fan out to ten charts with no cross-patient leakage (chart views and
the API), the name guard, co-facilitators both sign, a late check-in after the lock becomes an addendum part."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.core.models import AuditAction, AuditEvent
from openiop.notes import actions, group_actions
from openiop.notes.common import active_objectives
from openiop.notes.models import GroupNote, ProgressNote
from openiop.testing.notes import FIRST_NAMES, LAST_NAMES, attend, group_session, participants
from openiop.testing.scheduling import admit

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _write(part: ProgressNote, user, text: str, **extra) -> None:
    objectives = active_objectives(part.episode)[:1]
    group_actions.do_save_part(
        part, acting_user=user, objectives=objectives, behavior=f"{text} shared about the week.",
        intervention="Reflective listening; CBT thought record.", response=f"{text} identified one trigger.",
        plan="Practice the thought record daily.", risk_level="none", **extra,
    )  # fmt: skip


def _ready_group(clinic, count: int, facilitators=None):
    facilitators = facilitators or (clinic.clinician, clinic.director)
    session = group_session(clinic.mh, facilitators=facilitators)
    episodes = participants(clinic, session, count)
    gn = group_actions.do_start_group_note(session, acting_user=clinic.clinician)
    group_actions.do_save_group_note(
        gn, acting_user=clinic.clinician, topic="Coping with cravings", interventions="Psychoeducation; role play."
    )
    for part in gn.parts.select_related("patient", "episode"):
        # Each part's text is about its own participant: the first name marks whose part it is.
        _write(part, clinic.clinician, f"{part.patient.legal_first_name} ZZ{part.patient.legal_last_name}")
    return session, gn, episodes


def test_a_part_per_attended_participant_prefilled_from_attendance(clinic):
    session = group_session(clinic.mh, facilitators=(clinic.clinician,))
    episodes = participants(clinic, session, 3)
    absent = admit(clinic, "Absent", program=clinic.mh, legal_last_name="Person")
    attend(session, absent, clinic.frontdesk, status="absent_unexcused")
    gn = group_actions.do_start_group_note(session, acting_user=clinic.clinician)
    parts = list(gn.parts.all())
    assert {p.patient_id for p in parts} == {e.patient_id for e in episodes}
    assert all(p.attendance_status == "present" and p.minutes_attended == 90 for p in parts)
    assert all(p.participation == "engaged" and p.place_of_service == "53" for p in parts)
    assert group_actions.do_start_group_note(session, acting_user=clinic.clinician) == gn  # idempotent
    assert GroupNote.objects.count() == 1


def test_ten_participants_fan_out_to_ten_charts_without_leakage(client, clinic):
    _session, gn, episodes = _ready_group(clinic, 10)
    group_actions.do_sign_group_note(gn, acting_user=clinic.clinician)
    group_actions.do_sign_group_note(gn, acting_user=clinic.director)
    gn.refresh_from_db()
    assert gn.is_locked and gn.group_size == 10
    assert ProgressNote.objects.filter(group_note=gn, status="signed").count() == 10
    client.force_login(clinic.clinician)
    for i, episode in enumerate(episodes):
        patient = episode.patient
        others = [f"ZZ{LAST_NAMES[j]}" for j in range(10) if j != i]
        others += [LAST_NAMES[j] for j in range(10) if j != i]
        chart = client.get(f"{patient.get_absolute_url()}?tab=notes")
        tab = client.get(reverse("patients:chart_tab", args=[patient.public_id, "notes"]), **HTMX)
        api = client.get(f"/api/v1/patients/{patient.public_id}/notes")
        assert chart.status_code == tab.status_code == api.status_code == 200
        body = api.json()
        assert len(body) == 1 and body[0]["patient"] == str(patient.public_id)
        assert body[0]["group_note"]["group_size"] == 10 and body[0]["group_note"]["topic"] == "Coping with cravings"
        for page in (chart.content.decode(), tab.content.decode(), api.content.decode()):
            assert f"ZZ{LAST_NAMES[i]}" in page  # the participant's own part is there
            assert page.count('data-note="') in (0, 1)
            for name in others:
                assert name not in page, f"{name} leaked into {patient.legal_first_name}'s chart"
        assert sum(f"ZZ{LAST_NAMES[i]}" in n["sections"].get("behavior", "") for n in body) == 1


def test_the_chart_tab_costs_the_same_queries_for_one_note_or_many(client, clinic):
    _session, _gn, episodes = _ready_group(clinic, 2)
    patient = episodes[0].patient
    client.force_login(clinic.clinician)
    url = reverse("patients:chart_tab", args=[patient.public_id, "notes"])
    with CaptureQueriesContext(connection) as one:
        assert client.get(url, **HTMX).status_code == 200
    for days in (2, 3, 4):
        other = group_session(clinic.mh, days_ago=days, facilitators=(clinic.clinician,))
        attend(other, episodes[0], clinic.frontdesk)
        group_actions.do_start_group_note(other, acting_user=clinic.clinician)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url, **HTMX).status_code == 200
    assert ProgressNote.objects.filter(patient=patient).count() == 4
    assert len(many) == len(one)


def test_the_name_guard_warns_and_needs_confirmation(client, clinic):
    session, gn, episodes = _ready_group(clinic, 3)
    part = gn.parts.get(patient=episodes[0].patient)
    other = episodes[1].patient
    with pytest.raises(ValidationError) as exc:
        group_actions.do_save_part(
            part, acting_user=clinic.clinician, response=f"Supported {other.legal_first_name} today."
        )
    assert "confirm_names" in exc.value.message_dict and other.legal_first_name in str(exc.value)
    # Case-insensitive, whole words only: "Blakeley" is not "Blake".
    with pytest.raises(ValidationError):
        group_actions.do_save_part(
            part, acting_user=clinic.clinician, response=f"talked with {other.legal_last_name.upper()}"
        )
    group_actions.do_save_part(
        part, acting_user=clinic.clinician, response=f"Read about {other.legal_first_name}ley Street."
    )
    # The page shows the warning and keeps the text; confirming saves it.
    client.force_login(clinic.clinician)
    url = reverse("notes:group_part", args=[session.public_id, part.public_id])
    prefix = f"p{part.public_id.hex[:12]}"
    typed = f"Spoke over {other.legal_first_name} twice."
    response = client.post(url, {f"{prefix}-response": typed, f"{prefix}-behavior": "Engaged."})
    page = response.content.decode()
    assert response.status_code == 422 and "data-name-guard" in page and "names another group member" in page
    assert typed in page
    part.refresh_from_db()
    assert part.response != typed
    confirmed = client.post(url, {f"{prefix}-response": typed, f"{prefix}-confirm_names": "on"})
    assert confirmed.status_code == 302
    part.refresh_from_db()
    assert part.response == typed


def test_the_guard_ignores_a_name_the_participant_shares(clinic):
    session = group_session(clinic.mh, facilitators=(clinic.clinician,))
    a = admit(clinic, "Alex", program=clinic.mh, legal_last_name="Moreno")
    b = admit(clinic, "Alex", program=clinic.mh, legal_last_name="Chen")
    for episode in (a, b):
        attend(session, episode, clinic.frontdesk)
    gn = group_actions.do_start_group_note(session, acting_user=clinic.clinician)
    part = gn.parts.get(patient=a.patient)
    group_actions.do_save_part(part, acting_user=clinic.clinician, response="Alex described the week.")
    with pytest.raises(ValidationError):
        group_actions.do_save_part(part, acting_user=clinic.clinician, response="Alex answered Chen.")


def test_the_shared_part_is_guarded_against_every_participant(clinic):
    _session, gn, episodes = _ready_group(clinic, 2)
    name = episodes[0].patient.legal_first_name
    with pytest.raises(ValidationError) as exc:
        group_actions.do_save_group_note(gn, acting_user=clinic.clinician, interventions=f"Role play led by {name}.")
    assert "confirm_names" in exc.value.message_dict


def test_co_facilitators_both_sign_before_it_locks(clinic):
    _session, gn, _ = _ready_group(clinic, 2)
    group_actions.do_sign_group_note(gn, acting_user=clinic.clinician)
    gn.refresh_from_db()
    assert not gn.is_locked
    assert not ProgressNote.objects.filter(group_note=gn).exclude(status="draft").exists()
    with pytest.raises(ValidationError, match="signed this group note already"):
        group_actions.do_sign_group_note(gn, acting_user=clinic.clinician)
    with pytest.raises(ValidationError, match="sign it as it is"):
        group_actions.do_save_group_note(gn, acting_user=clinic.director, interventions="Changed after a signature.")
    with pytest.raises(ValidationError, match="facilitators"):
        group_actions.do_sign_group_note(gn, acting_user=clinic.intern)
    group_actions.do_sign_group_note(gn, acting_user=clinic.director)
    gn.refresh_from_db()
    assert gn.is_locked and gn.signatures.count() == 2
    assert set(ProgressNote.objects.filter(group_note=gn).values_list("author_credentials", flat=True)) == {"LCSW"}


def test_signing_names_the_parts_still_missing_fields(clinic):
    session = group_session(clinic.mh, facilitators=(clinic.clinician,))
    participants(clinic, session, 2)
    gn = group_actions.do_start_group_note(session, acting_user=clinic.clinician)
    with pytest.raises(ValidationError) as exc:
        group_actions.do_sign_group_note(gn, acting_user=clinic.clinician)
    assert {"topic", "interventions", "parts"} <= set(exc.value.message_dict)


def test_a_late_check_in_after_the_lock_becomes_an_addendum_part(client, clinic):
    session, gn, _episodes = _ready_group(clinic, 2, facilitators=(clinic.clinician,))
    group_actions.do_sign_group_note(gn, acting_user=clinic.clinician)
    locked = {p.pk: (p.status, p.behavior) for p in gn.parts.all()}
    late = admit(clinic, "Latecomer", program=clinic.mh, legal_last_name="Quinn")
    from openiop.testing.notes import active_plan, diagnose

    active_plan(late, clinic.clinician)
    diagnose(late, clinic.clinician, "F41.1")
    attend(session, late, clinic.frontdesk)
    added = gn.parts.get(patient=late.patient)
    assert added.is_late_addition and added.status == "draft"
    assert {p.pk: (p.status, p.behavior) for p in gn.parts.exclude(pk=added.pk)} == locked  # nothing lost
    gn.refresh_from_db()
    assert gn.group_size == 2  # counted at lock; the late part says so itself
    _write(added, clinic.clinician, "Latecomer")
    actions.do_sign_note(added, acting_user=clinic.clinician)
    added.refresh_from_db()
    assert added.status == "signed"
    client.force_login(clinic.clinician)
    body = client.get(f"/api/v1/patients/{late.patient.public_id}/notes").json()
    assert body[0]["is_late_addition"] and LAST_NAMES[0] not in str(body)


def test_an_all_supervised_team_waits_for_co_signature(clinic):
    _session, gn, _ = _ready_group(clinic, 1, facilitators=(clinic.intern,))
    part = gn.parts.get()
    _write(part, clinic.intern, "Avery ZZAbbott")
    group_actions.do_sign_group_note(gn, acting_user=clinic.intern)
    part.refresh_from_db()
    assert part.status == "awaiting_cosign"
    actions.do_cosign_note(part, acting_user=clinic.clinician)
    part.refresh_from_db()
    assert part.status == "signed" and part.cosigned_by == clinic.clinician


@pytest.mark.parametrize(
    ("who", "expected"),
    [("clinician", 200), ("director", 200), ("auditor", 200), ("frontdesk", 403), ("billing", 403),
     ("sysadmin", 403), ("outsider", 404), ("stranger", 404)],
)  # fmt: skip
def test_who_may_open_the_group_note(client, clinic, who, expected):
    session, _gn, _ = _ready_group(clinic, 2)
    client.force_login(getattr(clinic, who))
    assert client.get(reverse("notes:group", args=[session.public_id])).status_code == expected
    assert client.get(f"/api/v1/sessions/{session.public_id}/group-note").status_code == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [("clinician", 302), ("auditor", 403), ("frontdesk", 403), ("outsider", 404), ("stranger", 404)],
)
def test_who_may_write_a_part(client, clinic, who, expected):
    session, gn, episodes = _ready_group(clinic, 2)
    part = gn.parts.get(patient=episodes[0].patient)
    prefix = f"p{part.public_id.hex[:12]}"
    client.force_login(getattr(clinic, who))
    url = reverse("notes:group_part", args=[session.public_id, part.public_id])
    assert client.post(url, {f"{prefix}-response": "Better today."}).status_code == expected
    api = client.put(
        f"/api/v1/sessions/{session.public_id}/group-note/parts/{part.patient.public_id}",
        {"response": "Better today."},
        content_type="application/json",
    )
    assert api.status_code == (200 if expected == 302 else expected)


def test_the_group_page_costs_the_same_queries_for_3_or_10(client, clinic):
    counts = []
    for size in (3, 10):
        session, _gn, _ = _ready_group(clinic, size)
        client.force_login(clinic.clinician)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("notes:group", args=[session.public_id])).status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1]
    assert AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED, object_type="groupnote").exists()


def test_the_api_names_the_guarded_field(client, clinic):
    session, _gn, episodes = _ready_group(clinic, 2)
    client.force_login(clinic.clinician)
    other = FIRST_NAMES[1]
    response = client.put(
        f"/api/v1/sessions/{session.public_id}/group-note/parts/{episodes[0].patient.public_id}",
        {"response": f"Paired with {other}."},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "confirm_names" in {e["field"] for e in response.json()["errors"]}
