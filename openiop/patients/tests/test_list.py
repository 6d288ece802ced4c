from __future__ import annotations

import json
import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.accounts.actions import do_update_staff
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_change_episode_status, do_open_episode, do_set_patient_active
from openiop.patients.models import EpisodeOfCare
from openiop.patients.queries import caseload_for, list_patients, search_patients
from openiop.patients.tests.helpers import HTMX
from openiop.testing.fixtures import make_patient

LIST = "/patients/"


def _names(response) -> str:
    return response.content.decode()


@pytest.fixture
def people(clinic):
    """A few patients with distinct names; Rivera is the admitted one from make_patient's defaults."""
    return {
        "rivera": make_patient(clinic),
        "cruz": make_patient(
            clinic,
            legal_first_name="Maria",
            legal_middle_name="Elena",
            legal_last_name="de la Cruz",
            date_of_birth=date(1978, 1, 5),
            admit=False,
        ),
        "smith": make_patient(
            clinic,
            legal_first_name="Alexander",
            legal_last_name="Smith-Jones",
            preferred_name="Sasha",
            date_of_birth=date(2001, 12, 24),
        ),
        "su": make_patient(
            clinic, clinic.su, legal_first_name="Casey", legal_last_name="Nguyen", date_of_birth=date(1969, 3, 3)
        ),
    }


def test_the_list_route_is_where_the_menu_points():
    assert reverse("patients:list") == LIST


def _search(user, q="", dob=None):
    return set(search_patients(user, q, dob).values_list("legal_last_name", flat=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("rivera", {"Rivera"}),
        ("RIV", {"Rivera"}),
        ("jordan", {"Rivera"}),
        ("jordan rivera", {"Rivera"}),
        ("rivera, jordan", {"Rivera"}),
        ("elena", {"de la Cruz"}),  # middle name
        ("cruz", {"de la Cruz"}),  # a later word of the last name
        ("jones", {"Smith-Jones"}),  # after a hyphen
        ("sasha", {"Smith-Jones"}),  # preferred name
        ("sasha smith", {"Smith-Jones"}),
        ("ordan", set()),  # names match from the start of a word, not the middle
        ("jordan smith", set()),  # every word must match
    ],
)
def test_search_by_any_part_of_the_name(clinic, people, query, expected):
    assert _search(clinic.director, query) == expected


def test_search_by_mrn_ignores_case(clinic, people):
    mrn = people["cruz"].mrn
    assert _search(clinic.director, mrn.lower()) == {"de la Cruz"}


@pytest.mark.parametrize("typed", ["1978-01-05", "1/5/1978", "01/05/1978", "1-5-1978"])
def test_search_by_date_of_birth_typed_in_the_box(clinic, people, typed):
    assert _search(clinic.director, typed) == {"de la Cruz"}


def test_search_by_date_of_birth_field(clinic, people):
    assert _search(clinic.director, "", date(2001, 12, 24)) == {"Smith-Jones"}


def test_an_impossible_date_is_treated_as_a_name(clinic, people):
    assert _search(clinic.director, "2/30/1990") == set()


def test_search_only_finds_patients_in_the_users_programs(clinic, people):
    assert _search(clinic.clinician, "casey") == set()
    assert _search(clinic.director, "casey") == {"Nguyen"}
    assert _search(clinic.outsider, "rivera") == set()
    assert _search(clinic.stranger, "rivera") == set()


def test_list_page_searches_by_name_mrn_and_date_of_birth(client, clinic, people):
    login(client, clinic.director)
    assert "Smith-Jones" in _names(client.post(LIST, {"q": "sasha"}, follow=True))
    assert "Rivera" not in _names(client.post(LIST, {"q": "sasha"}, follow=True))
    assert "de la Cruz" in _names(client.post(LIST, {"q": people["cruz"].mrn}, follow=True))
    by_dob = _names(client.post(LIST, {"dob": "1969-03-03"}, follow=True))
    assert "Nguyen" in by_dob
    assert "Rivera" not in by_dob


def test_live_search_returns_only_the_table_fragment(client, clinic, people):
    login(client, clinic.director)
    response = client.post(LIST, {"q": "rivera"}, **HTMX)
    body = _names(response)
    assert response.status_code == 200
    assert "<html" not in body
    assert "<table" in body
    assert 'id="result-count"' in body and 'hx-swap-oob="true"' in body
    assert "Rivera" in body and "Nguyen" not in body


def test_a_history_restore_gets_the_whole_page(client, clinic, people):
    login(client, clinic.director)
    response = client.get(LIST, **HTMX, HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in _names(response)


def test_full_page_has_the_live_search_wiring(client, clinic):
    login(client, clinic.clinician)
    body = _names(client.get(LIST))
    assert 'hx-post="/patients/"' in body
    assert 'method="post"' in body and "csrfmiddlewaretoken" in body
    assert "delay:300ms" in body
    assert 'hx-target="#patient-results"' in body
    assert '<label class="form-label" for="id_q">' in body


def test_rows_show_demographics_program_track_status_and_clinician(client, clinic, people):
    login(client, clinic.director)
    body = _names(client.post(LIST, {"q": "smith"}, follow=True))
    for text in (
        "Smith-Jones, Alexander",
        "Sasha",
        "Dec 24, 2001",
        people["smith"].mrn,
        "Adult Mental Health IOP",
        "Day track",
        "Active",
        "Clinician Tester, LCSW",
    ):
        assert text in body


def test_a_patient_without_an_episode_shows_the_registration_program(client, clinic, people):
    login(client, clinic.director)
    body = _names(client.post(LIST, {"q": "cruz"}, follow=True))
    assert "No episode" in body
    assert "Registered in Adult Mental Health IOP" in body


def test_program_filter_offers_only_the_users_programs(client, clinic):
    login(client, clinic.clinician)
    body = _names(client.get(LIST))
    assert clinic.mh.name in body
    assert clinic.su.name not in body
    assert clinic.teen.name not in body


def test_program_filter_limits_rows(client, clinic, people):
    login(client, clinic.director)
    body = _names(client.post(LIST, {"program": str(clinic.su.public_id)}, follow=True))
    assert "Nguyen" in body
    assert "Rivera" not in body


def test_filtering_by_someone_elses_program_is_rejected(client, clinic, people):
    login(client, clinic.clinician)
    response = client.post(LIST, {"program": str(clinic.su.public_id)}, follow=True)
    assert "Select a valid choice" in _names(response)
    assert "Nguyen" not in _names(response)


def test_status_filter_matches_the_status_shown(clinic, people):
    director = clinic.director
    waitlisted = make_patient(clinic, legal_first_name="Wren", legal_last_name="Wait", admit=False)
    do_open_episode(waitlisted, acting_user=None, program=clinic.mh, status=EpisodeOfCare.Status.WAITLIST)
    held = make_patient(clinic, legal_first_name="Hal", legal_last_name="Hold")
    do_change_episode_status(held.episodes.get(), acting_user=director, status="on_hold", on_date=date(2026, 11, 3))
    gone = make_patient(clinic, legal_first_name="Dee", legal_last_name="Gone")
    do_change_episode_status(
        gone.episodes.get(), acting_user=director, status="discharged", on_date=date(2026, 11, 10), discharge_reason="1"
    )

    def last_names(status):
        return set(list_patients(director, status=status).values_list("legal_last_name", flat=True))

    assert last_names("active") == {"Rivera", "Smith-Jones", "Nguyen"}
    assert last_names("on_hold") == {"Hold"}
    assert last_names("waitlist") == {"Wait"}
    assert last_names("discharged") == {"Gone"}
    assert last_names("none") == {"de la Cruz"}


def test_a_readmitted_patient_counts_as_active_not_discharged(clinic):
    patient = make_patient(clinic)
    do_change_episode_status(
        patient.episodes.get(),
        acting_user=clinic.director,
        status="discharged",
        on_date=date(2026, 11, 10),
        discharge_reason="2",
    )
    do_open_episode(patient, acting_user=None, program=clinic.mh, admitted_on=date(2026, 11, 20))
    assert list(list_patients(clinic.director, status="discharged")) == []
    assert list(list_patients(clinic.director, status="active")) == [patient]


def test_inactive_records_are_hidden_unless_asked_for(client, clinic, people):
    do_set_patient_active(people["cruz"], acting_user=clinic.director, active=False, reason="Duplicate")
    login(client, clinic.director)
    assert "de la Cruz" not in _names(client.get(LIST))
    body = _names(client.post(LIST, {"inactive": "on"}, follow=True))
    assert "de la Cruz" in body
    assert "Inactive record" in body


def test_an_episode_in_a_program_the_user_is_not_in_is_not_shown(client, clinic):
    # Registered in MH (so the clinician sees them), treated in substance use (which the clinician must not learn).
    patient = make_patient(clinic, legal_first_name="Pat", legal_last_name="Private", admit=False)
    do_open_episode(patient, acting_user=None, program=clinic.su, admitted_on=date(2026, 11, 2))
    login(client, clinic.clinician)
    body = _names(client.post(LIST, {"q": "private"}, follow=True))
    assert "Private" in body
    assert clinic.su.name not in body
    assert "No episode" in body


def test_list_is_paginated_and_a_search_is_posted_and_paged_by_a_token(client, clinic):
    for i in range(27):
        make_patient(clinic, legal_first_name=f"P{i:02d}", legal_last_name="Many", admit=False)
    make_patient(clinic, legal_first_name="Other", legal_last_name="Person", admit=False)
    login(client, clinic.director)
    first = _names(client.get(LIST))
    assert "28 patients" in first
    assert "page 1 of 2" in first
    assert "P26" not in first
    assert 'href="/patients/?page=2"' in first
    second = _names(client.get(LIST, {"page": 2}))
    assert "P26" in second
    # The search is posted; its pages carry only the token that names it in this session.
    response = client.post(LIST, {"q": "many"})
    assert response.status_code == 302
    search_url = response["Location"]
    assert search_url.startswith("/patients/?s=") and "many" not in search_url.lower()
    found = _names(client.get(search_url))
    assert "27 patients found, page 1 of 2" in found
    assert 'value="many"' in found  # the search box shows what was searched
    links = re.findall(r'hx-get="(/patients/\?s=[^"]+)"', client.post(LIST, {"q": "many"}, **HTMX).content.decode())
    assert links and all("many" not in link.lower() for link in links)
    found_second = _names(client.get(links[0].replace("&amp;", "&")))
    assert "P26" in found_second and "Person" not in found_second


def test_the_same_search_posted_again_keeps_its_token_and_writes_no_session(client, clinic, patient):
    login(client, clinic.director)
    first = client.post(LIST, {"q": "rivera"})["Location"]
    with CaptureQueriesContext(connection) as ctx:
        again = client.post(LIST, {"q": "rivera"})["Location"]
    assert again == first
    assert not [q for q in ctx.captured_queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]
    assert client.post(LIST, {"q": "jordan"})["Location"] != first  # other criteria, another token
    assert "Rivera" in _names(client.get(first))


def test_a_search_url_means_nothing_in_another_session_or_with_old_query_parameters(client, clinic, patient):
    login(client, clinic.director)
    url = client.post(LIST, {"q": "nobody"})["Location"]
    assert "Rivera" not in _names(client.get(url))
    client.logout()
    login(client, clinic.director)
    expired = _names(client.get(url))
    assert "That search has expired" in expired
    assert "Rivera" in expired  # the plain list, not the old search
    assert "Rivera" in _names(client.get(LIST, {"q": "nobody"}))  # a GET never searches


def test_listing_writes_one_audit_row_without_search_text(client, clinic, people):
    login(client, clinic.director)
    before = AuditEvent.objects.count()
    client.get(LIST)
    assert AuditEvent.objects.count() == before + 1
    row = AuditEvent.objects.latest("chain_index")
    assert row.action == AuditAction.PATIENTS_LISTED
    assert row.actor == clinic.director
    assert row.patient is None


@pytest.mark.parametrize("params", [{"q": "Rivera"}, {"dob": "1990-04-12"}, {"q": "rivera", "status": "active"}])
def test_searching_writes_one_audit_row_without_search_text(client, clinic, people, params):
    login(client, clinic.director)
    before = AuditEvent.objects.count()
    client.post(LIST, params, **HTMX)
    assert AuditEvent.objects.count() == before + 1
    row = AuditEvent.objects.latest("chain_index")
    assert row.action == AuditAction.PATIENTS_SEARCHED
    stored = json.dumps([row.object_type, row.object_id, row.changed_fields, row.actor_label, row.user_agent])
    assert "rivera" not in stored.lower()
    assert "1990" not in stored


def test_filters_alone_are_a_listing(client, clinic, people):
    login(client, clinic.director)
    client.post(LIST, {"status": "active"}, follow=True)
    assert AuditEvent.objects.latest("chain_index").action == AuditAction.PATIENTS_LISTED


def _count_list_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(LIST, params, **HTMX) if params else client.get(LIST)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_rows(client, clinic):
    for i in range(5):
        make_patient(clinic, legal_first_name=f"A{i}", legal_last_name="Few")
    login(client, clinic.director)
    client.get(LIST)  # warm the session
    one_page = _count_list_queries(client)
    for i in range(25):
        make_patient(clinic, legal_first_name=f"B{i}", legal_last_name="More")
    two_pages = _count_list_queries(client)
    for i in range(30):
        make_patient(clinic, legal_first_name=f"D{i}", legal_last_name="Most")
    assert _count_list_queries(client) == two_pages
    # A list that fits one page is counted from the page itself; a longer one needs its COUNT (page 1 of N), once.
    assert one_page == two_pages - 1
    assert client.get(LIST).content.decode().count('<th scope="row">') == 25  # a full page of rows


def test_search_query_count_does_not_grow_with_rows(client, clinic, django_assert_max_num_queries):
    for i in range(40):
        make_patient(clinic, legal_first_name=f"C{i}", legal_last_name="Same")
    login(client, clinic.director)
    client.get(LIST)
    few = _count_list_queries(client, q="c1 same")  # 11 matches: C1, C10-C19
    many = _count_list_queries(client, q="c same")  # 40 matches, 25 on the page
    assert few == many - 1  # the one-page result needs no COUNT
    assert _count_list_queries(client, q="c2 same") == few  # C2, C20-C29
    with django_assert_max_num_queries(many):
        client.post(LIST, {"q": "same", "status": "active"}, **HTMX)


def test_caseload_is_open_episodes_where_the_user_is_primary_or_on_the_team(clinic):
    from openiop.patients.actions import do_set_care_team

    mine = make_patient(clinic, legal_last_name="Mine")
    teamed = make_patient(clinic, legal_last_name="Teamed", admit=False)
    episode = do_open_episode(
        teamed, acting_user=None, program=clinic.mh, admitted_on=date(2026, 11, 2), primary_clinician=clinic.director
    )
    do_set_care_team(episode, acting_user=clinic.director, members=[(clinic.clinician, "therapist")])
    closed = make_patient(clinic, legal_last_name="Closed")
    do_change_episode_status(
        closed.episodes.get(),
        acting_user=clinic.director,
        status="discharged",
        on_date=date(2026, 11, 10),
        discharge_reason="1",
    )
    make_patient(clinic, clinic.su, legal_last_name="Elsewhere")
    caseload = list(caseload_for(clinic.clinician))
    assert [e.patient.legal_last_name for e in caseload] == ["Mine", "Teamed"]
    assert mine.episodes.get() in caseload
    assert caseload_for(clinic.frontdesk).count() == 0
    assert caseload_for(clinic.sysadmin).count() == 0


def test_caseload_leaves_out_deactivated_records_and_other_programs(clinic):
    patient = make_patient(clinic, clinic.su, admit=False)
    do_open_episode(
        patient, acting_user=None, program=clinic.su, admitted_on=date(2026, 11, 2), primary_clinician=clinic.director
    )
    assert list(caseload_for(clinic.director)) == [patient.episodes.get()]
    # The director leaves the substance-use program: the episode is no longer theirs to see.
    do_update_staff(clinic.director, acting_user=clinic.sysadmin, programs=[clinic.mh])
    clinic.director._openiop_program_ids = None  # the per-request cache
    assert list(caseload_for(clinic.director)) == []
