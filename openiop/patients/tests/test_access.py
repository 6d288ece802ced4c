"""Who may open what: every patient view, for a member, an insufficient role, an outsider and a stranger.

The outsider and the stranger hold the member's own role, so the 404 comes from the program/organization
scope and not from a missing capability.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import reverse

from openiop.conftest import login
from openiop.core.roles import Role
from openiop.patients.models import Patient
from openiop.patients.tests.helpers import HTMX, edit_form_data, patient_form_data


@dataclass(frozen=True)
class Ctx:
    clinic: Any
    patient: Patient
    coverage: Any
    contact: Any
    episode: Any


@dataclass(frozen=True)
class Case:
    name: str
    url: Callable[[Ctx], str]
    member: str  # username in the clinic whose role may use the view
    insufficient: str  # username whose role may not
    method: str = "get"
    data: Callable[[Ctx], dict[str, Any]] = field(default=lambda ctx: {})
    ok: int = 200
    htmx: bool = False
    scoped: bool = True  # about one patient: outsiders and strangers get 404

    @property
    def writes(self) -> bool:
        return self.name not in READ_VIEWS

    def __str__(self) -> str:
        return self.name


def _patient_url(name: str) -> Callable[[Ctx], str]:
    return lambda ctx: reverse(f"patients:{name}", args=[ctx.patient.public_id])


def _tab_url(tab: str) -> Callable[[Ctx], str]:
    return lambda ctx: reverse("patients:chart_tab", args=[ctx.patient.public_id, tab])


def _coverage_data(ctx: Ctx) -> dict[str, Any]:
    return {
        "priority": "2",
        "payer_kind": "medicaid",
        "payer_name": "State Medicaid",
        "member_id": "M-1",
        "relationship_to_subscriber": "self",
    }


def _contact_data(ctx: Ctx) -> dict[str, Any]:
    return {"name": "Lee Park", "relationship": "friend", "phone": "555-0100"}


def _episode_open_data(ctx: Ctx) -> dict[str, Any]:
    return {"program": str(ctx.clinic.su.public_id), "status": "waitlist"}


READ_VIEWS = {"list", "chart", *(f"tab_{t}" for t in ("demographics", "contacts", "insurance", "episodes", "activity"))}

CASES = [
    Case("list", lambda ctx: reverse("patients:list"), "frontdesk", "sysadmin", scoped=False),
    Case("chart", _patient_url("chart"), "frontdesk", "sysadmin"),
    *[
        Case(
            f"tab_{tab}",
            _tab_url(tab),
            "frontdesk",
            "sysadmin",
            htmx=True,
        )
        for tab in ("demographics", "contacts", "insurance", "episodes")
    ],
    Case(
        "tab_activity",
        _tab_url("activity"),
        "clinician",
        "frontdesk",
        htmx=True,
    ),
    Case("create_form", lambda ctx: reverse("patients:create"), "frontdesk", "billing", scoped=False),
    Case(
        "create",
        lambda ctx: reverse("patients:create"),
        "frontdesk",
        "billing",
        method="post",
        data=lambda ctx: patient_form_data(ctx.clinic.mh),
        ok=302,
        scoped=False,
    ),
    Case("edit_form", _patient_url("edit"), "frontdesk", "billing"),
    Case(
        "edit",
        _patient_url("edit"),
        "frontdesk",
        "billing",
        method="post",
        data=lambda ctx: edit_form_data(ctx.patient, pronouns="she/her"),
        ok=302,
    ),
    Case("deactivate_form", _patient_url("deactivate"), "frontdesk", "billing"),
    Case("reactivate", _patient_url("reactivate"), "frontdesk", "billing", method="post", ok=302),
    Case("coverage_add_form", _patient_url("coverage_add"), "billing", "clinician"),
    Case("coverage_add", _patient_url("coverage_add"), "billing", "clinician", "post", _coverage_data, 302),
    Case(
        "coverage_edit_form",
        lambda ctx: reverse("patients:coverage_edit", args=[ctx.coverage.public_id]),
        "billing",
        "clinician",
    ),
    Case(
        "coverage_edit",
        lambda ctx: reverse("patients:coverage_edit", args=[ctx.coverage.public_id]),
        "billing",
        "clinician",
        "post",
        lambda ctx: {**_coverage_data(ctx), "priority": "1"},
        302,
    ),
    Case(
        "coverage_deactivate",
        lambda ctx: reverse("patients:coverage_deactivate", args=[ctx.coverage.public_id]),
        "billing",
        "clinician",
        "post",
        ok=302,
    ),
    Case(
        "coverage_reactivate",
        lambda ctx: reverse("patients:coverage_reactivate", args=[ctx.coverage.public_id]),
        "billing",
        "clinician",
        "post",
        ok=302,
    ),
    Case("contact_add_form", _patient_url("contact_add"), "frontdesk", "billing"),
    Case("contact_add", _patient_url("contact_add"), "frontdesk", "billing", "post", _contact_data, 302),
    Case(
        "contact_edit_form",
        lambda ctx: reverse("patients:contact_edit", args=[ctx.contact.public_id]),
        "frontdesk",
        "billing",
    ),
    Case(
        "contact_edit",
        lambda ctx: reverse("patients:contact_edit", args=[ctx.contact.public_id]),
        "frontdesk",
        "billing",
        "post",
        _contact_data,
        302,
    ),
    Case(
        "contact_deactivate",
        lambda ctx: reverse("patients:contact_deactivate", args=[ctx.contact.public_id]),
        "frontdesk",
        "billing",
        "post",
        ok=302,
    ),
    Case(
        "contact_reactivate",
        lambda ctx: reverse("patients:contact_reactivate", args=[ctx.contact.public_id]),
        "frontdesk",
        "billing",
        "post",
        ok=302,
    ),
    Case("episode_open_form", _patient_url("episode_open"), "director", "frontdesk"),
    Case("episode_open", _patient_url("episode_open"), "director", "frontdesk", "post", _episode_open_data, 302),
    Case(
        "episode_program_fields",
        lambda ctx: reverse("patients:episode_program_fields") + f"?program={ctx.clinic.mh.public_id}",
        "clinician",
        "frontdesk",
        htmx=True,
    ),
    Case(
        "episode_edit_form",
        lambda ctx: reverse("patients:episode_edit", args=[ctx.episode.public_id]),
        "clinician",
        "frontdesk",
    ),
    Case(
        "episode_edit",
        lambda ctx: reverse("patients:episode_edit", args=[ctx.episode.public_id]),
        "clinician",
        "frontdesk",
        "post",
        lambda ctx: {
            "track": str(ctx.clinic.evening.public_id),
            "admitted_on": "2026-11-02",
            "primary_clinician": str(ctx.clinic.clinician.public_id),
        },
        302,
    ),
    Case(
        "episode_status_form",
        lambda ctx: reverse("patients:episode_status", args=[ctx.episode.public_id]),
        "clinician",
        "frontdesk",
    ),
    Case(
        "episode_status",
        lambda ctx: reverse("patients:episode_status", args=[ctx.episode.public_id]),
        "clinician",
        "frontdesk",
        "post",
        lambda ctx: {"status": "on_hold", "on_date": "2026-11-20"},
        302,
    ),
    Case(
        "care_team_form",
        lambda ctx: reverse("patients:episode_care_team", args=[ctx.episode.public_id]),
        "clinician",
        "frontdesk",
    ),
    Case(
        "care_team",
        lambda ctx: reverse("patients:episode_care_team", args=[ctx.episode.public_id]),
        "clinician",
        "frontdesk",
        "post",
        ok=302,
    ),
]
WRITE_CASES = [c for c in CASES if c.writes]
SCOPED_CASES = [c for c in CASES if c.scoped]


@pytest.fixture
def ctx(clinic, patient, coverage, contact, episode) -> Ctx:
    return Ctx(clinic, patient, coverage, contact, episode)


def _call(client, case: Case, ctx: Ctx):
    extra = HTMX if case.htmx else {}
    url = case.url(ctx)
    if case.method == "post":
        return client.post(url, case.data(ctx), **extra)
    return client.get(url, **extra)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_member_gets_the_page(client, ctx, case):
    login(client, getattr(ctx.clinic, case.member))
    response = _call(client, case, ctx)
    assert response.status_code == case.ok, response.content[:2000]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_insufficient_role_gets_403(client, ctx, case):
    login(client, getattr(ctx.clinic, case.insufficient))
    assert _call(client, case, ctx).status_code == 403


@pytest.mark.parametrize("case", WRITE_CASES, ids=str)
def test_auditor_gets_403_on_every_write_view(client, ctx, case):
    login(client, ctx.clinic.auditor)
    assert _call(client, case, ctx).status_code == 403


@pytest.mark.parametrize("case", SCOPED_CASES, ids=str)
def test_outsider_gets_404(client, ctx, case, outsider_as):
    login(client, outsider_as(getattr(ctx.clinic, case.member).role))
    assert _call(client, case, ctx).status_code == 404


@pytest.mark.parametrize("case", SCOPED_CASES, ids=str)
def test_stranger_gets_404(client, ctx, case, stranger_as):
    login(client, stranger_as(getattr(ctx.clinic, case.member).role))
    assert _call(client, case, ctx).status_code == 404


@pytest.mark.parametrize("case", [c for c in CASES if c.method == "get"], ids=str)
def test_anonymous_is_sent_to_login(client, ctx, case):
    response = _call(client, case, ctx)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_named_outsider_and_stranger_do_not_find_the_patient_in_the_list(client, clinic, patient):
    for user in (clinic.outsider, clinic.stranger):
        login(client, user)
        response = client.get(reverse("patients:list"))
        assert response.status_code == 200
        assert patient.mrn not in response.content.decode()


def test_a_program_of_someone_else_is_a_404_for_episode_choices(client, clinic, outsider_as):
    login(client, outsider_as(Role.CLINICIAN))
    url = reverse("patients:episode_program_fields") + f"?program={clinic.mh.public_id}"
    assert client.get(url, **HTMX).status_code == 404


def test_an_unknown_tab_is_a_404(client, clinic, patient):
    login(client, clinic.clinician)
    assert client.get(reverse("patients:chart_tab", args=[patient.public_id, "nope"]), **HTMX).status_code == 404


def test_outsider_cannot_register_into_a_program_they_are_not_in(client, clinic, outsider_as):
    login(client, outsider_as(Role.FRONT_DESK))
    response = client.post(reverse("patients:create"), patient_form_data(clinic.mh))
    assert response.status_code == 200
    assert not Patient.objects.filter(legal_last_name="Quinn").exists()
    assert "Select a valid choice" in response.content.decode()
