"""The chart header's measures flags (registered in measures/apps.py): open safety alerts with their Acknowledge
button, and the latest score and trend of each instrument. Each ``build`` runs one query, however many alerts,
instruments or administrations the patient has, so the chart's query budget does not grow with the record.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import get_token

from openiop.accounts.http import request_user
from openiop.core.roles import Cap
from openiop.measures import instruments
from openiop.measures.models import Administration, SafetyAlert
from openiop.measures.queries import administrations_for_user, alerts_for_user
from openiop.measures.schedules import family
from openiop.measures.trends import assess
from openiop.patients.models import Patient, before_admission


def alerts_flag(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    """Open (unacknowledged) alerts, newest first. The button shows only to users who may acknowledge
    (EDIT_CLINICAL, what ``alert_acknowledge`` requires); everyone else with VIEW_CLINICAL still sees the alert."""
    user = request_user(request)
    alerts = list(
        alerts_for_user(user)
        .filter(patient=patient, status=SafetyAlert.Status.OPEN)
        .select_related("administration", "episode__program")
        # What the banner shows; the full rows cost more to compile and load than to query.
        .only(
            "public_id",
            "reason",
            "risk",
            "created_at",
            "administration__instrument_code",
            "episode__program__time_zone",
        )
        .order_by("-created_at")
    )
    if not alerts:
        return None
    can_acknowledge = user.can(Cap.EDIT_CLINICAL)
    return {
        "alerts": [
            {
                "alert": a,
                "instrument": instruments.REGISTRY.get(a.administration.instrument_code),
                "raised_at": a.created_at.astimezone(a.episode.program.tz()),
            }
            for a in alerts
        ],
        "can_acknowledge": can_acknowledge,
        # Rendered without the request (patients_chart.chart_flags), so the form's token travels in the context.
        "csrf_token": get_token(request) if can_acknowledge else "",
    }


@dataclass(frozen=True)
class ScoreSummary:
    instrument: instruments.Instrument
    latest: int
    band: instruments.Band | None
    change: int | None  # latest - baseline, None with one score
    direction: str  # "worsening", "improving" (reliable change), "stable", "" with one score

    @property
    def arrow(self) -> str:
        # Lower is better for every shipped instrument: a rising total points up and is the bad direction.
        if self.change is None:
            return ""
        return "↑" if self.change > 0 else "↓" if self.change < 0 else "→"


def scores_flag(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    """Each instrument's latest total with its severity band and the change from baseline (``change.assess``)."""
    user = request_user(request)
    rows = (
        administrations_for_user(user)
        .filter(patient=patient, status=Administration.Status.COMPLETED, total__isnull=False)
        .select_related("episode__program")
        # What the badge and the trend (``Administration.when``) read.
        .only("instrument_code", "total", "prorated", "completed_at", "due_on", "episode__program__time_zone")
        .order_by("completed_at", "pk")
    )
    by_code: dict[str, list[Administration]] = defaultdict(list)
    for a in rows:
        code = family(a.instrument_code)
        if code in instruments.REGISTRY:
            by_code[code].append(a)
    order = list(instruments.REGISTRY)
    summaries = []
    for code in sorted(by_code, key=order.index):
        instrument = instruments.get(code)
        if not instrument.has_total:
            continue
        scored = by_code[code]
        latest = scored[-1].total
        assert latest is not None  # filtered above
        result = assess(instrument, scored)
        if result.change is None or instrument.reliable_change is None:
            direction = ""  # one score, or no published reliable change (the C-SSRS risk level)
        elif result.reliably_deteriorated:
            direction = "worsening"
        elif result.reliably_improved:
            direction = "improving"
        else:
            direction = "no reliable change"
        summaries.append(ScoreSummary(instrument, latest, instrument.band_for(latest), result.change, direction))
    if not summaries:
        return None
    return {"scores": summaries, "measures_url": f"{patient.get_absolute_url()}?tab=measures"}


def nothing_measured(patient: Patient, episodes: list[Any]) -> bool:
    """The Measures tab's ``hidden_when``: folded away before admission unless a questionnaire was already given
    (a waitlist screen stays reachable). The query runs only for a patient never admitted."""
    if not before_admission(patient, episodes):
        return False
    if not episodes:
        return True
    return not Administration.objects.filter(episode__in=[e.pk for e in episodes]).exists()
