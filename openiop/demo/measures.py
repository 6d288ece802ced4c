"""The demo clinic's measures: weekly PHQ-9 and GAD-7 for every active adult patient over their weeks so far, most
improving, one not on track, one getting worse, and two open safety alerts (one acknowledged). Built through the
real actions (scheduled, answered as staff entry, completed), deterministic for a given day, and idempotent: a
clinic that already has administrations is left alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core.roles import Role
from openiop.measures import actions, instruments
from openiop.measures.models import Administration
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Organization, Program

SEED = 2026
CODES = ("phq9", "gad7")
# Programs whose active patients answer weekly (the adolescent program is left without, to show an empty tab).
PROGRAM_FOCI = (Program.Focus.MENTAL_HEALTH, Program.Focus.SUBSTANCE_USE)


@dataclass(frozen=True)
class Course:
    """How a patient's totals move per week, as a fraction of the instrument's maximum."""

    start: float
    weekly: float


IMPROVING = Course(0.62, -0.07)
NOT_ON_TRACK = Course(0.66, -0.005)
WORSENING = Course(0.45, 0.06)


def ensure_demo_measures(organization: Organization, today: date | None = None) -> bool:
    """Build the measures once; returns False when the clinic already has them."""
    if Administration.objects.filter(patient__organization=organization).exists():
        return False
    _build(organization, today or timezone.localdate())
    return True


@transaction.atomic
def _build(organization: Organization, today: date) -> None:
    rng = random.Random(SEED)  # noqa: S311  (reproducible invented data)
    episodes = list(
        EpisodeOfCare.objects.filter(
            patient__organization=organization,
            status=EpisodeOfCare.Status.ACTIVE,
            program__focus__in=PROGRAM_FOCI,
            program__population=Program.Population.ADULT,
        )
        .select_related("program__site", "patient", "primary_clinician")
        .order_by("admitted_on", "patient__mrn")
    )
    entered_by = _clinicians(organization)
    # The longest stays show the courses best: the earliest admissions are the two exceptions.
    courses = {episodes[0].pk: NOT_ON_TRACK, episodes[1].pk: WORSENING} if len(episodes) > 1 else {}
    alerting = [e for e in episodes[2:] if e.primary_clinician_id][:2]
    for episode in episodes:
        clinician = episode.primary_clinician or entered_by.get(episode.program_id)
        if clinician is None or episode.admitted_on is None:
            continue
        course = courses.get(episode.pk, IMPROVING)
        jitter = {code: rng.uniform(-0.06, 0.06) for code in CODES}
        scheduled = actions.do_schedule_due(
            episode, today=today, acting_user=None, since=episode.admitted_on, codes=CODES
        )
        scheduled.sort(key=lambda a: (a.due_on, a.instrument_code))
        last_due = max((a.due_on for a in scheduled), default=None)
        for administration in scheduled:
            if administration.due_on == last_due and (today - last_due).days < 7 and rng.random() < 0.3:
                continue  # this week's questionnaire is still open for some
            weeks = (administration.due_on - episode.admitted_on).days / 7
            instrument = instruments.get(administration.instrument_code)
            fraction = course.start + jitter[instrument.code] + course.weekly * weeks
            target = round(max(0.0, min(1.0, fraction)) * instrument.max_total)
            critical = episode in alerting and administration.due_on == last_due and instrument.code == "phq9"
            answers = _answers(instrument, target, rng, item9=1 if critical else 0)
            done_at = min(datetime.combine(administration.due_on, time(10), tzinfo=episode.program.tz()),
                          timezone.now())  # fmt: skip
            actions.do_complete(
                administration,
                acting_user=clinician,
                channel=Administration.Channel.STAFF,
                answers=answers,
                completed_at=done_at,
            )
    for episode in alerting[:1]:
        alert = (
            Administration.objects.filter(episode=episode, safety_alert__isnull=False)
            .select_related("safety_alert")
            .first()
        )
        if alert is not None and episode.primary_clinician is not None:
            actions.do_acknowledge_alert(alert.safety_alert, acting_user=episode.primary_clinician)


def _answers(instrument: instruments.Instrument, target: int, rng: random.Random, *, item9: int) -> dict[str, int]:
    """Scored items summing to ``target`` (spread at random), the PHQ-9 item 9 as given."""
    items = [i for i in instrument.items if i.scored and i.code != "phq9_9"]
    top = max(o.value for o in items[0].options)
    answers = {i.code: 0 for i in items}
    left = max(0, min(target - item9, top * len(items)))
    while left:
        item = rng.choice(items)
        if answers[item.code] < top:
            answers[item.code] += 1
            left -= 1
    if instrument.code == "phq9":
        answers["phq9_9"] = item9
    return answers


def _clinicians(organization: Organization) -> dict[int, User]:
    """A clinician per program, for episodes without a primary clinician."""
    out: dict[int, User] = {}
    for user in User.objects.filter(organization=organization, role=Role.CLINICIAN, is_active=True).order_by(
        "username"
    ):
        for program_id in user.memberships.values_list("program_id", flat=True):
            out.setdefault(program_id, user)
    return out
