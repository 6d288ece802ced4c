"""The patient-facing pages: the token link (no account) and the clinic tablet hand-over."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.measures import actions
from openiop.measures.models import Administration, AdministrationLink, SafetyAlert
from openiop.testing.fixtures import make_patient
from openiop.testing.measures import phq9, start

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def linked(clinic, patient):
    administration = start(patient, clinic.clinician, "phq9")
    link, token = actions.do_create_link(administration, acting_user=clinic.clinician)
    return administration, link, token


def _same(response) -> bytes:
    """The page without its CSRF token, which is masked differently on every response."""
    return re.sub(rb'"X-CSRFToken": "[^"]+"', b"", response.content)


def _page(client, token: str):
    return client.get(reverse("measures_public:form", args=[token]))


def test_the_link_shows_the_questionnaire_and_nothing_identifying(client, clinic, patient, linked):
    _administration, _, token = linked
    response = _page(client, token)
    html = response.content.decode()
    assert response.status_code == 200
    assert "PHQ-9" in html and "Little interest or pleasure in doing things" in html
    for secret in (patient.legal_first_name, patient.legal_last_name, patient.mrn, clinic.mh.name, "Tester"):
        assert secret not in html
    assert "no-store" in response["Cache-Control"] and "noindex" in response["X-Robots-Tag"]
    assert 'id="crisis"' in html and "hidden" in html.split('id="crisis"')[1].split(">")[0]


def test_expired_used_revoked_and_unknown_tokens_answer_the_same_404(client, clinic, patient, linked):
    administration, _link, token = linked
    unknown = _page(client, "x" * 43)
    assert unknown.status_code == 404
    expired_admin = start(patient, clinic.clinician, "gad7")
    _, expired = actions.do_create_link(expired_admin, acting_user=clinic.clinician, hours=1)
    AdministrationLink.objects.filter(administration=expired_admin).update(expires_at=timezone.now() - timedelta(1))
    revoked_admin = start(patient, clinic.clinician, "gad7")
    _, revoked = actions.do_create_link(revoked_admin, acting_user=clinic.clinician)
    actions.do_create_link(revoked_admin, acting_user=clinic.clinician)  # replaces it
    actions.do_complete(administration, acting_user=None, channel="link", answers=phq9(2))  # uses `token` up
    pages = [_page(client, t) for t in (expired, revoked, token)]
    for page in pages:
        assert page.status_code == 404
        assert _same(page) == _same(unknown)
    for t in ("x" * 43, token):  # the answer and submit endpoints too
        assert _same(client.post(reverse("measures_public:answer", args=[t]), {"phq9_1": "1"})) == _same(unknown)
        assert client.post(reverse("measures_public:submit", args=[t]), {}).status_code == 404


def test_a_token_reaches_only_its_own_administration(client, clinic, patient, linked):
    administration, _, token = linked
    other = start(make_patient(clinic, legal_first_name="Other", legal_last_name="Person"), clinic.clinician, "phq9")
    client.post(reverse("measures_public:answer", args=[token]), {"phq9_1": "2", "administration": other.public_id})
    other.refresh_from_db()
    administration.refresh_from_db()
    assert other.answers == {} and administration.answers == {"phq9_1": 2}
    # Staff pages stay closed to the anonymous link holder.
    response = client.get(reverse("measures:enter", args=[other.public_id]))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_each_answer_is_saved_and_a_critical_one_shows_crisis_resources_at_once(client, clinic, patient, linked):
    administration, _, token = linked
    answer = reverse("measures_public:answer", args=[token])
    html = client.post(answer, {"phq9_1": "1"}, **HTMX).content.decode()
    assert "1 of 9 answered" in html and 'hidden hx-swap-oob="true"' in html.replace("\n", " ").replace("  ", " ")
    html = client.post(answer, {"phq9_1": "1", "phq9_9": "2"}, **HTMX).content.decode()
    crisis = html.split('id="crisis"')[1].split(">")[0]
    assert "hidden" not in crisis and "988" in html and "911" in html and clinic.org.phone in html
    administration.refresh_from_db()
    assert administration.answers == {"phq9_1": 1, "phq9_9": 2}
    assert SafetyAlert.objects.filter(administration=administration).count() == 1
    # Reloading the page later: the answers and the crisis panel are still there.
    html = _page(client, token).content.decode()
    assert re.search(r'id="phq9_9-2" value="2"\s+autocomplete="off" checked', html)
    assert "hidden" not in html.split('id="crisis"')[1].split(">")[0]


def test_the_options_of_a_critical_item_are_marked_for_the_instant_crisis_panel(client, linked):
    html = _page(client, linked[2]).content.decode()
    assert re.search(r'id="phq9_9-0" value="0"\s+autocomplete="off">', html)
    assert html.count("data-critical") == 3  # item 9: several days, more than half, nearly every day


def test_submitting_scores_it_and_says_thank_you(client, clinic, linked):
    administration, _link, token = linked
    submit = reverse("measures_public:submit", args=[token])
    response = client.post(submit, {"phq9_1": "1"})
    assert response.status_code == 200 and "not answered" in response.content.decode()
    response = client.post(submit, {**phq9(8), "confirm_missing": "1"})
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    administration.refresh_from_db()
    assert administration.status == "completed" and administration.channel == "link" and administration.total == 8
    assert administration.entered_by is None
    assert _page(client, token).status_code == 404


def test_the_tablet_signs_staff_out_and_shows_only_this_patients_questionnaires(client, clinic, patient):
    first = start(patient, clinic.clinician, "phq9")
    second = start(patient, clinic.clinician, "gad7")
    someone_else = start(make_patient(clinic, legal_first_name="Not", legal_last_name="Them"), clinic.clinician)
    login(client, clinic.clinician)
    response = client.post(reverse("measures:start_tablet", args=[patient.public_id]))
    assert response.url == reverse("measures_public:tablet")
    assert client.get("/patients/").status_code == 302  # signed out: staff pages need a login again
    html = client.get(reverse("measures_public:tablet")).content.decode()
    assert "PHQ-9" in html and patient.legal_last_name not in html and "clinic tablet" in html
    client.post(reverse("measures_public:tablet_submit"), phq9(4))
    html = client.get(reverse("measures_public:tablet")).content.decode()
    assert "GAD-7" in html
    response = client.post(reverse("measures_public:tablet_submit"), {f"gad7_{n}": "1" for n in range(1, 8)})
    assert response.url == reverse("measures_public:tablet_done")
    html = client.get(response.url).content.decode()
    assert "hand the tablet back" in html and "Staff: sign in" in html
    for a in (first, second):
        a.refresh_from_db()
        assert a.status == "completed" and a.channel == Administration.Channel.TABLET
    someone_else.refresh_from_db()
    assert someone_else.status == "due"
    # After the hand-back the tablet URL opens nothing but the locked screen.
    assert client.get(reverse("measures_public:tablet")).url == reverse("measures_public:tablet_done")
    assert client.post(reverse("measures_public:tablet_unlock")).url == reverse("accounts:login")


def test_a_critical_answer_on_the_tablet_ends_on_the_crisis_screen(client, clinic, patient):
    start(patient, clinic.clinician, "phq9")
    login(client, clinic.clinician)
    client.post(reverse("measures:start_tablet", args=[patient.public_id]))
    client.post(reverse("measures_public:tablet_submit"), phq9(3, item9=1))
    html = client.get(reverse("measures_public:tablet_done")).content.decode()
    assert "hidden" not in html.split('id="crisis"')[1].split(">")[0] and "988" in html


def test_an_answer_redraws_only_the_items_skip_logic_shows_or_hides(client, clinic, patient):
    """A tap made while an earlier save is in flight must never be undone by that save's response."""
    from openiop.measures.schedules import CSSRS

    a = start(patient, clinic.clinician, CSSRS)
    _, token = actions.do_create_link(a, acting_user=clinic.clinician)
    answer = reverse("measures_public:answer", args=[token])
    shown = [f"{CSSRS}_1", f"{CSSRS}_2", f"{CSSRS}_6"]
    html = client.post(answer, {f"{CSSRS}_1": "1", "shown": shown}, **HTMX).content.decode()
    assert "<fieldset" not in html and 'id="item-' not in html  # nothing to redraw
    html = client.post(answer, {f"{CSSRS}_2": "1", "shown": shown}, **HTMX).content.decode()
    assert sorted(re.findall(r'<fieldset[^>]*id="item-([a-z0-9_]+)"', html)) == [f"{CSSRS}_{n}" for n in (3, 4, 5)]
    assert 'hx-swap-oob="true"' in html
    html = client.post(answer, {f"{CSSRS}_2": "0", "shown": [*shown, *[f"{CSSRS}_{n}" for n in (3, 4, 5)]]},
                       **HTMX).content.decode()  # fmt: skip
    assert sorted(re.findall(r'<div id="item-([a-z0-9_]+)" class="mq-item-skipped" hidden', html)) == [
        f"{CSSRS}_{n}" for n in (3, 4, 5)
    ]
