"""The treatment plan in the portal: the version in force in plain words, the version waiting for the patient's
signature, and the patient signing it themself (typed name, time, address and browser in the audit row), which
puts it in force with the follow-on work done by the system; drafts are never shown."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.core.models import AuditAction, AuditEvent
from openiop.plans import actions
from openiop.plans.models import PlanVersion
from openiop.portal.tests.care_support import patient_account
from openiop.testing.plans import active, draft, fill, signed_by_clinician
from openiop.worklist.models import WorkTask


@pytest.fixture
def account(patient):
    return patient_account(patient)


@pytest.fixture
def logged_in(client, account):
    client.force_login(account.user)
    return client


def test_a_draft_is_never_shown(logged_in, clinic, patient):
    fill(draft(patient, clinic.clinician), clinic.clinician)
    page = logged_in.get(reverse("portal:plan")).content.decode()
    assert "Depressed mood most days." not in page
    assert "will show here once you and your clinician have written it" in page


def test_the_plan_in_force_reads_in_plain_words(logged_in, clinic, patient):
    active(patient, clinic.clinician)
    page = logged_in.get(reverse("portal:plan")).content.decode()
    assert "What we are working on: Depressed mood most days." in page
    assert "<strong>Goal:</strong> Mood improves." in page
    assert "Uses two coping skills daily" in page
    assert "How we help: CBT skills group, 3x weekly, with Clinician Tester, LCSW" in page
    assert "“I want my life back.”" in page
    assert "Sign my plan" not in page


def test_the_patient_signs_the_plan_themself(logged_in, clinic, patient, account):
    version = signed_by_clinician(patient, clinic.clinician)
    assert WorkTask.objects.filter(kind=WorkTask.Kind.PLAN_DUE, status="open").count() in (0, 1)
    page = logged_in.get(reverse("portal:plan")).content.decode()
    assert "ready for your signature" in page and "Sign my plan" in page
    before = AuditEvent.objects.count()
    response = logged_in.post(
        reverse("portal:plan_sign", args=[version.public_id]),
        {"patient_signature_name": "Jordan Rivera", "agreed": "on"},
        HTTP_USER_AGENT="PortalPhone/1.0",
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 302 and response["Location"] == reverse("portal:plan")
    version.refresh_from_db()
    assert version.status == PlanVersion.Status.ACTIVE
    assert (version.patient_signature_name, version.patient_signature_method) == ("Jordan Rivera", "typed")
    assert version.patient_signed_at is not None
    rows = list(AuditEvent.objects.order_by("chain_index")[before:])
    signature = next(r for r in rows if "patient_signature_name" in (r.changed_fields or []))
    assert signature.actor_id == account.user.pk and signature.action == AuditAction.UPDATED
    assert (signature.ip_address, signature.user_agent) == ("203.0.113.7", "PortalPhone/1.0")
    # What follows the signature is the system's, never done in the patient's name.
    assert {r.actor_id for r in rows if r is not signature} == {None}
    assert not WorkTask.objects.filter(closed_by=account.user).exists()
    assert version.plan.reviews.filter(status="due").count() == 1
    page = logged_in.get(reverse("portal:plan")).content.decode()
    assert "You signed your treatment plan" in page and "you signed it on" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"agreed": "on"}, "patient_signature_name", "Type your full name."),
        ({"patient_signature_name": "Jordan Rivera"}, "agreed", "Confirm that you took part in the plan"),
    ],
)
def test_a_signature_without_name_or_agreement_comes_back_with_the_field_error(logged_in, clinic, patient, data, field,
                                                                               message):  # fmt: skip
    version = signed_by_clinician(patient, clinic.clinician)
    response = logged_in.post(reverse("portal:plan_sign", args=[version.public_id]), data)
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    if "patient_signature_name" in data:
        assert 'value="Jordan Rivera"' in page
    version.refresh_from_db()
    assert version.status == PlanVersion.Status.AWAITING_PATIENT


def test_an_active_version_cannot_be_signed_again(logged_in, clinic, patient):
    version = active(patient, clinic.clinician)
    response = logged_in.post(
        reverse("portal:plan_sign", args=[version.public_id]), {"patient_signature_name": "J R", "agreed": "on"}
    )
    assert response.status_code == 404


def test_a_revision_waiting_for_signature_is_shown_instead_of_the_version_in_force(logged_in, clinic, patient):
    def load() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as ctx:
            page = logged_in.get(reverse("portal:plan")).content.decode()
        return page, len(ctx.captured_queries)

    first = active(patient, clinic.clinician)
    page, one_problem = load()
    assert "In force since" in page
    second = actions.do_start_version(first.plan, acting_user=clinic.clinician)
    fill(second, clinic.clinician)  # a second problem, goal, objective and intervention
    actions.do_update_version_text(second, acting_user=clinic.clinician, barriers="Evening shifts.")
    actions.do_sign_version(second, acting_user=clinic.clinician)
    page, two_problems = load()
    assert "ready for your signature (version 2)" in page and "Evening shifts." in page
    assert page.count("What we are working on:") == 2 and "In force since" not in page
    assert two_problems == one_problem


def test_under_the_clinician_signature_rule_the_patient_still_reads_and_signs(logged_in, clinic, patient):
    """The plan is in force once the clinician signs; the portal offers the signature without saying the plan
    waits for the patient, and signing changes nothing but the signature."""
    from openiop.plans.models import PlanPolicy

    PlanPolicy.objects.create(program=patient.home_program, in_force_at=PlanPolicy.InForceAt.CLINICIAN_SIGNATURE)
    version = signed_by_clinician(patient, clinic.clinician)
    assert version.status == PlanVersion.Status.ACTIVE and version.patient_signed_at is None
    page = logged_in.get(reverse("portal:plan")).content.decode()
    assert "Your care team put this plan in place on" in page and "Sign my plan" in page
    assert "ready for your signature" not in page and "it is now your plan in force" not in page
    home = logged_in.get(reverse("portal:home")).content.decode()
    assert "Read and sign my plan" in home
    response = logged_in.post(
        reverse("portal:plan_sign", args=[version.public_id]),
        {"patient_signature_name": "Jordan Rivera", "agreed": "on"},
        follow=True,
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Thank you. You signed your treatment plan." in page
    assert "it is now your plan in force" not in page and "Sign my plan" not in page
    version.refresh_from_db()
    assert version.status == PlanVersion.Status.ACTIVE and version.patient_signed_at is not None
    assert version.plan.reviews.filter(status="due").count() == 1  # the review made at activation, not a second
    # Signed: nothing more to sign.
    again = logged_in.post(
        reverse("portal:plan_sign", args=[version.public_id]), {"patient_signature_name": "J R", "agreed": "on"}
    )
    assert again.status_code == 404
