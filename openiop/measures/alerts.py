"""Escalation of safety alerts nobody acknowledged in time: one email per alert to the program's on-call clinician.

The email carries no patient name, no answer, no score and no instrument: only "A safety alert needs
acknowledgement in <program label>" and a link by the alert's public id, which asks for a staff login. The claim
(``escalated_at``) is a conditional UPDATE, so two runs at once still send one email; if sending fails after the
commit the claim is released and the next run tries again, so an escalation is never silently lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.measures.models import MeasuresConfig, SafetyAlert
from openiop.measures.schedules import on_call_recipients
from openiop.programs.models import Program

logger = logging.getLogger(__name__)

SUBJECT = "OpenIOP: a safety alert needs acknowledgement"


def email_label(program: Program, config: MeasuresConfig | None) -> str:
    """The configured label, else the program's name; for a substance-use program the site's name, so an email
    seen by someone else never says that its reader's clinic treats substance use (42 CFR Part 2)."""
    if config is not None and config.email_label:
        return config.email_label
    return program.site.name if program.is_substance_use else program.name


def escalation_body(alert: SafetyAlert, label: str) -> str:
    url = f"{settings.SITE_URL}{alert.get_absolute_url()}"
    return f"A safety alert needs acknowledgement in {label}: open OpenIOP\n\n{url}\n"


def _default_minutes() -> int:
    return int(settings.OPENIOP_DEFAULTS["safety_alert_escalation_minutes"])


def escalate_overdue_alerts(now: datetime | None = None) -> int:
    """Email the on-call clinician for every open alert past its program's escalation time; returns how many.

    Each alert is escalated at most once (``escalated_at``), in its own transaction, the email sent on commit.
    """
    now = now or timezone.now()
    candidates = list(
        SafetyAlert.objects.filter(status=SafetyAlert.Status.OPEN, escalated_at__isnull=True)
        .select_related("episode__program__site", "patient")
        .order_by("created_at")
    )
    if not candidates:
        return 0
    program_ids = {a.episode.program_id for a in candidates}
    configs = {c.program_id: c for c in MeasuresConfig.objects.filter(program_id__in=program_ids)}
    escalated = 0
    for alert in candidates:
        program = alert.episode.program
        config = configs.get(program.pk)
        minutes = config.escalation_minutes if config is not None else _default_minutes()
        if alert.created_at + timedelta(minutes=minutes) > now:
            continue
        if config is not None:
            program._openiop_measures_config = config  # type: ignore[attr-defined]
        recipients = [u for u in on_call_recipients(program) if u.email]
        if not recipients:
            logger.warning(
                "safety alert %s: program %s has no on-call clinician with an email", alert.public_id, program.public_id
            )
            continue
        if _claim(alert, now, recipients, email_label(program, config)):
            escalated += 1
    return escalated


@transaction.atomic
def _claim(alert: SafetyAlert, now: datetime, recipients: list, label: str) -> bool:
    to = [u.public_id.hex for u in recipients]
    won = SafetyAlert.objects.filter(pk=alert.pk, status=SafetyAlert.Status.OPEN, escalated_at__isnull=True).update(
        escalated_at=now, escalated_to=to, updated_at=now
    )
    if not won:
        return False
    audit.record(
        action=AuditAction.UPDATED,
        acting_user=None,
        patient=alert.patient,
        obj=alert,
        changed_fields=["escalated_at", "escalated_to"],
    )
    emails = [u.email for u in recipients]
    body = escalation_body(alert, label)
    transaction.on_commit(lambda: _send(alert.pk, emails, body))
    return True


def _send(alert_pk: int, emails: list[str], body: str) -> None:
    try:
        send_mail(SUBJECT, body, settings.DEFAULT_FROM_EMAIL, emails, fail_silently=False)
    except Exception:
        # Release the claim so the next run retries; the alert stays visible on every staff page meanwhile.
        logger.exception("safety alert escalation email failed; will retry")
        SafetyAlert.objects.filter(pk=alert_pk).update(escalated_at=None, escalated_to=[])
