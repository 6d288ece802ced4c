"""Two co-facilitators document a group session in a real headless Chromium: the group note opened from the
session page, the shared part written once, two participants' parts prefilled from attendance (and with each one's
own primary diagnosis), the name guard caught and fixed, both signatures, then each chart shows its own part only.
"""

from __future__ import annotations

import pytest

from openiop.notes.models import GroupNote
from openiop.testing.browser import screenshot, sign_in
from openiop.testing.fixtures import build_clinic
from openiop.testing.notes import group_session, participants

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fill_part(page, part, *, response: str) -> None:
    prefix = f"#id_p{part.public_id.hex[:12]}"
    page.fill(f"{prefix}-behavior", "Arrived on time and joined the check-in.")
    page.fill(f"{prefix}-intervention", "Reflective listening; a thought record on a recent trigger.")
    page.fill(f"{prefix}-response", response)
    page.fill(f"{prefix}-plan", "Practice the thought record daily; review next group.")
    page.select_option(f"{prefix}-risk_level", "none")
    page.locator(f"#part-{part.public_id} input[name$='-objectives']").first.check()
    page.locator(f"#part-{part.public_id}").get_by_role("button", name="Save this part").click()


def test_co_facilitators_write_and_sign_a_group_note(page, live_server):
    clinic = build_clinic()
    session = group_session(clinic.mh, facilitators=(clinic.clinician, clinic.director))
    avery, blake = participants(clinic, session, 2)  # Avery Abbott (F33.1) and Blake Barros (F41.1)
    page.context.clear_cookies()  # each user signs in afresh in the same page
    sign_in(page, live_server, "clinician")

    page.goto(f"{live_server.url}{session.get_absolute_url()}")
    page.get_by_role("link", name="Write group note").click()
    page.get_by_role("button", name="Start the group note").click()
    page.get_by_role("heading", name="Shared part").wait_for()
    gn = GroupNote.objects.get(session=session)
    parts = {p.patient_id: p for p in gn.parts.all()}
    a, b = parts[avery.patient_id], parts[blake.patient_id]
    card = page.locator(f"#part-{a.public_id}")
    assert "present, 90 min, engaged" in card.inner_text()  # prefilled from attendance
    assert card.get_by_label("F33.1 Major depressive disorder, recurrent, moderate (primary)").is_checked()
    assert "F41.1" not in card.inner_text()  # the other participant's diagnosis is not offered on this part
    screenshot(page, "notes-01-group-note-started")

    page.get_by_label("Topic").fill("Coping with cravings")
    page.get_by_label("Interventions used with the group").fill("Psychoeducation on triggers; role play.")
    page.get_by_role("button", name="Save the shared part").click()
    page.get_by_text("Shared part saved.").wait_for()

    # Avery's part names Blake: refused, with the warning and what was typed kept.
    _fill_part(page, a, response="Paired with Blake for the role play and named one trigger.")
    warning = page.locator(f"#part-{a.public_id} [data-name-guard]")
    warning.wait_for()
    assert "Blake" in warning.inner_text()
    assert "Paired with Blake" in page.input_value(f"#id_p{a.public_id.hex[:12]}-response")
    screenshot(page, "notes-02-name-guard")
    page.fill(f"#id_p{a.public_id.hex[:12]}-response", "Paired with a peer for the role play; named one trigger.")
    page.locator(f"#part-{a.public_id}").get_by_role("button", name="Save this part").click()
    page.get_by_text("Part saved.").wait_for()
    _fill_part(page, b, response="Practised refusing a drink; felt more confident.")
    page.get_by_text("Part saved.").wait_for()

    page.get_by_role("button", name="Sign the group note").click()
    page.get_by_text("Signed; waiting for co-facilitators.").wait_for()
    screenshot(page, "notes-03-first-signature")

    page.context.clear_cookies()  # each user signs in afresh in the same page
    sign_in(page, live_server, "director")
    page.goto(f"{live_server.url}{session.get_absolute_url()}")
    page.get_by_role("link", name="Write group note").click()
    page.get_by_role("button", name="Sign the group note").click()
    page.get_by_text("Group note locked.").wait_for()
    gn.refresh_from_db()
    assert gn.is_locked and gn.group_size == 2
    screenshot(page, "notes-04-locked")

    for episode, own, other in (
        (avery, "Paired with a peer", "Practised refusing"),
        (blake, "Practised refusing", "Paired with a peer"),
    ):
        page.goto(f"{live_server.url}{episode.patient.get_absolute_url()}?tab=notes")
        tab = page.locator("[data-note]")
        assert tab.count() == 1
        text = tab.inner_text()
        assert own in text and "Coping with cravings" in text and "Group size" in text
        assert other not in text
        others = blake.patient if episode == avery else avery.patient
        assert others.legal_first_name not in text and others.legal_last_name not in text
        name = episode.patient.legal_first_name.lower()
        screenshot(page, f"notes-0{5 if name == 'avery' else 6}-chart-{name}")
