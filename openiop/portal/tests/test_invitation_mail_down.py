"""An invitation when the mail server is down: the invitation is made and the staff request succeeds; the failure
is logged without the address, and the page tells staff to press Resend (a new link) once mail works again."""

from __future__ import annotations

import logging

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory
from django.urls import reverse

from openiop.conftest import login
from openiop.portal.actions import do_invite_patient
from openiop.portal.models import Invitation
from openiop.portal.staff_views import _sent
from openiop.testing.smtp import HOST, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail_down(settings):
    """Django's SMTP backend pointed at a local port nothing listens on: the test SMTP server, stopped."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = HOST
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2


def test_invite_and_resend_succeed_while_mail_is_down(
    client, clinic, episode, mail_down, django_capture_on_commit_callbacks, caplog
):
    patient = episode.patient
    login(client, clinic.frontdesk)
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:invite_patient", args=[patient.public_id]), {"email": ""})
    assert response.status_code == 302
    invitation = Invitation.objects.get(patient=patient)
    assert "invitation email not sent" in caplog.text
    assert "jordan@example.org" not in caplog.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:invitation_resend", args=[invitation.public_id]))
    assert response.status_code == 302
    assert Invitation.objects.get(pk=invitation.pk).is_pending


def test_the_page_says_the_email_failed(client, clinic, episode, mail_down, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, _ = do_invite_patient(episode.patient, acting_user=clinic.frontdesk)
    assert invitation.mail_failed
    request = RequestFactory().get("/")
    request.session = client.session
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]  # what MessageMiddleware sets
    _sent(request, invitation)
    (message,) = list(get_messages(request))
    assert "could not be sent" in str(message) and "Resend" in str(message)
