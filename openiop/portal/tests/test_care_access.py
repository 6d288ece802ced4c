"""Who reaches the portal's care pages: anonymous visitors go to the portal login, staff get 404, a family login
403, and patient A never reaches patient B's questionnaire, plan version, practice entry or aftercare plan (404).
Every page that reads the record writes an audit row with the portal login as the actor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import reverse

from openiop.core.models import AuditAction, AuditEvent
from openiop.portal.tests.care_support import family_account, patient_account
from openiop.skills.actions import do_log_practice
from openiop.testing import snapshot
from openiop.testing.discharge import signed
from openiop.testing.fixtures import make_patient
from openiop.testing.measures import start
from openiop.testing.plans import signed_by_clinician
from openiop.testing.scheduling import admit


@dataclass
class Ctx:
    clinic: Any
    ids: dict[str, Any] = field(default_factory=dict)


def _record(clinic, patient, user_prefix: str) -> dict[str, Any]:
    """One patient's records the care pages read: a due PHQ-9, a plan awaiting signature, a practice entry."""
    from django.utils import timezone

    account = patient_account(patient, f"{user_prefix}-login")
    administration = start(patient, clinic.clinician)
    version = signed_by_clinician(patient, clinic.clinician)
    episode = patient.episodes.get()
    entry = do_log_practice(
        patient,
        acting_user=account.user,
        episode=episode,
        skill="Box breathing",
        practiced_at=timezone.now(),
        how_it_went="Calmer.",
        mood=6,
    )
    return {"account": account, "administration": administration, "version": version, "entry": entry}


@pytest.fixture
def ctx(clinic) -> Ctx:
    # Every test reads the same records: built once (a minute at most) per test process, restored for each test.
    return snapshot.restored(__name__, lambda: _build(clinic))


def _build(clinic) -> Ctx:
    a = make_patient(clinic)
    b = make_patient(clinic, legal_first_name="Blair", email="blair@example.org")
    ctx = Ctx(clinic)
    ctx.ids["a"] = _record(clinic, a, "a")
    ctx.ids["b"] = _record(clinic, b, "b")
    # B's discharge is signed, so B has an aftercare plan A must not reach.
    done = admit(clinic, "Casey", admitted_days_ago=40)
    ctx.ids["c_summary"] = signed(done, clinic.clinician)
    ctx.ids["c_account"] = patient_account(done.patient, "c-login")
    ctx.ids["family"] = family_account(a)
    return ctx


@dataclass(frozen=True)
class Case:
    name: str
    url: Callable[[Ctx, str], str]  # (ctx, whose record) -> url
    method: str = "get"
    data: Callable[[Ctx], dict[str, Any]] = field(default=lambda ctx: {})
    scoped: bool = True  # names a record: another patient's is a 404

    def __str__(self) -> str:
        return self.name


CASES = [
    Case("questionnaires", lambda c, w: reverse("portal:questionnaires"), scoped=False),
    Case("questionnaire", lambda c, w: reverse("portal:questionnaire", args=[c.ids[w]["administration"].public_id])),
    Case("questionnaire_answer",
         lambda c, w: reverse("portal:questionnaire_answer", args=[c.ids[w]["administration"].public_id]), "post",
         lambda c: {"phq9_1": "1"}),
    Case("questionnaire_submit",
         lambda c, w: reverse("portal:questionnaire_submit", args=[c.ids[w]["administration"].public_id]), "post",
         lambda c: {"phq9_1": "1"}),
    Case("plan", lambda c, w: reverse("portal:plan"), scoped=False),
    Case("plan_sign", lambda c, w: reverse("portal:plan_sign", args=[c.ids[w]["version"].public_id]), "post",
         lambda c: {"patient_signature_name": "Jordan Rivera", "agreed": "on"}),
    Case("practice", lambda c, w: reverse("portal:practice"), scoped=False),
    Case("practice_edit", lambda c, w: reverse("portal:practice_edit", args=[c.ids[w]["entry"].public_id])),
    Case("aftercare", lambda c, w: reverse("portal:aftercare"), scoped=False),
    Case("aftercare_pdf", lambda c, w: reverse("portal:aftercare_pdf", args=[c.ids["c_summary"].public_id])),
]  # fmt: skip


def _call(client, case: Case, ctx: Ctx, whose: str = "a"):
    return getattr(client, case.method)(case.url(ctx, whose), case.data(ctx))


# The stand-in URLconf adds a portal login only where this checkout has none yet (the portal pages own it).
@pytest.mark.urls("openiop.portal.tests.care_support")
@pytest.mark.parametrize("case", CASES, ids=str)
def test_anonymous_visitors_go_to_the_portal_login(client, ctx, case):
    response = _call(client, case, ctx)
    assert response.status_code == 302
    assert response["Location"].startswith("/portal/login/?next=")


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("who", ["clinician", "director", "sysadmin"])
def test_staff_logins_get_404(client, ctx, case, who):
    client.force_login(getattr(ctx.clinic, who))
    assert _call(client, case, ctx).status_code == 404


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_family_login_gets_403(client, ctx, case):
    client.force_login(ctx.ids["family"].user)
    assert _call(client, case, ctx).status_code == 403


@pytest.mark.parametrize("case", [c for c in CASES if c.scoped], ids=str)
def test_a_patient_never_reaches_another_patients_record(client, ctx, case):
    client.force_login(ctx.ids["a"]["account"].user)
    whose = "b"
    assert _call(client, case, ctx, whose).status_code == 404


def test_a_deactivated_portal_account_gets_404(client, ctx):
    account = ctx.ids["a"]["account"]
    account.is_active = False
    account.save(update_fields=["is_active"])
    client.force_login(account.user)
    assert client.get(reverse("portal:questionnaires")).status_code == 404


READS = [
    ("questionnaires", lambda c: reverse("portal:questionnaires"), "portal_check_ins"),
    ("questionnaire", lambda c: reverse("portal:questionnaire", args=[c.ids["a"]["administration"].public_id]),
     "administration"),
    ("plan", lambda c: reverse("portal:plan"), "planversion"),
    ("practice", lambda c: reverse("portal:practice"), "practice_log"),
    ("practice_edit", lambda c: reverse("portal:practice_edit", args=[c.ids["a"]["entry"].public_id]),
     "practiceentry"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "url", "object_type"), READS, ids=[r[0] for r in READS])
def test_every_read_is_audited_with_the_portal_login_as_actor(client, ctx, name, url, object_type):
    user = ctx.ids["a"]["account"].user
    client.force_login(user)
    before = AuditEvent.objects.count()
    response = client.get(url(ctx))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    rows = AuditEvent.objects.order_by("chain_index")[before:]
    viewed = [r for r in rows if r.action == AuditAction.RECORD_VIEWED]
    assert [(r.actor_id, r.patient_id, r.object_type) for r in viewed] == [
        (user.pk, ctx.ids["a"]["account"].patient_id, object_type)
    ]


def test_the_aftercare_page_and_pdf_are_audited(client, ctx):
    account = ctx.ids["c_account"]
    client.force_login(account.user)
    assert client.get(reverse("portal:aftercare")).status_code == 200
    row = AuditEvent.objects.latest("chain_index")
    assert (row.action, row.actor_id, row.object_type) == (AuditAction.RECORD_VIEWED, account.user.pk, "aftercareplan")
