"""Invitations from the chart: the email (organization only), the one-use link behind a hash, accepting it into a
login with no staff capability, re-sending, withdrawing, family invitations, turning access off, and who may."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_add_support_contact, do_set_patient_active
from openiop.portal.actions import (
    do_accept_invitation,
    do_invite_patient,
    do_resend_invitation,
    do_set_portal_access,
    find_invitation,
)
from openiop.portal.models import AccountKind, Invitation, PortalAccount
from openiop.testing.fixtures import make_patient

from .conftest import PORTAL_PASSWORD, portal_login

pytestmark = pytest.mark.django_db


def _link(message) -> str:
    body = message.body if hasattr(message, "body") else message.get_content()
    found = re.search(r"https?://\S+/portal/invite/\S+/", body)
    assert found is not None
    return found.group(0)


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _invite(client, clinic, patient, captured, email=""):
    login(client, clinic.frontdesk)
    with captured(execute=True):
        response = client.post(reverse("portal:invite_patient", args=[patient.public_id]), {"email": email})
    return response


def test_staff_invite_a_patient_from_the_chart_and_the_email_names_only_the_organization(
    client, clinic, episode, django_capture_on_commit_callbacks
):
    patient = episode.patient
    response = _invite(client, clinic, patient, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == f"{patient.get_absolute_url()}?tab=portal"
    (message,) = mail.outbox
    assert message.to == ["jordan@example.org"]
    assert message.subject == "Your invitation from Riverside Recovery"
    text = f"{message.subject}\n{message.body}"
    assert "Riverside Recovery" in text
    for detail in ("Adult Mental Health", "IOP", "Jordan", "Rivera", "treatment", "mental", "substance"):
        assert detail not in text, detail
    token = _link(message).rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(Invitation.objects.values()))
    assert AuditEvent.objects.filter(action=AuditAction.CREATED, object_type="invitation", patient=patient).exists()


def test_the_chart_tab_shows_the_invitation_and_its_buttons(
    client, clinic, episode, django_capture_on_commit_callbacks
):
    _invite(client, clinic, episode.patient, django_capture_on_commit_callbacks)
    response = client.get(f"{episode.patient.get_absolute_url()}?tab=portal")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Portal access" in body
    assert "Invitation pending" in body
    assert "Re-send" in body and "Withdraw" in body


def test_accepting_creates_a_login_without_organization_or_role(client, clinic, episode):
    invitation, token = do_invite_patient(episode.patient, acting_user=clinic.frontdesk)
    url = reverse("portal:invite", args=[token])
    page = client.get(url)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert 'value="jordan@example.org"' in page.content.decode()
    response = client.post(url, {"username": "jordan", "password": PORTAL_PASSWORD, "password_again": PORTAL_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:login")
    account = PortalAccount.objects.select_related("user").get()
    assert (account.kind, account.patient, account.contact) == (AccountKind.PATIENT, episode.patient, None)
    user = account.user
    assert (user.organization_id, user.role, user.capabilities) == (None, "", frozenset())
    assert user.check_password(PORTAL_PASSWORD)
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None and invitation.account == account
    created = AuditEvent.objects.get(action=AuditAction.CREATED, object_type="portalaccount")
    assert (created.actor_id, created.patient_id, created.organization_id_ref) == (
        user.pk,
        episode.patient.pk,
        clinic.org.pk,
    )
    # The username travels in the session, never the URL; the login page is prefilled with it.
    assert 'value="jordan"' in client.get(reverse("portal:login")).content.decode()


def test_a_weak_password_keeps_what_was_typed_and_names_the_field(client, clinic, episode):
    _, token = do_invite_patient(episode.patient, acting_user=clinic.frontdesk)
    response = client.post(
        reverse("portal:invite", args=[token]), {"username": "jordan-r", "password": "short", "password_again": "short"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="jordan-r"' in body
    assert "too short" in body
    assert not PortalAccount.objects.exists()


def test_a_taken_username_is_refused(client, clinic, episode):
    _, token = do_invite_patient(episode.patient, acting_user=clinic.frontdesk)
    response = client.post(
        reverse("portal:invite", args=[token]),
        {"username": "Clinician", "password": PORTAL_PASSWORD, "password_again": PORTAL_PASSWORD},
    )
    assert "That username is taken" in response.content.decode()
    assert not PortalAccount.objects.exists()


def test_mismatched_passwords_are_refused(client, clinic, episode):
    _, token = do_invite_patient(episode.patient, acting_user=clinic.frontdesk)
    response = client.post(
        reverse("portal:invite", args=[token]),
        {"username": "jordan", "password": PORTAL_PASSWORD, "password_again": PORTAL_PASSWORD + "x"},
    )
    assert "The two passwords differ" in response.content.decode()


@pytest.mark.parametrize("case", ["unknown", "used", "expired", "withdrawn", "replaced", "deactivated"])
def test_every_unusable_link_answers_the_same_404(client, clinic, episode, case):
    patient = episode.patient
    if case == "deactivated":
        patient = make_patient(clinic, admit=False, legal_first_name="Sam")
    invitation, token = do_invite_patient(patient, acting_user=clinic.frontdesk)
    if case == "unknown":
        token = "x" * 43
    elif case == "used":
        do_accept_invitation(invitation, username="jordan", password=PORTAL_PASSWORD)
    elif case == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif case == "withdrawn":
        login(client, clinic.frontdesk)
        client.post(reverse("portal:invitation_withdraw", args=[invitation.public_id]))
        client.logout()
    elif case == "replaced":
        do_invite_patient(episode.patient, acting_user=clinic.frontdesk)
    elif case == "deactivated":
        do_set_patient_active(patient, acting_user=clinic.frontdesk, active=False, reason="moved away")
    response = client.get(reverse("portal:invite", args=[token]))
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    posted = client.post(
        reverse("portal:invite", args=[token]),
        {"username": "jordan2", "password": PORTAL_PASSWORD, "password_again": PORTAL_PASSWORD},
    )
    assert posted.status_code == 404


def test_resending_gives_a_new_link_and_the_old_one_stops_working(
    client, clinic, episode, django_capture_on_commit_callbacks
):
    invitation, old = do_invite_patient(episode.patient, acting_user=clinic.frontdesk)
    login(client, clinic.frontdesk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:invitation_resend", args=[invitation.public_id]))
    assert response.status_code == 302
    (message,) = mail.outbox
    new = _link(message).rstrip("/").rsplit("/", 1)[1]
    assert new != old
    assert find_invitation(old) is None
    assert find_invitation(new) == invitation
    assert AuditEvent.objects.filter(action=AuditAction.UPDATED, object_type="invitation").count() == 1


def test_a_used_invitation_cannot_be_resent(clinic, episode):
    invitation, _ = do_invite_patient(episode.patient, acting_user=clinic.frontdesk)
    do_accept_invitation(invitation, username="jordan", password=PORTAL_PASSWORD)
    with pytest.raises(Exception, match="accepted"):
        do_resend_invitation(invitation, acting_user=clinic.frontdesk)


def test_a_patient_with_a_login_cannot_be_invited_again(client, clinic, account):
    login(client, clinic.frontdesk)
    response = client.post(reverse("portal:invite_patient", args=[account.patient.public_id]), {"email": ""})
    assert response.status_code == 200
    assert "already has a portal login" in response.content.decode()


def test_a_patient_without_email_needs_one_typed(client, clinic, django_capture_on_commit_callbacks):
    from openiop.testing.scheduling import admit

    patient = admit(clinic, "Nomail", email="").patient
    login(client, clinic.frontdesk)
    response = client.post(reverse("portal:invite_patient", args=[patient.public_id]), {"email": ""})
    assert "Add the patient&#x27;s email address" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:invite_patient", args=[patient.public_id]), {"email": "typed@example.org"}
        )
    assert response.status_code == 302
    assert mail.outbox[0].to == ["typed@example.org"]


def test_a_support_contact_is_invited_as_a_family_login(client, clinic, episode, django_capture_on_commit_callbacks):
    contact = do_add_support_contact(
        episode.patient,
        acting_user=clinic.frontdesk,
        name="Alex Rivera",
        relationship="partner",
        email="alex@example.org",
    )
    login(client, clinic.frontdesk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:invite_contact", args=[contact.public_id]))
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["alex@example.org"]
    assert "family and support portal" in message.body
    assert "Jordan" not in message.body
    client.logout()
    response = client.post(
        _path(_link(message)), {"username": "alex", "password": PORTAL_PASSWORD, "password_again": PORTAL_PASSWORD}
    )
    assert response.status_code == 302
    account = PortalAccount.objects.get()
    assert (account.kind, account.contact, account.patient) == (AccountKind.FAMILY, contact, episode.patient)


def test_turning_access_off_ends_the_login_and_is_audited(client, clinic, account):
    login(client, clinic.frontdesk)
    response = client.post(reverse("portal:account_deactivate", args=[account.public_id]))
    assert response.status_code == 302
    account.refresh_from_db()
    account.user.refresh_from_db()
    assert not account.is_active and not account.user.is_active
    assert AuditEvent.objects.filter(action=AuditAction.DEACTIVATED, object_type="portalaccount").count() == 1
    client.post(reverse("portal:account_reactivate", args=[account.public_id]))
    account.refresh_from_db()
    assert account.is_active
    assert AuditEvent.objects.filter(action=AuditAction.REACTIVATED, object_type="portalaccount").count() == 1


def test_a_deactivated_login_cannot_open_portal_pages(client, clinic, account):
    client.force_login(account.user)
    assert client.get(reverse("portal:home")).status_code == 200
    do_set_portal_access(account, acting_user=clinic.frontdesk, active=False)
    response = client.get(reverse("portal:home"))
    # The user is inactive now, so the session no longer authenticates: back to the portal login.
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


# --- Who may -------------------------------------------------------------------------------------------------------


def _staff_posts(episode, account_obj, invitation, contact):
    return [
        ("post", reverse("portal:invite_patient", args=[episode.patient.public_id])),
        ("get", reverse("portal:invite_patient", args=[episode.patient.public_id])),
        ("post", reverse("portal:invite_contact", args=[contact.public_id])),
        ("post", reverse("portal:invitation_resend", args=[invitation.public_id])),
        ("post", reverse("portal:invitation_withdraw", args=[invitation.public_id])),
        ("post", reverse("portal:account_deactivate", args=[account_obj.public_id])),
        ("post", reverse("portal:account_reactivate", args=[account_obj.public_id])),
    ]


@pytest.fixture
def staff_targets(clinic, episode, other_episode):
    account_obj = portal_login(other_episode.patient, by=clinic.frontdesk, username="morgan")
    invitation, _ = do_invite_patient(episode.patient, acting_user=clinic.frontdesk)
    contact = do_add_support_contact(
        episode.patient, acting_user=clinic.frontdesk, name="Alex", relationship="partner", email="a@example.org"
    )
    return _staff_posts(episode, account_obj, invitation, contact)


@pytest.mark.parametrize("who,status", [("outsider", 404), ("stranger", 404), ("auditor", 403), ("billing", 403)])
def test_staff_views_answer_404_to_outsiders_and_403_to_roles_without_the_capability(
    client, clinic, staff_targets, who, status
):
    login(client, getattr(clinic, who))
    for method, url in staff_targets:
        assert getattr(client, method)(url).status_code == status, url


def test_staff_views_send_anonymous_visitors_to_the_staff_login(client, staff_targets):
    for method, url in staff_targets:
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_a_portal_login_gets_403_on_staff_views(client, clinic, staff_targets):
    account = PortalAccount.objects.get(user__username="morgan")
    client.force_login(account.user)
    for method, url in staff_targets:
        assert getattr(client, method)(url).status_code == 403, url


def test_the_portal_tab_is_for_roles_that_edit_demographics(client, clinic, episode):
    login(client, clinic.auditor)
    response = client.get(reverse("patients:chart_tab", args=[episode.patient.public_id, "portal"]))
    assert response.status_code == 403
    login(client, clinic.clinician)
    response = client.get(
        reverse("patients:chart_tab", args=[episode.patient.public_id, "portal"]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.RECORD_VIEWED, object_type="portal").count() == 1


def test_the_invitation_goes_through_a_real_smtp_server(
    client, clinic, episode, smtp_inbox, django_capture_on_commit_callbacks
):
    inbox = smtp_inbox
    _invite(client, clinic, episode.patient, django_capture_on_commit_callbacks)
    (message,) = inbox.wait_for(1)
    assert message["To"] == "jordan@example.org"
    assert message["Subject"] == "Your invitation from Riverside Recovery"
    assert "/portal/invite/" in message.get_content()


def test_the_invitation_link_uses_the_site_url(client, clinic, episode, django_capture_on_commit_callbacks, settings):
    # SITE_URL follows PORT (core/tests/test_settings.py); here the served address is http://127.0.0.1:8123.
    settings.SITE_URL = "http://127.0.0.1:8123"
    _invite(client, clinic, episode.patient, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert _link(message).startswith("http://127.0.0.1:8123/portal/invite/")
