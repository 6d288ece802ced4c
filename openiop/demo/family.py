"""The demo family login: ``family`` / the demo password, a support contact of an adult mental-health patient with
a release naming the family-session schedule, attendance and education materials; the program's family
education materials; and a few weekly family sessions the patient is booked into (when the calendar is built).

Called from ``core.demo.seed_demo_records`` after the consents. Idempotent: once the ``family`` login exists a
second run changes nothing. The login is made through the portal's invitation actions, as staff make one.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openiop.accounts.models import User
from openiop.consents.actions import SignatureInput, do_record_consent
from openiop.core.roles import Role
from openiop.demo.clinic import DEMO_PASSWORD
from openiop.family.actions import do_create_material
from openiop.family.models import EducationMaterial
from openiop.patients.models import EpisodeOfCare, SupportContact
from openiop.portal.actions import do_accept_invitation, do_invite_contact
from openiop.portal.models import AccountKind, PortalAccount
from openiop.programs.models import Organization, Program
from openiop.scheduling.actions.booking import do_book_seat
from openiop.scheduling.actions.series import do_create_series
from openiop.scheduling.models import Room, SessionType

USERNAME = "family"
FAMILY_CLASSES = ["schedule", "attendance", "education"]
# Tuesdays at 16:30, between the adult day track (mornings) and the evening track (from 18:00).
SESSION_WEEKDAY, SESSION_AT, SESSION_WEEKS = 1, time(16, 30), 6
MATERIALS = [
    (
        "How IOP works",
        "What a week in the program looks like, and how families fit in.",
        "People in the Intensive Outpatient Program come to groups three times a week for about three hours, and "
        "keep living at home, working or studying.\n\nFamilies are invited to a family session most weeks. You do "
        "not have to have the answers; coming and listening already helps.",
    ),
    (
        "Supporting someone with depression",
        "Small things that help at home, and what to do in a crisis.",
        "Keep routines going: meals, sleep and a short walk together matter more than long talks.\n\nAsk how you "
        "can help rather than guessing. If you are worried about safety, call or text 988 at any time, or 911 in "
        "an emergency.",
    ),
    (
        "Taking care of yourself",
        "Caregivers need support too.",
        "Supporting someone through treatment is tiring. Keep some time for yourself, and think about a support "
        "group for families (NAMI Family-to-Family is free in most areas).",
    ),
]


def _staff(program: Program, *roles: str) -> User | None:
    for role in roles:
        found = (
            User.objects.filter(memberships__program=program, is_active=True, role=role).order_by("username").first()
        )
        if found is not None:
            return found
    return None


def _patient_and_contact(program: Program) -> tuple[EpisodeOfCare, SupportContact] | None:
    """The first admitted adult patient of the program with an active support contact (the consents demo gave
    that contact a release too; this one adds the family set)."""
    episodes = (
        EpisodeOfCare.objects.filter(program=program, status=EpisodeOfCare.Status.ACTIVE)
        .select_related("patient", "program__site")
        .order_by("patient__mrn")
    )
    for episode in episodes:
        contact = episode.patient.support_contacts.filter(is_active=True).order_by("name").first()
        if contact is not None and not PortalAccount.objects.filter(contact=contact).exists():
            return episode, contact
    return None


def ensure_demo_family(organization: Organization, today: date) -> int:
    """Seed the family login once; returns 1 when it was made now, 0 when it was already there (or cannot be)."""
    if User.objects.filter(username=USERNAME).exists():
        return 0
    program = (
        Program.objects.filter(
            site__organization=organization,
            focus=Program.Focus.MENTAL_HEALTH,
            population=Program.Population.ADULT,
        )
        .select_related("site")
        .order_by("pk")
        .first()
    )
    clinician = _staff(program, Role.CLINICIAN, Role.DIRECTOR) if program is not None else None
    found = _patient_and_contact(program) if program is not None else None
    if program is None or clinician is None or found is None:
        return 0
    with transaction.atomic():
        episode, contact = found
        _seed(program, episode, contact, clinician, today)
    return 1


def _seed(program: Program, episode: EpisodeOfCare, contact: SupportContact, clinician: User, today: date) -> None:
    patient = episode.patient
    do_record_consent(
        patient,
        acting_user=clinician,
        kind="release",
        episode=episode,
        signature=SignatureInput(signer_name=patient.legal_name, method="typed", agreed=True),
        data_classes=FAMILY_CLASSES,
        recipient_kind="support_contact",
        recipient_contact=contact,
        purposes=["treatment"],
        expiry_kind="event",
        expiry_event="Discharge from the program",
        render_pdf=False,
    )
    # The login is made the way staff make one: an invitation (not emailed) accepted with the demo password.
    # Demo contacts may have no email; a reserved example address stands in (nothing is sent).
    email = contact.email or "family.demo@example.org"
    invitation, _ = do_invite_contact(contact, acting_user=clinician, email=email, notify=False)
    do_accept_invitation(invitation, username=USERNAME, password=DEMO_PASSWORD)
    for title, summary, body in MATERIALS:
        if not EducationMaterial.objects.filter(program=program, title=title).exists():
            do_create_material(program, acting_user=clinician, title=title, summary=summary, body=body)
    _family_sessions(program, episode, clinician, today)


def _family_sessions(program: Program, episode: EpisodeOfCare, clinician: User, today: date) -> None:
    """A weekly family session from next Tuesday, with the patient booked; none without the demo calendar."""
    kind = SessionType.objects.filter(program=program, kind=SessionType.Kind.FAMILY, is_active=True).first()
    if kind is None:
        return
    first = today + timedelta(days=1)
    first += timedelta(days=(SESSION_WEEKDAY - first.weekday()) % 7)
    room = Room.objects.filter(Q(site=program.site), name="Group Room A").first()
    series = do_create_series(
        program,
        acting_user=clinician,
        session_type=kind,
        rrule="FREQ=WEEKLY;BYDAY=TU",
        starts_on=first,
        until=first + timedelta(weeks=SESSION_WEEKS - 1),
        start_time=SESSION_AT,
        room=room,
        facilitators=[clinician],
        title="Family session",
    )
    last_day = episode.expected_discharge_on
    for session in series.sessions.order_by("starts_at"):
        if last_day is not None and session.starts_at.astimezone(program.tz()).date() > last_day:
            break
        # A demo built for an earlier day (the tests pin one) has family sessions that are already over by the
        # real clock, and a seat in a past session cannot be booked.
        if session.ends_at <= timezone.now():
            continue
        do_book_seat(session, episode=episode, acting_user=clinician)


def demo_login_lines(width: int = 8) -> list[str]:
    """The family login for the demo command's list of logins (empty when it was not seeded)."""
    account = (
        PortalAccount.objects.filter(user__username=USERNAME, kind=AccountKind.FAMILY)
        .select_related("contact", "patient")
        .first()
    )
    if account is None or account.contact is None:
        return []
    return [
        f"  {USERNAME:<{width}}  {'Family member (portal)':<30}  {account.contact.name}, support person of "
        f"{account.patient.display_name} (/family/: family sessions, attendance yes/no, education materials)",
    ]
