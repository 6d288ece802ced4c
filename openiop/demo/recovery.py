"""The demo clinic's recovery supports: the substance-use program asks for recovery capital check-ins, its active
patients have four weeks of mutual-help meetings (and some a sponsor and check-ins), and one of them has a portal
login, ``recovery``, so the portal's Recovery page shows the patient's own meeting log.

The ``patient`` portal login (``demo/portal.py``) is an adult mental-health patient: their Recovery page works (they
can log a meeting and name a sponsor) and starts empty, which is why the substance-use patient gets a login of their
own. Meetings of past weeks are written through ``do_log_meeting`` with ``now`` set to the day after each meeting,
as if logged then (the backdating limit holds); the demo patient's are written by their own portal login, the
others' by their primary clinician (as from the patient's report in group). Deterministic, and idempotent: an
organization that already has meetings is left alone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core.roles import Role
from openiop.demo.portal import demo_login_line as patient_login_line
from openiop.patients.models import EpisodeOfCare
from openiop.portal.actions import do_accept_invitation, do_invite_patient
from openiop.portal.models import PortalAccount
from openiop.programs.models import Organization, Program
from openiop.recovery.actions import do_check_in_capital, do_log_meeting, do_set_recovery_policy, do_set_sponsor
from openiop.recovery.models import MeetingAttendance

USERNAME = "recovery"
WEEKS = 4
# (weekday, kind, other name, mode, note): the weekly pattern; each patient keeps a different part of it.
PATTERN: tuple[tuple[int, str, str, str, str], ...] = (
    (0, "aa", "", "in_person", "Home group. Picked up a 30-day chip."),
    (2, "smart", "", "online", "Worked on a cost-benefit analysis."),
    (3, "na", "", "in_person", ""),
    (5, "aa", "", "in_person", "Speaker meeting."),
    (6, "other", "Recovery Dharma", "online", ""),
)
SPONSORS = ("Rosa Delgado", "Luis Ortega", "Grace Mbeki")
# Three check-ins two weeks apart, improving a little (social, physical, human, cultural).
CHECK_INS = ((28, (2, 3, 2, 2)), (14, (3, 3, 3, 2)), (0, (4, 3, 3, 3)))


def _su_episodes(organization: Organization) -> list[EpisodeOfCare]:
    return list(
        EpisodeOfCare.objects.filter(
            patient__organization=organization,
            status=EpisodeOfCare.Status.ACTIVE,
            admitted_on__isnull=False,
            primary_clinician__isnull=False,
            program__focus=Program.Focus.SUBSTANCE_USE,
        )
        .select_related("program__site", "patient", "primary_clinician")
        .order_by("admitted_on", "patient__mrn")
    )


def ensure_demo_recovery(organization: Organization, today: date) -> int:
    """Returns how many meetings were written (0 when the organization already has some)."""
    if MeetingAttendance.objects.filter(patient__organization=organization).exists():
        return 0
    return _build(organization, today)


def _portal_login(episodes: list[EpisodeOfCare]) -> PortalAccount | None:
    """The ``recovery`` portal login, for the first substance-use patient with an email and no login yet."""
    from openiop.demo.clinic import DEMO_PASSWORD

    if User.objects.filter(username=USERNAME).exists():
        return None
    for episode in episodes:
        patient = episode.patient
        if not patient.email or patient.portal_accounts.exists():
            continue
        desk = (
            User.objects.filter(memberships__program=episode.program, role=Role.FRONT_DESK, is_active=True)
            .order_by("username")
            .first()
        )
        if desk is None:
            return None
        invitation, _ = do_invite_patient(patient, acting_user=desk, notify=False)
        return do_accept_invitation(invitation, username=USERNAME, password=DEMO_PASSWORD)
    return None


@transaction.atomic
def _build(organization: Organization, today: date) -> int:
    episodes = _su_episodes(organization)
    programs = {e.program_id: e.program for e in episodes}
    for program in programs.values():
        director = User.objects.filter(organization=organization, role=Role.DIRECTOR, is_active=True).order_by("pk")
        acting = director.first()
        if acting is not None:
            do_set_recovery_policy(program, acting_user=acting, capital_check_ins=True, capital_every_days=14)
    account = _portal_login(episodes)
    made = 0
    for index, episode in enumerate(episodes):
        patient = episode.patient
        own = account is not None and account.patient_id == patient.pk
        writer = account.user if account is not None and own else episode.primary_clinician
        assert writer is not None  # filtered above
        tz = episode.program.tz()
        monday = today - timedelta(days=today.weekday())
        for week in range(WEEKS - 1, -1, -1):
            for n, (weekday, kind, other, mode, note) in enumerate(PATTERN):
                met_on = monday - timedelta(weeks=week) + timedelta(days=weekday)
                # Each patient skips a different part of the week; the demo patient keeps most of it.
                if met_on > today or met_on < episode.admitted_on or (not own and (n + index) % 3 == 0):  # type: ignore[operator]
                    continue
                logged = min(met_on + timedelta(days=1), today)
                now = timezone.make_aware(datetime.combine(logged, time(20)), tz)
                do_log_meeting(
                    patient, acting_user=writer, episode=episode, now=now, met_on=met_on, kind=kind,
                    kind_other=other, mode=mode, note=note if own or n == 0 else "",
                )  # fmt: skip
                made += 1
        if own or index % 2 == 0:
            do_set_sponsor(
                patient, acting_user=writer, name=SPONSORS[index % len(SPONSORS)], phone=f"518-555-01{77 + index % 3}"
            )
        for days_ago, ratings in CHECK_INS:
            taken_on = today - timedelta(days=days_ago)
            if taken_on < episode.admitted_on or (own and days_ago == 0):  # type: ignore[operator]
                continue  # the demo patient's check-in of today is left due, for the portal to ask
            now = timezone.make_aware(datetime.combine(taken_on, time(19)), tz)
            social, physical, human, cultural = ratings
            do_check_in_capital(
                patient, acting_user=writer, episode=episode, now=now, social=social, physical=physical,
                human=human, cultural=cultural,
            )  # fmt: skip
    return made


def demo_login_line(organization: Organization, width: int) -> str:
    """The demo command's line for the recovery portal login ("" when there is none)."""
    return patient_login_line(organization, width, USERNAME, "Patient portal, Recovery page")
