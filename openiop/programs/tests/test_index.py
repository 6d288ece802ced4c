"""The administration overview: organization, sites, programs with their tracks and dose."""

from __future__ import annotations

import re
from datetime import time

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.conftest import login
from openiop.programs.actions import do_create_program, do_create_track, do_set_track_active
from openiop.programs.tests.pages import table_row

INDEX = reverse("programs:index")


def test_sysadmin_sees_the_whole_organization(client, clinic):
    page = login(client, clinic.sysadmin).get(INDEX).content.decode()
    assert "Riverside Recovery" in page
    for name in ("Adult Mental Health IOP", "Adult Substance Use IOP", "Adolescent IOP", "Riverside", "Hillcrest"):
        assert name in page
    assert "Elsewhere" not in page
    assert reverse("programs:program_create") in page
    assert reverse("programs:organization_edit") in page


def test_program_rows_show_settings_tracks_and_dose(client, clinic):
    do_create_track(
        acting_user=None,
        program=clinic.mh,
        name="Short",
        weekdays=[5],
        start_time=time(9),
        end_time=time(12),
    )
    page = login(client, clinic.sysadmin).get(INDEX).content.decode()
    row = table_row(page, "Adult Mental Health IOP")
    cells = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
    assert cells[1:7] == ["Adult", "Mental health", "9", "12", "12", "America/New_York"]
    assert "Mon/Wed/Fri 09:00-12:00 · 9 h/week" in row
    assert row.count("Meets dose") == 2
    assert "Sat 09:00-12:00 · 3 h/week" in row
    assert "Below dose (9 h)" in row
    teen = table_row(page, "Adolescent IOP")
    assert "Adolescent" in teen and ">6<" in teen and "America/Chicago" in teen
    assert "No active tracks" in teen


def test_inactive_tracks_are_left_out(client, clinic):
    do_set_track_active(clinic.evening, acting_user=clinic.sysadmin, active=False)
    row = table_row(login(client, clinic.sysadmin).get(INDEX).content.decode(), "Adult Mental Health IOP")
    assert "Evening" not in row


def test_director_sees_own_programs_only_and_no_organization_buttons(client, clinic):
    page = login(client, clinic.director).get(INDEX).content.decode()
    assert "Adult Mental Health IOP" in page and "Adult Substance Use IOP" in page
    assert "Adolescent IOP" not in page
    assert reverse("programs:program_create") not in page
    assert reverse("programs:organization_edit") not in page
    assert reverse("programs:staff_list") not in page


def test_auditor_sees_everything_without_buttons(client, clinic):
    page = login(client, clinic.auditor).get(INDEX).content.decode()
    assert "Adolescent IOP" in page
    assert reverse("programs:program_create") not in page
    assert reverse("programs:staff_list") in page


def test_staff_count_counts_active_accounts_of_the_organization(client, clinic):
    response = login(client, clinic.sysadmin).get(INDEX)
    assert response.context["staff_active"] == 9  # the clinic's nine named people; the stranger is elsewhere


def test_query_count_does_not_grow_with_programs_and_tracks(client, clinic):
    login(client, clinic.sysadmin)
    with CaptureQueriesContext(connection) as few:
        client.get(INDEX)
    for n in range(4):
        program = do_create_program(acting_user=None, site=clinic.site, name=f"Extra {n}")
        for m in range(3):
            do_create_track(
                acting_user=None,
                program=program,
                name=f"Track {m}",
                weekdays=[0, 2, 4],
                start_time=time(9 + m),
                end_time=time(10 + m),
            )
    with CaptureQueriesContext(connection) as many:
        response = client.get(INDEX)
    assert "Extra 3" in response.content.decode()
    assert len(many) == len(few)
