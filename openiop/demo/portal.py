"""The demo's patient portal login: ``patient`` / the demo password, for an active adult mental-health patient,
made through the same invitation actions staff use (without sending the email).

The patient picked is, when the calendar allows, one whose week is short of its dose and for whom the make-up
search finds open sessions, so the portal shows something to book; else one with sessions ahead; else the first.
Idempotent: a second run finds the login and changes nothing.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from openiop.accounts.models import User
from openiop.attendance.dose import DoseStatus, current_week_doses
from openiop.attendance.makeup import plan_makeup
from openiop.core.roles import Role
from openiop.patients.models import EpisodeOfCare
from openiop.portal.actions import do_accept_invitation, do_invite_patient
from openiop.portal.models import PortalAccount
from openiop.programs.models import Organization, Program
from openiop.scheduling.models import Booking

DEMO_USERNAME = "patient"


def _pick(episodes: list[EpisodeOfCare]) -> EpisodeOfCare | None:
    now = timezone.now()
    for dose in current_week_doses(episodes, now=now):
        if dose.week.status == DoseStatus.UNREACHABLE and plan_makeup(dose.episode, dose.week, now=now).sessions:
            return dose.episode
    ahead = set(
        Booking.objects.filter(
            episode__in=episodes, status=Booking.Status.BOOKED, session__starts_at__gt=now
        ).values_list("episode_id", flat=True)
    )
    return next((e for e in episodes if e.pk in ahead), episodes[0] if episodes else None)


def ensure_demo_portal(organization: Organization, today: date) -> PortalAccount | None:
    """The demo patient's portal login (made once); None when the clinic has no adult mental-health patient."""
    from openiop.demo.clinic import DEMO_PASSWORD

    existing = PortalAccount.objects.filter(user__username=DEMO_USERNAME, patient__organization=organization).first()
    if existing is not None or User.objects.filter(username=DEMO_USERNAME).exists():
        return existing
    program = (
        Program.objects.filter(
            site__organization=organization,
            focus=Program.Focus.MENTAL_HEALTH,
            population=Program.Population.ADULT,
            is_active=True,
        )
        .order_by("pk")
        .first()
    )
    if program is None:
        return None
    episodes = list(
        EpisodeOfCare.objects.filter(
            program=program, status=EpisodeOfCare.Status.ACTIVE, patient__is_active=True, admitted_on__isnull=False
        )
        .exclude(patient__email="")
        .exclude(patient__portal_accounts__isnull=False)
        .select_related("program__site", "track", "patient")
        .order_by("patient__mrn")
    )
    episode = _pick(episodes)
    desk = (
        User.objects.filter(memberships__program=program, role=Role.FRONT_DESK, is_active=True)
        .order_by("username")
        .first()
    )
    if episode is None or desk is None:
        return None
    invitation, _ = do_invite_patient(episode.patient, acting_user=desk, notify=False)
    return do_accept_invitation(invitation, username=DEMO_USERNAME, password=DEMO_PASSWORD)


def demo_login_line(
    organization: Organization, width: int, username: str = DEMO_USERNAME, where: str = "Patient portal (/portal/)"
) -> str:
    """The demo command's line for a patient's portal login ("" when there is none)."""
    account = (
        PortalAccount.objects.filter(user__username=username, patient__organization=organization)
        .select_related("patient")
        .first()
    )
    if account is None:
        return ""
    return f"  {username:<{width}}  {where:<30}  {account.patient.display_name}"
