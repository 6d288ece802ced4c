"""The program's drug-testing setup page (``MANAGE_PROGRAMS``): the schedule and the panel saved together through
the actions (audited), what was typed kept on a 422 with the field named, the latest draw's seed shown read-only,
and the link from the testing report."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from openiop.core.models import AuditAction, AuditEvent
from openiop.labs import actions
from openiop.labs.models import Panel, SchedulePick, TestingSchedule
from openiop.labs.tests.support import su_clinician

RANDOM = {"is_active": "on", "mode": "random", "percent": "30", "kind": "cup", "analytes": ["BUP", "FTY", "ETG"]}


def _ticked(page: str, name: str, value: str) -> bool:
    box = re.search(rf'<input type="(?:checkbox|radio)" name="{name}" value="{value}"[^>]*>', page)
    assert box is not None, f"no {name} {value} box"
    return " checked" in box.group(0)


def _url(clinic):
    return reverse("labs:setup", args=[clinic.su.public_id])


@pytest.mark.parametrize(("who", "status"), [("director", 200), ("sysadmin", 200), ("counselor", 403),
                                             ("clinician", 403), ("frontdesk", 403), ("stranger", 404)])  # fmt: skip
def test_the_setup_page_access(client, clinic, who, status):
    su_clinician(clinic)
    client.force_login(clinic.people[who])
    assert client.get(_url(clinic)).status_code == status
    assert client.post(_url(clinic), RANDOM).status_code in {status, 302}
    assert TestingSchedule.objects.exists() is (status == 200)


def test_a_random_schedule_and_its_panel_save_together_and_are_audited(client, clinic):
    client.force_login(clinic.director)
    page = client.get(_url(clinic)).content.decode()
    # No panel yet: every analyte of the default panel is offered ticked, the schedule off.
    assert _ticked(page, "analytes", "BAC") and 'id="id_is_active" checked' not in page
    assert client.post(_url(clinic), RANDOM).status_code == 302
    schedule = TestingSchedule.objects.get(program=clinic.su)
    assert (schedule.mode, schedule.percent, schedule.weekdays, schedule.is_active) == ("random", 30, [], True)
    assert Panel.objects.get(program=clinic.su).analytes == ["BUP", "FTY", "ETG"]
    changed = AuditEvent.objects.filter(action=AuditAction.CONFIG_CHANGED, actor=clinic.director)
    assert sorted(changed.values_list("object_type", flat=True)) == ["panel", "testingschedule"]
    fixed = {**RANDOM, "mode": "fixed", "percent": "", "weekdays": ["0", "3"], "is_active": ""}
    assert client.post(_url(clinic), fixed).status_code == 302
    schedule.refresh_from_db()
    assert (schedule.mode, schedule.weekdays, schedule.is_active) == ("fixed", [0, 3], False)
    page = client.get(_url(clinic)).content.decode()
    assert _ticked(page, "weekdays", "3") and not _ticked(page, "weekdays", "2") and _ticked(page, "mode", "fixed")
    assert _ticked(page, "analytes", "ETG") and not _ticked(page, "analytes", "AMP")


@pytest.mark.parametrize(("posted", "field"), [
    ({**RANDOM, "percent": ""}, "percent"),
    ({**RANDOM, "percent": "140"}, "percent"),
    ({**RANDOM, "mode": "fixed", "weekdays": []}, "weekdays"),
    ({**RANDOM, "analytes": []}, "analytes"),
    ({**RANDOM, "analytes": ["XYZ"]}, "analytes"),
    ({**RANDOM, "mode": "sometimes"}, "mode"),
])  # fmt: skip
def test_bad_input_is_a_422_naming_the_field_keeping_what_was_typed(client, clinic, posted, field):
    client.force_login(clinic.director)
    response = client.post(_url(clinic), {**posted, "kind": "lab"})
    assert response.status_code == 422
    page = response.content.decode()
    assert f"id_{field}_error" in page
    assert '<option value="lab" selected>' in page  # what was typed is kept, not the defaults
    assert not _ticked(page, "analytes", "AMP")
    assert not TestingSchedule.objects.exists() and not Panel.objects.exists()


def test_the_latest_draws_seed_is_shown_and_cannot_be_posted(client, clinic):
    schedule = actions.do_set_schedule(clinic.su, acting_user=clinic.director, mode="random", percent=25,
                                       weekdays=[], kind="cup", is_active=True)  # fmt: skip
    SchedulePick.objects.create(schedule=schedule, day=date(2026, 11, 30), seed=918273645, percent=25)
    client.force_login(clinic.director)
    page = client.get(_url(clinic)).content.decode()
    assert "918273645" in page and 'name="seed"' not in page
    assert client.post(_url(clinic), {**RANDOM, "seed": "1"}).status_code == 302
    assert SchedulePick.objects.get().seed == 918273645


def test_the_report_links_to_the_setup_for_those_who_manage_the_program(client, clinic):
    report = reverse("labs:report", args=[clinic.su.public_id])
    client.force_login(clinic.director)
    assert _url(clinic) in client.get(report).content.decode()
    client.force_login(su_clinician(clinic))
    page = client.get(report)
    assert page.status_code == 200 and _url(clinic) not in page.content.decode()
