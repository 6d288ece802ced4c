"""The demo clinic's practice logs and a plan revision waiting for the patient's signature, so the portal's
Skills practice and My plan pages and the chart's Skills practice tab have something to show.

Every active adult mental-health patient gets a week of practice, written through ``do_log_practice`` by their
primary clinician (as from the patient's paper diary card: the demo cannot rely on portal logins existing). One
patient's plan in force gets a revised version signed by its author and left waiting for the patient: the patient
who has a portal login if the portal demo made one, else the earliest admission. Deterministic, and idempotent:
an organization that already has practice entries is left alone.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from openiop.patients.models import EpisodeOfCare
from openiop.plans import actions as plan_actions
from openiop.plans.models import PlanVersion
from openiop.programs.models import Organization, Program
from openiop.skills.actions import do_log_practice
from openiop.skills.models import PracticeEntry

# (days ago, hours earlier than now, skill, how it went, mood): a week of practice, some without words or mood.
DIARY: tuple[tuple[int, int, str, str, int | None], ...] = (
    (6, 3, "Box breathing", "Before group. Took a few rounds to slow down.", 4),
    (5, 2, "Pleasant activity", "Walked to the park with my sister.", 6),
    (4, 5, "Check the facts", "Thought my boss was angry; he was just busy.", 5),
    (2, 1, "Opposite action", "Wanted to stay in bed, went to group instead.", 6),
    (1, 4, "Grounding (5-4-3-2-1)", "", 7),
    (0, 2, "Box breathing", "Easier this time.", None),
)


def _adult_mh_episodes(organization: Organization) -> list[EpisodeOfCare]:
    return list(
        EpisodeOfCare.objects.filter(
            patient__organization=organization,
            status=EpisodeOfCare.Status.ACTIVE,
            admitted_on__isnull=False,
            primary_clinician__isnull=False,
            program__focus=Program.Focus.MENTAL_HEALTH,
            program__population=Program.Population.ADULT,
        )
        .select_related("program__site", "patient", "primary_clinician")
        .order_by("admitted_on", "patient__mrn")
    )


def ensure_demo_practice(organization: Organization, today: date) -> int:
    """Returns how many entries were written (0 when the organization already has some)."""
    if PracticeEntry.objects.filter(patient__organization=organization).exists():
        return 0
    return _build(organization)


@transaction.atomic
def _build(organization: Organization) -> int:
    episodes = _adult_mh_episodes(organization)
    now = timezone.now()
    made = 0
    for index, episode in enumerate(episodes):
        writer = episode.primary_clinician
        assert writer is not None  # filtered above
        # Not everyone practises every day: each patient skips a different pair of days.
        for n, (days, hours, skill, how, mood) in enumerate(DIARY):
            if n in (index % len(DIARY), (index + 3) % len(DIARY)) and index:
                continue
            do_log_practice(
                episode.patient,
                acting_user=writer,
                episode=episode,
                now=now,
                skill=skill,
                practiced_at=now - timedelta(days=days, hours=hours),
                how_it_went=how,
                mood=None if mood is None else min(10, mood + index % 3 - 1),
            )
            made += 1
    _revision_to_sign(episodes)
    return made


def _revision_to_sign(episodes: list[EpisodeOfCare]) -> None:
    from openiop.portal.models import PortalAccount

    with_login = set(
        PortalAccount.objects.filter(
            kind="patient", is_active=True, patient__in=[e.patient_id for e in episodes]
        ).values_list("patient_id", flat=True)
    )
    ordered = sorted(episodes, key=lambda e: e.patient_id not in with_login)
    for episode in ordered:
        plan = getattr(episode, "treatment_plan", None)
        active = plan.versions.filter(status=PlanVersion.Status.ACTIVE).first() if plan else None
        if plan is None or active is None or plan.versions.exclude(status__in=["active", "superseded"]).exists():
            continue
        author = active.author
        if plan_actions.needs_cosignature(author):
            continue
        version = plan_actions.do_start_version(plan, acting_user=author)
        plan_actions.do_update_version_text(
            version, acting_user=author, barriers="Evening shifts start next month; group times may need to change."
        )
        plan_actions.do_sign_version(version, acting_user=author)
        return
