"""Which education topics a patient has covered, which are missing, and the sessions that would cover them.

"Covered" means a booked education session on that topic has already ended; attendance (a later issue) will
narrow it to sessions actually attended. Suggestions come from any track of the same program, so a day-track
patient can make up a missed topic in an evening session, and end before the expected discharge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from openiop.patients.models import EpisodeOfCare
from openiop.scheduling.models import Booking, CurriculumTopic, Session

SUGGESTIONS_PER_TOPIC = 3


@dataclass
class TopicPlan:
    topic: CurriculumTopic
    covered_by: Session | None = None  # the latest ended session on the topic
    booked: list[Session] = field(default_factory=list)  # upcoming sessions already booked on the topic
    suggestions: list[Session] = field(default_factory=list)  # upcoming sessions with a free seat

    @property
    def is_covered(self) -> bool:
        return self.covered_by is not None


@dataclass
class CurriculumReport:
    episode: EpisodeOfCare
    deadline: datetime
    topics: list[TopicPlan]

    @property
    def last_day(self) -> date:
        return (self.deadline - timedelta(days=1)).date()

    @property
    def covered(self) -> list[TopicPlan]:
        return [t for t in self.topics if t.is_covered]

    @property
    def missing(self) -> list[TopicPlan]:
        return [t for t in self.topics if not t.is_covered]


def plan_topics(
    topics: Iterable[CurriculumTopic],
    booked_sessions: Iterable[Session],
    open_sessions: Iterable[Session],
    *,
    now: datetime,
    deadline: datetime,
    limit: int = SUGGESTIONS_PER_TOPIC,
) -> list[TopicPlan]:
    """Pure: topic -> covered-by / already booked / suggested sessions.

    ``booked_sessions`` are the patient's booked sessions (past and future); ``open_sessions`` are candidate
    sessions of the program. A suggestion starts after ``now``, ends by ``deadline``, is scheduled, has a free
    seat and is not one the patient already holds.
    """
    plans = {t.pk: TopicPlan(topic=t) for t in topics}
    booked_ids = set()
    for session in sorted(booked_sessions, key=lambda s: s.starts_at):
        booked_ids.add(session.pk)
        plan = plans.get(session.topic_id) if session.topic_id else None
        if plan is None or session.status != Session.Status.SCHEDULED:
            continue
        if session.ends_at <= now:
            plan.covered_by = session
        elif session.ends_at <= deadline:
            plan.booked.append(session)
    for session in sorted(open_sessions, key=lambda s: (s.starts_at, s.pk)):
        plan = plans.get(session.topic_id) if session.topic_id else None
        if (
            plan is None
            or plan.is_covered
            or plan.booked
            or len(plan.suggestions) >= limit
            or session.pk in booked_ids
            or session.status != Session.Status.SCHEDULED
            or session.starts_at <= now
            or session.ends_at > deadline
            or session.booked_count >= session.capacity
        ):
            continue
        plan.suggestions.append(session)
    return list(plans.values())


def episode_deadline(episode: EpisodeOfCare, now: datetime) -> datetime:
    """End of the expected discharge day in the program's zone; without one, the program's maximum length."""
    tz = episode.program.tz()
    if episode.expected_discharge_on is not None:
        last_day = episode.expected_discharge_on
    else:
        start = episode.admitted_on or now.astimezone(tz).date()
        last_day = start + timedelta(weeks=episode.program.max_length_weeks)
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz)


def curriculum_report(episode: EpisodeOfCare, *, now: datetime) -> CurriculumReport:
    """Three queries: the program's topics, the patient's booked topic sessions, the open topic sessions."""
    deadline = episode_deadline(episode, now)
    topics = list(CurriculumTopic.objects.filter(program_id=episode.program_id, is_active=True))
    related = ("track", "session_type", "room")
    booked = [
        b.session
        for b in Booking.objects.filter(
            episode__patient_id=episode.patient_id,
            session__program_id=episode.program_id,
            status=Booking.Status.BOOKED,
            session__topic__isnull=False,
        ).select_related(*(f"session__{r}" for r in related))
    ]
    covered_or_booked = {s.topic_id for s in booked if s.status == Session.Status.SCHEDULED and s.ends_at <= deadline}
    candidates = (
        Session.objects.filter(
            program_id=episode.program_id,
            status=Session.Status.SCHEDULED,
            topic__in=[t for t in topics if t.pk not in covered_or_booked],
            starts_at__gt=now,
            ends_at__lte=deadline,
        )
        .select_related(*related)
        .order_by("starts_at", "pk")
    )
    return CurriculumReport(
        episode=episode,
        deadline=deadline,
        topics=plan_topics(topics, booked, candidates, now=now, deadline=deadline),
    )
