"""The chart header's dose flag (registered in attendance/apps.py): this program-local week's attended and
scheduled hours against the minimum, per open episode in the user's programs. One episode query plus the dose
engine's five (``current_week_doses``), however many episodes or sessions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.http import request_user
from openiop.attendance.dose import current_week_doses
from openiop.attendance.report_views import STATUS_BADGE
from openiop.core.permissions import program_ids_for
from openiop.patients.models import EpisodeOfCare, Patient


def dose_flag(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    user = request_user(request)
    episodes = EpisodeOfCare.objects.filter(
        patient=patient,
        program_id__in=program_ids_for(user),
        status__in=[EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD],
    ).select_related("program__site", "track")
    loaded = list(episodes)
    for episode in loaded:
        episode.patient = patient  # the chart's own row: joining the patient again doubled the columns to load
    doses = current_week_doses(loaded, now=timezone.now())
    if not doses:
        return None
    return {
        "doses": [{"dose": d, "week": d.week, "badge": STATUS_BADGE[d.week.status]} for d in doses],
        "several": len(doses) > 1,
        "attendance_url": f"{patient.get_absolute_url()}?tab=attendance",
    }
